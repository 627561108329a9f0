package graph

import (
	"context"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ scheduler.Calendar = (*Client)(nil)

// ConferenceProperty is the single-value extended property that marks an
// event as carrying Web Scheduler join information; its value is the
// conference ID. The GUID is ours: a property set no one else uses.
const ConferenceProperty = "String {8c1f3e5a-2b4d-4f6a-9e7c-1d3b5f7a9c2e} Name WebScheduler.ConferenceId"

// meToken is the SDK's own placeholder: its URL-replace middleware turns
// /users/me-token-to-replace into /me, so one builder serves both paths.
const meToken = "me-token-to-replace"

var eventFields = []string{"id", "changeKey", "subject", "body", "location", "start", "end", "attendees", "organizer", "isOrganizer", "webLink", "isCancelled"}

var expandProperty = []string{"singleValueExtendedProperties($filter=id eq '" + ConferenceProperty + "')"}

// user is /users/{mailbox}, or /me for "".
func (c *Client) user(mailbox string) *users.UserItemRequestBuilder {
	if mailbox == "" {
		mailbox = meToken
	}
	return c.users().ByUserId(mailbox)
}

// me is /me.
func (c *Client) me() *users.UserItemRequestBuilder { return c.user("") }

// utcHeaders asks Graph to give times in UTC, so parsing needs no zone table.
func utcHeaders() *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", `outlook.timezone="UTC"`)
	return h
}

// Event reads one calendar item with our extended property.
func (c *Client) Event(ctx context.Context, p scheduler.Principal, mailbox, id string) (scheduler.Event, error) {
	ctx = entra.WithPrincipal(ctx, p)
	ev, err := c.user(mailbox).Events().ByEventId(id).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		Headers:         utcHeaders(),
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: eventFields, Expand: expandProperty},
	})
	if err != nil {
		return scheduler.Event{}, graphError("GET event", err)
	}
	return fromGraph(ev), nil
}

// UpdateEvent patches an event guarded by its change key (If-Match), so
// an edit made meanwhile in Outlook is never overwritten.
func (c *Client) UpdateEvent(ctx context.Context, p scheduler.Principal, mailbox, id, changeKey string, patch scheduler.EventPatch) (scheduler.Event, error) {
	ctx = entra.WithPrincipal(ctx, p)
	h := utcHeaders()
	if changeKey != "" {
		h.Add("If-Match", `W/"`+changeKey+`"`)
	}
	ev, err := c.user(mailbox).Events().ByEventId(id).Patch(ctx, toGraphPatch(patch), &users.ItemEventsEventItemRequestBuilderPatchRequestConfiguration{Headers: h})
	if err != nil {
		return scheduler.Event{}, graphError("PATCH event", err)
	}
	out := fromGraph(ev)
	if patch.ConferenceID != nil {
		out.ConferenceID = *patch.ConferenceID // PATCH answers without $expand
	}
	return out, nil
}

// CreateEvent creates a calendar item with attendees, body, location and
// our property in one request.
func (c *Client) CreateEvent(ctx context.Context, p scheduler.Principal, mailbox string, e scheduler.Event) (scheduler.Event, error) {
	ctx = entra.WithPrincipal(ctx, p)
	body := e.Body
	loc := e.Location
	start, end := e.Start, e.End
	ev := toGraphPatch(scheduler.EventPatch{BodyType: e.BodyType, Body: &body, Location: &loc, ConferenceID: &e.ConferenceID, Start: &start, End: &end, TimeZone: e.TimeZone})
	ev.SetSubject(&e.Subject)
	var atts []models.Attendeeable
	for _, a := range e.Attendees {
		att := models.NewAttendee()
		addr := models.NewEmailAddress()
		address := a.Address
		addr.SetAddress(&address)
		if a.Name != "" {
			name := a.Name
			addr.SetName(&name)
		}
		att.SetEmailAddress(addr)
		typ := models.REQUIRED_ATTENDEETYPE
		if a.Type == "optional" {
			typ = models.OPTIONAL_ATTENDEETYPE
		}
		att.SetTypeEscaped(&typ)
		atts = append(atts, att)
	}
	ev.SetAttendees(atts)
	created, err := c.user(mailbox).Events().Post(ctx, ev, &users.ItemEventsRequestBuilderPostRequestConfiguration{Headers: utcHeaders()})
	if err != nil {
		return scheduler.Event{}, graphError("POST event", err)
	}
	out := fromGraph(created)
	out.ConferenceID = e.ConferenceID
	return out, nil
}

// CancelEvent cancels a meeting, sending the comment to its attendees.
func (c *Client) CancelEvent(ctx context.Context, p scheduler.Principal, mailbox, id, comment string) error {
	ctx = entra.WithPrincipal(ctx, p)
	body := users.NewItemEventsItemCancelPostRequestBody()
	body.SetComment(&comment)
	if err := c.user(mailbox).Events().ByEventId(id).Cancel().Post(ctx, body, nil); err != nil {
		return graphError("POST event cancel", err)
	}
	return nil
}

