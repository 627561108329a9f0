package emugraph

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// RouteCalendarDelta names GET .../calendarView/delta for faults and Hits.
const RouteCalendarDelta = "calendarView.delta"

// deltaState is what a delta token remembers: the window and each event's
// change key when the token was handed out. It travels in the token itself,
// so the emulator keeps no state per client, as Graph's opaque tokens allow.
type deltaState struct {
	Start time.Time         `json:"s"`
	End   time.Time         `json:"e"`
	Keys  map[string]string `json:"k"`
}

// calendarDelta serves calendarView/delta: without $deltatoken every event
// in the window (the baseline), with one the events created or changed
// since, and {"id", "@removed"} for those deleted or moved out of the window.
// The spec subset does not cover delta; responses are events checked by
// hand like calendarView's.
func (c *call) calendarDelta() {
	if !c.allowQuery("$deltatoken") {
		return
	}
	q := c.r.URL.Query()
	var prev *deltaState
	var from, to time.Time
	if tok := q.Get("$deltatoken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		prev = &deltaState{}
		if err != nil || json.Unmarshal(raw, prev) != nil {
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "The delta token is invalid."))
			return
		}
		from, to = prev.Start, prev.End
	} else {
		var aerr *apiError
		if from, to, aerr = window(q); aerr != nil {
			c.fail(aerr)
			return
		}
	}
	next := deltaState{Start: from, End: to, Keys: map[string]string{}}
	v := view{p: parsePrefer(c.r.Header)}
	values := []any{}
	c.s.mu.Lock()
	for _, e := range c.mailbox().events {
		if !(e.start.Before(to) && e.end.After(from)) {
			continue
		}
		next.Keys[e.id] = e.changeKey
		if prev == nil || prev.Keys[e.id] != e.changeKey {
			values = append(values, c.s.eventJSON(e, v))
		}
	}
	c.s.mu.Unlock()
	if prev != nil {
		var gone []string
		for id := range prev.Keys {
			if _, ok := next.Keys[id]; !ok {
				gone = append(gone, id)
			}
		}
		slices.Sort(gone)
		for _, id := range gone {
			values = append(values, map[string]any{"id": id, "@removed": map[string]any{"reason": "deleted"}})
		}
	}
	tok, _ := json.Marshal(next)
	link := c.root + "/users/" + url.PathEscape(c.owner.ID) + "/calendarView/delta?$deltatoken=" + base64.RawURLEncoding.EncodeToString(tok)
	c.reply(http.StatusOK, map[string]any{
		"@odata.context":   c.eventContext("calendarView", nil, false),
		"@odata.deltaLink": link,
		"value":            values,
	})
}

// MoveEvent changes an event's times as another client would (Outlook, a
// phone): the change key moves on, so delta reports it.
func (s *Server) MoveEvent(user, id string, start, end time.Time) error {
	return s.editEvent(user, id, func(mb *mailbox, i int) {
		e := mb.events[i].clone()
		e.start, e.end = start.UTC(), end.UTC()
		e.touch(s.now())
		mb.events[i] = e
	})
}

// RemoveEvent deletes an event as another client would.
func (s *Server) RemoveEvent(user, id string) error {
	return s.editEvent(user, id, func(mb *mailbox, i int) {
		mb.events = slices.Delete(mb.events, i, i+1)
	})
}

func (s *Server) editEvent(user, id string, edit func(mb *mailbox, i int)) error {
	u := s.lookupUser(user)
	if u == nil {
		return fmt.Errorf("emugraph: no user %q", user)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mailboxes[u.ID]
	i, aerr := mb.find(id)
	if aerr != nil {
		return fmt.Errorf("emugraph: event %q: %w", id, aerr)
	}
	edit(mb, i)
	return nil
}
