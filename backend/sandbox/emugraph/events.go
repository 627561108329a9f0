package emugraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The calendar routes: list (/events, /calendar/events), calendarView, get,
// create, update, delete and cancel, plus the Server methods the sandbox and
// tests use to look into and change mailboxes.

func (c *call) eventContext(set string, selects []string, entity bool) string {
	ctx := c.root + "/$metadata#users('" + c.owner.ID + "')/" + set
	if len(selects) > 0 {
		ctx += "(" + strings.Join(selects, ",") + ")"
	}
	if entity {
		ctx += "/$entity"
	}
	return ctx
}

func (c *call) preferenceApplied(p prefs) {
	if len(p.applied) > 0 {
		c.w.Header().Set("Preference-Applied", strings.Join(p.applied, ","))
	}
}

// replyEvent answers one event with its ETag, as Graph does.
func (c *call) replyEvent(status int, e *event, v view) {
	m := c.s.eventJSON(e, v)
	m["@odata.context"] = c.eventContext("events", v.selects, true)
	c.w.Header().Set("ETag", e.etag())
	c.preferenceApplied(v.p)
	c.reply(status, m)
}

func (c *call) mailbox() *mailbox { return c.s.mailboxes[c.owner.ID] }

// find returns the index of the event with id, or Graph's error for it.
func (mb *mailbox) find(id string) (int, *apiError) {
	if !validEventID(id) {
		return 0, errorf(http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed.")
	}
	for i, e := range mb.events {
		if e.id == id {
			return i, nil
		}
	}
	return 0, errorf(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
}

func (c *call) listEvents()   { c.listing("events") }
func (c *call) calendarView() { c.listing("calendarView") }

// listing serves /events and /calendarView: filter, order, page.
func (c *call) listing(set string) {
	if !c.allowQuery("$top", "$skip", "$select", "$orderby", "$filter", "$expand", "$count") {
		return
	}
	q := c.r.URL.Query()
	eq, aerr := parseEventQuery(q)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	inWindow := func(*event) bool { return true }
	if set == "calendarView" {
		from, to, aerr := window(q)
		if aerr != nil {
			c.fail(aerr)
			return
		}
		// Overlap, counting an instant event at the window's start.
		inWindow = func(e *event) bool {
			return e.start.Before(to) && (e.end.After(from) || e.start.Equal(e.end) && !e.start.Before(from))
		}
	}
	p := parsePrefer(c.r.Header)
	size := eq.top
	if !eq.topSet && p.maxPage > 0 {
		size = p.maxPage
	}
	v := view{p: p, selects: eq.selects, expand: eq.expand}

	c.s.mu.Lock()
	var hits []*event
	for _, e := range c.mailbox().events {
		if inWindow(e) && (eq.filter == nil || eq.filter(e)) {
			hits = append(hits, e)
		}
	}
	sortEvents(hits, eq.orderBy)
	total := len(hits)
	page := hits[min(eq.skip, total):min(eq.skip+size, total)]
	values := make([]any, len(page))
	for i, e := range page {
		values[i] = c.s.eventJSON(e, v)
	}
	c.s.mu.Unlock()

	out := map[string]any{"@odata.context": c.eventContext(set, eq.selects, false), "value": values}
	if eq.count {
		out["@odata.count"] = total
	}
	if len(page) > 0 && eq.skip+len(page) < total {
		out["@odata.nextLink"] = nextLink(c.root, c.r, eq.skip+len(page))
	}
	c.preferenceApplied(p)
	c.reply(http.StatusOK, out)
}

// window reads calendarView's required startDateTime and endDateTime; a value
// without an offset is UTC, and Prefer: outlook.timezone does not apply.
func window(q url.Values) (from, to time.Time, aerr *apiError) {
	get := func(name string) (time.Time, *apiError) {
		for k, v := range q {
			if strings.EqualFold(k, name) && len(v) > 0 && v[0] != "" {
				t, ok := parseLocal(v[0], time.UTC)
				if !ok {
					return t, errorf(http.StatusBadRequest, "ErrorInvalidParameter", "The value '%s' of parameter '%s' is invalid.", v[0], name)
				}
				return t, nil
			}
		}
		return time.Time{}, errorf(http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
	}
	if from, aerr = get("startDateTime"); aerr != nil {
		return
	}
	to, aerr = get("endDateTime")
	return
}

func sortEvents(list []*event, keys []orderKey) {
	if len(keys) == 0 {
		keys = []orderKey{{field: "start/dateTime"}}
	}
	slices.SortStableFunc(list, func(a, b *event) int {
		for _, k := range keys {
			var d int
			switch k.field {
			case "start/dateTime":
				d = a.start.Compare(b.start)
			case "end/dateTime":
				d = a.end.Compare(b.end)
			case "createdDateTime":
				d = a.created.Compare(b.created)
			case "lastModifiedDateTime":
				d = a.modified.Compare(b.modified)
			case "subject":
				d = strings.Compare(strings.ToLower(a.subject()), strings.ToLower(b.subject()))
			}
			if k.desc {
				d = -d
			}
			if d != 0 {
				return d
			}
		}
		return 0
	})
}

func (e *event) subject() string {
	var s string
	_ = json.Unmarshal(e.props["subject"], &s)
	return s
}

func (c *call) getEvent() {
	if !c.allowQuery("$select", "$expand") {
		return
	}
	eq, aerr := parseEventQuery(c.r.URL.Query())
	if aerr != nil {
		c.fail(aerr)
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	i, aerr := mb.find(c.id)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	c.replyEvent(http.StatusOK, mb.events[i], view{p: parsePrefer(c.r.Header), selects: eq.selects, expand: eq.expand})
}

func (c *call) createEvent() {
	if !c.allowQuery() {
		return
	}
	var in map[string]json.RawMessage
	if !c.decode(&in) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	v := view{p: parsePrefer(c.r.Header)}
	// A repeated transactionId returns the event created the first time, so a
	// client's retry of a create that timed out does not duplicate it.
	if tx, ok := in["transactionId"]; ok && string(tx) != "null" {
		for _, e := range mb.events {
			if bytes.Equal(e.props["transactionId"], compact(tx)) {
				c.replyEvent(http.StatusCreated, e, v)
				return
			}
		}
	}
	e, aerr := c.s.newEvent(in, editor{owner: c.owner, tenant: c.caller.TenantID})
	if aerr != nil {
		c.fail(aerr)
		return
	}
	mb.events = append(mb.events, e)
	c.w.Header().Set("Location", c.root+"/Users('"+c.owner.ID+"')/Events('"+e.id+"')")
	c.replyEvent(http.StatusCreated, e, v)
}

// ifMatch checks an If-Match header against the event's ETag.
func (c *call) ifMatch(e *event) *apiError {
	m := c.r.Header.Get("If-Match")
	if m == "" || m == "*" || m == e.etag() {
		return nil
	}
	return errorf(http.StatusPreconditionFailed, "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
}

func (c *call) updateEvent() {
	if !c.allowQuery() {
		return
	}
	var in map[string]json.RawMessage
	if !c.decode(&in) {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	i, ok := c.findToChange(mb)
	if !ok {
		return
	}
	e := mb.events[i].clone()
	if aerr := c.s.applyEvent(e, in, editor{owner: c.owner, tenant: c.caller.TenantID}, false); aerr != nil {
		c.fail(aerr)
		return
	}
	e.touch(c.s.now())
	mb.events[i] = e
	c.replyEvent(http.StatusOK, e, view{p: parsePrefer(c.r.Header)})
}

// findToChange finds the addressed event for a change, honouring If-Match;
// on failure it has answered and returns false. The caller holds s.mu.
func (c *call) findToChange(mb *mailbox) (int, bool) {
	i, aerr := mb.find(c.id)
	if aerr == nil {
		aerr = c.ifMatch(mb.events[i])
	}
	if aerr != nil {
		c.fail(aerr)
		return 0, false
	}
	return i, true
}

func (c *call) deleteEvent() {
	if !c.allowQuery() {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	i, ok := c.findToChange(mb)
	if !ok {
		return
	}
	mb.events = slices.Delete(mb.events, i, i+1)
	c.w.WriteHeader(http.StatusNoContent)
}

// cancelEvent serves POST .../events/{id}/cancel, which the spec subset does
// not cover: its body ({"Comment"}) is checked by hand. Graph sends the
// attendees a cancellation and moves the organizer's item to Deleted Items,
// so it disappears from the calendar.
func (c *call) cancelEvent() {
	if !c.allowQuery() {
		return
	}
	var in map[string]json.RawMessage
	if len(bytes.TrimSpace(c.body)) > 0 && !c.decode(&in) {
		return
	}
	for k, v := range in {
		var comment *string
		if !strings.EqualFold(k, "Comment") {
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "The parameter '%s' in the request payload is not a valid parameter for the operation 'cancel'.", k))
			return
		}
		if err := json.Unmarshal(v, &comment); err != nil {
			c.fail(bodyReadError(k, err))
			return
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	i, aerr := mb.find(c.id)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	if !mb.events[i].isOrganizer {
		c.fail(errorf(http.StatusBadRequest, "ErrorInvalidRequest", "Your request can't be completed. You need to be an organizer to cancel a meeting."))
		return
	}
	mb.events = slices.Delete(mb.events, i, i+1)
	c.w.WriteHeader(http.StatusAccepted)
}

// Events returns a mailbox's events (user is an ID or UPN) as Graph JSON in
// UTC, with every extended property, for the sandbox's inspection route.
func (s *Server) Events(user string) ([]json.RawMessage, error) {
	u := s.lookupUser(user)
	if u == nil {
		return nil, fmt.Errorf("emugraph: no user %q", user)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := slices.Clone(s.mailboxes[u.ID].events)
	sortEvents(list, nil)
	out := make([]json.RawMessage, len(list))
	for i, e := range list {
		out[i] = mustJSON(s.eventJSON(e, view{p: prefs{loc: time.UTC}, allExt: true}))
	}
	return out, nil
}

// AddEvent seeds an event (Graph JSON, as for POST .../events) into a mailbox.
// Unlike a client, a seed may set "organizer" to someone else, which makes
// the item an attendee's copy (isOrganizer false).
func (s *Server) AddEvent(user string, ev json.RawMessage) (string, error) {
	u := s.lookupUser(user)
	if u == nil {
		return "", fmt.Errorf("emugraph: no user %q", user)
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(ev, &in); err != nil {
		return "", fmt.Errorf("emugraph: seed event: %w", err)
	}
	if s.spec != nil {
		var value any
		_ = json.Unmarshal(ev, &value)
		if err := s.spec.checkBody("microsoft.graph.event", value); err != nil {
			return "", fmt.Errorf("emugraph: seed event: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, aerr := s.newEvent(in, editor{owner: u, seeding: true})
	if aerr != nil {
		return "", fmt.Errorf("emugraph: seed event: %w", aerr)
	}
	s.mailboxes[u.ID].events = append(s.mailboxes[u.ID].events, e)
	return e.id, nil
}

// SetEventBody replaces an event's body as another client (Outlook, OWA,
// Exchange itself) would: an HTML content is stored verbatim, as that client
// already wrote it the way Exchange keeps it; text is converted to HTML as
// Exchange does. The change key moves on, so stale If-Match writes fail.
func (s *Server) SetEventBody(user, id, contentType, content string) error {
	u := s.lookupUser(user)
	if u == nil {
		return fmt.Errorf("emugraph: no user %q", user)
	}
	switch contentType {
	case "html":
	case "text":
		content = textToHTML(content)
	default:
		return fmt.Errorf("emugraph: content type %q is neither html nor text", contentType)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mailboxes[u.ID]
	i, aerr := mb.find(id)
	if aerr != nil {
		return fmt.Errorf("emugraph: event %q: %w", id, aerr)
	}
	e := mb.events[i].clone()
	e.body = itemBody{ContentType: "html", Content: content}
	e.touch(s.now())
	mb.events[i] = e
	return nil
}