// Events lists the items in [start, end) that carry our property, following
// every page.
func (c *Client) Events(ctx context.Context, p scheduler.Principal, mailbox string, start, end time.Time) ([]scheduler.Event, error) {
	ctx = entra.WithPrincipal(ctx, p)
	s, e := start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
	filter := "singleValueExtendedProperties/Any(ep: ep/id eq '" + ConferenceProperty + "' and ep/value ne null)"
	top := int32(50)
	b := c.user(mailbox).CalendarView()
	resp, err := b.Get(ctx, &users.ItemCalendarViewRequestBuilderGetRequestConfiguration{
		Headers: utcHeaders(),
		QueryParameters: &users.ItemCalendarViewRequestBuilderGetQueryParameters{
			StartDateTime: &s, EndDateTime: &e, Filter: &filter, Select: eventFields, Expand: expandProperty, Top: &top,
			Orderby: []string{"start/dateTime"},
		},
	})
	var out []scheduler.Event
	for {
		if err != nil {
			return nil, graphError("GET calendarView", err)
		}
		for _, ev := range resp.GetValue() {
			out = append(out, fromGraph(ev))
		}
		next := resp.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		resp, err = b.WithUrl(*next).Get(ctx, &users.ItemCalendarViewRequestBuilderGetRequestConfiguration{Headers: utcHeaders()})
	}
}

func toGraphPatch(p scheduler.EventPatch) *models.Event {
	ev := models.NewEvent()
	if p.Body != nil {
		b := models.NewItemBody()
		typ := models.HTML_BODYTYPE
		if p.BodyType == scheduler.BodyText {
			typ = models.TEXT_BODYTYPE
		}
		b.SetContentType(&typ)
		content := *p.Body
		b.SetContent(&content)
		ev.SetBody(b)
	}
	if p.Location != nil {
		l := models.NewLocation()
		name := *p.Location
		l.SetDisplayName(&name)
		ev.SetLocation(l)
	}
	if p.ConferenceID != nil {
		prop := models.NewSingleValueLegacyExtendedProperty()
		id, v := ConferenceProperty, *p.ConferenceID
		prop.SetId(&id)
		prop.SetValue(&v)
		ev.SetSingleValueExtendedProperties([]models.SingleValueLegacyExtendedPropertyable{prop})
	}
	zone := "UTC"
	for _, t := range []struct {
		v   *time.Time
		set func(models.DateTimeTimeZoneable)
	}{{p.Start, ev.SetStart}, {p.End, ev.SetEnd}} {
		if t.v == nil {
			continue
		}
		d := models.NewDateTimeTimeZone()
		s := t.v.UTC().Format("2006-01-02T15:04:05")
		d.SetDateTime(&s)
		d.SetTimeZone(&zone)
		t.set(d)
	}
	return ev
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// graphTime parses Graph's dateTime ("2026-11-25T10:00:00.0000000") in the
// zone the Prefer header asked for (UTC).
func graphTime(d models.DateTimeTimeZoneable) time.Time {
	if d == nil {
		return time.Time{}
	}
	s := str(d.GetDateTime())
	for _, layout := range []string{"2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", time.RFC3339Nano} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

func fromGraph(ev models.Eventable) scheduler.Event {
	out := scheduler.Event{
		ID: str(ev.GetId()), ChangeKey: str(ev.GetChangeKey()), Subject: str(ev.GetSubject()),
		Start: graphTime(ev.GetStart()), End: graphTime(ev.GetEnd()), TimeZone: "UTC", WebLink: str(ev.GetWebLink()),
	}
	if b := ev.GetIsOrganizer(); b != nil {
		out.IsOrganizer = *b
	}
	if b := ev.GetIsCancelled(); b != nil {
		out.IsCancelled = *b
	}
	if body := ev.GetBody(); body != nil {
		out.Body = str(body.GetContent())
		out.BodyType = scheduler.BodyHTML
		if ct := body.GetContentType(); ct != nil && *ct == models.TEXT_BODYTYPE {
			out.BodyType = scheduler.BodyText
		}
	}
	if l := ev.GetLocation(); l != nil {
		out.Location = str(l.GetDisplayName())
	}
	if o := ev.GetOrganizer(); o != nil && o.GetEmailAddress() != nil {
		out.Organizer = scheduler.Attendee{Name: str(o.GetEmailAddress().GetName()), Address: str(o.GetEmailAddress().GetAddress())}
	}
	for _, a := range ev.GetAttendees() {
		if a.GetEmailAddress() == nil {
			continue
		}
		att := scheduler.Attendee{Name: str(a.GetEmailAddress().GetName()), Address: str(a.GetEmailAddress().GetAddress())}
		if t := a.GetTypeEscaped(); t != nil {
			att.Type = strings.ToLower(t.String())
		}
		out.Attendees = append(out.Attendees, att)
	}
	for _, prop := range ev.GetSingleValueExtendedProperties() {
		if strings.EqualFold(str(prop.GetId()), ConferenceProperty) {
			out.ConferenceID = str(prop.GetValue())
		}
	}
	return out
}
