package graph

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Tenant reaches every mailbox with application permissions. Build its
// Client with an app-only credential (entra.AppCredential).
type Tenant struct {
	c *Client
	// PageSize is how many users one page asks for, and events too up to
	// maxEventPage.
	PageSize int32
}

// maxEventPage bounds a page of events, which carry their whole bodies.
const maxEventPage = 100

var _ scheduler.TenantCalendars = (*Tenant)(nil)

// NewTenant returns a Tenant on an app-only client. Its pages of users are
// the largest Graph allows for /users, so that a tenant of a few hundred
// mailboxes is listed in one request.
func NewTenant(c *Client) *Tenant { return &Tenant{c: c, PageSize: 999} }

var userFields = []string{"id", "userPrincipalName", "displayName", "preferredLanguage"}

// tenantEventFields adds what a bulk job needs to tell series apart.
var tenantEventFields = append(append([]string{}, eventFields...), "type", "seriesMasterId")

func toUser(u models.Userable) scheduler.DirectoryUser {
	return scheduler.DirectoryUser{ID: str(u.GetId()), UPN: str(u.GetUserPrincipalName()), Name: str(u.GetDisplayName()), Language: str(u.GetPreferredLanguage())}
}

// Users returns one page of the tenant's users.
func (t *Tenant) Users(ctx context.Context, next string) ([]scheduler.DirectoryUser, string, error) {
	b := t.c.users()
	var cfg *users.UsersRequestBuilderGetRequestConfiguration
	if next != "" {
		b = b.WithUrl(next)
	} else {
		top := t.PageSize
		cfg = &users.UsersRequestBuilderGetRequestConfiguration{QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: userFields, Top: &top}}
	}
	resp, err := b.Get(ctx, cfg)
	if err != nil {
		return nil, "", graphError("GET users", err)
	}
	var out []scheduler.DirectoryUser
	for _, u := range resp.GetValue() {
		out = append(out, toUser(u))
	}
	return out, str(resp.GetOdataNextLink()), nil
}

// User looks one user up by ID or user principal name.
func (t *Tenant) User(ctx context.Context, idOrUPN string) (scheduler.DirectoryUser, error) {
	u, err := t.c.users().ByUserId(idOrUPN).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userFields},
	})
	if err != nil {
		return scheduler.DirectoryUser{}, graphError("GET user", err)
	}
	return toUser(u), nil
}

func fromTenantGraph(ev models.Eventable) scheduler.Event {
	out := fromGraph(ev)
	if typ := ev.GetTypeEscaped(); typ != nil {
		out.Type = typ.String()
	}
	out.SeriesMasterID = str(ev.GetSeriesMasterId())
	return out
}

// Meetings lists one page of the mailbox's events in [start, end) that
// carry our property; occurrences of a series come with their master's ID.
func (t *Tenant) Meetings(ctx context.Context, mailbox string, start, end time.Time, next string) ([]scheduler.Event, string, error) {
	b := t.c.user(mailbox).CalendarView()
	cfg := &users.ItemCalendarViewRequestBuilderGetRequestConfiguration{Headers: utcHeaders()}
	if next != "" {
		b = b.WithUrl(next)
	} else {
		s, e := start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
		filter := "singleValueExtendedProperties/Any(ep: ep/id eq '" + ConferenceProperty + "' and ep/value ne null)"
		top := min(t.PageSize, maxEventPage)
		cfg.QueryParameters = &users.ItemCalendarViewRequestBuilderGetQueryParameters{
			StartDateTime: &s, EndDateTime: &e, Filter: &filter, Select: tenantEventFields, Expand: expandProperty, Top: &top,
			Orderby: []string{"start/dateTime"},
		}
	}
	resp, err := b.Get(ctx, cfg)
	if err != nil {
		return nil, "", graphError("GET calendarView", err)
	}
	var out []scheduler.Event
	for _, ev := range resp.GetValue() {
		out = append(out, fromTenantGraph(ev))
	}
	return out, str(resp.GetOdataNextLink()), nil
}

// MailboxEvent reads one event with our property.
func (t *Tenant) MailboxEvent(ctx context.Context, mailbox, id string) (scheduler.Event, error) {
	ev, err := t.c.user(mailbox).Events().ByEventId(id).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		Headers:         utcHeaders(),
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: tenantEventFields, Expand: expandProperty},
	})
	if err != nil {
		return scheduler.Event{}, graphError("GET event", err)
	}
	return fromTenantGraph(ev), nil
}

// WriteBodies patches up to 20 event bodies in one $batch, each with
// If-Match, through the SDK's batch support. A failure of the batch as a
// whole is returned as an error; each write's own failure is its status.
func (t *Tenant) WriteBodies(ctx context.Context, writes []scheduler.BodyWrite) ([]scheduler.WriteResult, error) {
	adapter := t.c.adapter
	batch := msgraphcore.NewBatchRequest(adapter)
	ids := make([]string, len(writes))
	for i, w := range writes {
		body := w.Body
		h := abs.NewRequestHeaders()
		h.Add("If-Match", `W/"`+w.ChangeKey+`"`)
		info, err := t.c.user(w.Mailbox).Events().ByEventId(w.EventID).ToPatchRequestInformation(ctx,
			toGraphPatch(scheduler.EventPatch{BodyType: w.BodyType, Body: &body}),
			&users.ItemEventsEventItemRequestBuilderPatchRequestConfiguration{Headers: h})
		if err != nil {
			return nil, err
		}
		item, err := batch.AddBatchRequestStep(*info)
		if err != nil {
			return nil, err
		}
		ids[i] = str(item.GetId())
	}
	resp, err := batch.Send(ctx, adapter)
	if err != nil {
		return nil, graphError("POST $batch", err)
	}
	out := make([]scheduler.WriteResult, len(writes))
	for i, id := range ids {
		item := resp.GetResponseById(id)
		if item == nil || item.GetStatus() == nil {
			out[i] = scheduler.WriteResult{Status: http.StatusBadGateway}
			continue
		}
		out[i].Status = int(*item.GetStatus())
		for k, v := range item.GetHeaders() {
			if strings.EqualFold(k, "Retry-After") {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					out[i].RetryAfter = time.Duration(n) * time.Second
				}
			}
		}
	}
	return out, nil
}

// CalendarDelta follows the mailbox's calendarView delta from link (or,
// with "", from a new baseline over [start, end)) through every page.
func (t *Tenant) CalendarDelta(ctx context.Context, mailbox string, start, end time.Time, link string) ([]scheduler.EventChange, string, error) {
	b := t.c.user(mailbox).CalendarView().Delta()
	var cfg *users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration
	if link != "" {
		b = b.WithUrl(link)
	} else {
		s, e := start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)
		cfg = &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: &s, EndDateTime: &e},
		}
	}
	var out []scheduler.EventChange
	for {
		resp, err := b.GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			return nil, "", graphError("GET calendarView/delta", err)
		}
		for _, ev := range resp.GetValue() {
			_, removed := ev.GetAdditionalData()["@removed"]
			out = append(out, scheduler.EventChange{ID: str(ev.GetId()), Removed: removed})
		}
		if next := str(resp.GetOdataNextLink()); next != "" {
			b, cfg = b.WithUrl(next), nil
			continue
		}
		return out, str(resp.GetOdataDeltaLink()), nil
	}
}
