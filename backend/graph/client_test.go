package graph_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/graph"
	"github.com/webscheduler/webscheduler/backend/oracle"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

const (
	adeleID = "5f6b3a2c-1d4e-4b8a-9c0d-0a1b2c3d4e5f"
	alexID  = "8e7d6c5b-4a39-4281-8f0e-1d2c3b4a5968"
	tenant  = "0f1e2d3c-4b5a-4c6d-8e9f-a0b1c2d3e4f5"
)

// token is a stub bearer token the emulator's authenticator below reads:
// "user=<id>" (delegated, every scope the product asks for) or "app".
type token string

func (t token) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func authenticate(r *http.Request) (emugraph.Caller, error) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "app" {
		return emugraph.Caller{TenantID: tenant, Roles: []string{"User.Read.All", "Calendars.ReadWrite"}}, nil
	}
	if id, ok := strings.CutPrefix(tok, "user="); ok {
		return emugraph.Caller{UserID: id, TenantID: tenant, Scopes: []string{"User.Read", "User.ReadBasic.All",
			"Calendars.ReadWrite", "MailboxSettings.Read", "OnlineMeetings.ReadWrite"}}, nil
	}
	return emugraph.Caller{}, errors.New("no stub token")
}

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// env is the emulated Graph, with the SdkVersion headers it was sent.
type env struct {
	srv  *emugraph.Server
	base string
	mu   sync.Mutex
	sdk  []string // SdkVersion headers seen
}

// newEnv starts the emulated Graph; withSpec makes it check every request
// and response against Microsoft's OpenAPI description (skipping the test
// when that oracle is absent).
func newEnv(t *testing.T, withSpec bool) *env {
	t.Helper()
	var doc *openapi3.T
	if withSpec {
		path := oracle.Path(t, "graph-openapi-subset.yaml")
		specOnce.Do(func() { specDoc, specErr = emugraph.LoadSpec(path) })
		if specErr != nil {
			t.Fatal(specErr)
		}
		doc = specDoc
	}
	s, err := emugraph.New(emugraph.Options{Authenticate: authenticate, Spec: doc, Users: []emugraph.User{
		{ID: adeleID, UPN: "adele.vance@contoso.example", DisplayName: "Adele Vance", GivenName: "Adele", Surname: "Vance",
			Mail: "Adele.Vance@contoso.example", PreferredLanguage: "en-US", TimeZone: "Pacific Standard Time",
			ProxyAddresses: []string{"SMTP:Adele.Vance@contoso.example", "SIP:adele.vance@contoso.example"}},
		{ID: alexID, UPN: "alex.wilber@contoso.example", DisplayName: "Alex Wilber", Mail: "Alex.Wilber@contoso.example"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: s}
	h := s.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.sdk = append(e.sdk, r.Header.Get("SdkVersion"))
		e.mu.Unlock()
		http.StripPrefix("/graph", h).ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if errs := s.ValidationErrors(); len(errs) > 0 {
			t.Errorf("responses that fail the schema:\n%s", strings.Join(errs, "\n"))
		}
	})
	e.base = ts.URL + "/graph/v1.0"
	return e
}

func (e *env) client(t *testing.T, tok token) *graph.Client {
	t.Helper()
	c, err := graph.New(graph.Config{BaseURL: e.base, Credential: tok})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var adele = scheduler.Principal{OID: adeleID, TID: tenant}

func TestDelegated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	c := e.client(t, "user="+adeleID)
	ctx := context.Background()

	me, err := c.Me(ctx, adele)
	if err != nil || me.ID != adeleID || me.PrimarySMTP != "Adele.Vance@contoso.example" || me.SIPAddress != "adele.vance@contoso.example" || me.PreferredLanguage != "en-US" {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	if tz, err := c.MailboxTimeZone(ctx, adele); err != nil || tz != "Pacific Standard Time" {
		t.Errorf("MailboxTimeZone = %q, %v", tz, err)
	}
	if people, err := c.FindPeople(ctx, adele, "alex", 5); err != nil || len(people) != 1 || people[0].Address != "Alex.Wilber@contoso.example" {
		t.Errorf("FindPeople = %+v, %v", people, err)
	}
	if u, err := c.User(ctx, adele, "alex.wilber@contoso.example"); err != nil || u.ID != alexID {
		t.Errorf("User = %+v, %v", u, err)
	}
	if _, err := c.User(ctx, adele, "nobody@contoso.example"); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("User(unknown) = %v, want not_found", err)
	}

	start := time.Date(2030, 3, 4, 10, 0, 0, 0, time.UTC)
	ev, err := c.CreateEvent(ctx, adele, "", scheduler.Event{Subject: "Plan", BodyType: scheduler.BodyHTML, Body: "<p>hi</p>",
		Location: "Room", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", ConferenceID: "123",
		Attendees: []scheduler.Attendee{{Address: "alex.wilber@contoso.example", Type: "optional"}}})
	if err != nil || ev.ID == "" || ev.ChangeKey == "" || !ev.Start.Equal(start) {
		t.Fatalf("CreateEvent = %+v, %v", ev, err)
	}
	got, err := c.Event(ctx, adele, "", ev.ID)
	if err != nil || got.ConferenceID != "123" || got.Location != "Room" || len(got.Attendees) != 1 || got.Attendees[0].Type != "optional" {
		t.Fatalf("Event = %+v, %v", got, err)
	}
	body := "<p>joined</p>"
	upd, err := c.UpdateEvent(ctx, adele, "", ev.ID, got.ChangeKey, scheduler.EventPatch{BodyType: scheduler.BodyHTML, Body: &body})
	if err != nil || upd.ChangeKey == got.ChangeKey || !strings.Contains(upd.Body, "joined") {
		t.Fatalf("UpdateEvent = %+v, %v", upd, err)
	}
	if _, err := c.UpdateEvent(ctx, adele, "", ev.ID, got.ChangeKey, scheduler.EventPatch{Body: &body}); scheduler.ErrorCode(err) != scheduler.ECodePreconditionFail {
		t.Errorf("UpdateEvent with a stale change key = %v, want precondition_failed", err)
	}
	if list, err := c.Events(ctx, adele, "", start.Add(-time.Hour), start.Add(2*time.Hour)); err != nil || len(list) != 1 || list[0].ConferenceID != "123" {
		t.Errorf("Events = %+v, %v", list, err)
	}
	if err := c.CancelEvent(ctx, adele, "", ev.ID, "off"); err != nil {
		t.Errorf("CancelEvent: %v", err)
	}

	m, err := c.CreateOrGet(ctx, adele, "ext-1", "Plan", start, start.Add(time.Hour))
	if err != nil || m.ID == "" || m.JoinURL == "" {
		t.Fatalf("CreateOrGet = %+v, %v", m, err)
	}
	if again, err := c.CreateOrGet(ctx, adele, "ext-1", "Plan", start, start.Add(time.Hour)); err != nil || again.ID != m.ID {
		t.Errorf("CreateOrGet again = %+v, %v; want %s", again, err, m.ID)
	}
	err = c.UpdateOnlineMeeting(ctx, adele, m.ID, conferencing.OnlineMeetingUpdate{Start: start, End: start.Add(time.Hour),
		Lobby: "invited", Presenters: "roleIsPresenter", PresenterList: []string{"alex.wilber@contoso.example"}})
	if err != nil {
		t.Errorf("UpdateOnlineMeeting: %v", err)
	}
	if err := c.DeleteOnlineMeeting(ctx, adele, m.ID); err != nil {
		t.Errorf("DeleteOnlineMeeting: %v", err)
	}
	if err := c.DeleteOnlineMeeting(ctx, adele, m.ID); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("DeleteOnlineMeeting again = %v, want not_found", err)
	}

	// The telemetry header names the SDK's version in go.mod, as the
	// SDK's own client did.
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	_, v, _ := strings.Cut(string(mod), "github.com/microsoftgraph/msgraph-sdk-go v")
	v, _, _ = strings.Cut(v, "\n")
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, h := range e.sdk {
		if !strings.HasPrefix(h, "graph-go/"+v+", graph-go-core/") {
			t.Fatalf("SdkVersion = %q, want graph-go/%s, graph-go-core/…", h, v)
		}
	}
}

func TestTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	start := time.Date(2030, 3, 4, 10, 0, 0, 0, time.UTC)
	var ids []string
	for _, subject := range []string{"A", "B"} {
		ev, err := e.client(t, "user="+adeleID).CreateEvent(ctx, adele, "", scheduler.Event{Subject: subject, BodyType: scheduler.BodyHTML,
			Body: "<p>old</p>", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", ConferenceID: "c-" + subject})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}

	tn := graph.NewTenant(e.client(t, "app"))
	tn.PageSize = 1
	users, next, err := tn.Users(ctx, "")
	if err != nil || len(users) != 1 || next == "" {
		t.Fatalf("Users = %+v, %q, %v", users, next, err)
	}
	if more, _, err := tn.Users(ctx, next); err != nil || len(more) != 1 || more[0].ID == users[0].ID {
		t.Errorf("Users(next) = %+v, %v", more, err)
	}
	if u, err := tn.User(ctx, "adele.vance@contoso.example"); err != nil || u.ID != adeleID || u.Language != "en-US" {
		t.Errorf("User = %+v, %v", u, err)
	}
	page, next, err := tn.Meetings(ctx, adeleID, start.Add(-time.Hour), start.Add(2*time.Hour), "")
	if err != nil || len(page) != 1 || next == "" || page[0].Type != "singleInstance" {
		t.Fatalf("Meetings = %+v, %q, %v", page, next, err)
	}
	if page, _, err = tn.Meetings(ctx, adeleID, time.Time{}, time.Time{}, next); err != nil || len(page) != 1 {
		t.Errorf("Meetings(next) = %+v, %v", page, err)
	}
	ev, err := tn.MailboxEvent(ctx, adeleID, ids[0])
	if err != nil || ev.ConferenceID != "c-A" {
		t.Fatalf("MailboxEvent = %+v, %v", ev, err)
	}
	_, link, err := tn.CalendarDelta(ctx, adeleID, start.Add(-time.Hour), start.Add(2*time.Hour), "")
	if err != nil || link == "" {
		t.Fatalf("CalendarDelta = %q, %v", link, err)
	}

	res, err := tn.WriteBodies(ctx, []scheduler.BodyWrite{
		{Mailbox: adeleID, EventID: ids[0], ChangeKey: ev.ChangeKey, BodyType: scheduler.BodyHTML, Body: "<p>new</p>"},
		{Mailbox: adeleID, EventID: ids[1], ChangeKey: "stale", BodyType: scheduler.BodyHTML, Body: "<p>new</p>"},
	})
	if err != nil || len(res) != 2 || res[0].Status != http.StatusOK || res[1].Status != http.StatusPreconditionFailed {
		t.Fatalf("WriteBodies = %+v, %v", res, err)
	}
	if changes, _, err := tn.CalendarDelta(ctx, adeleID, time.Time{}, time.Time{}, link); err != nil || len(changes) != 1 || changes[0].ID != ids[0] {
		t.Errorf("CalendarDelta(link) = %+v, %v", changes, err)
	}
}

// TestClientsBuiltDuringRequests builds clients while another client's
// requests are in flight, as the service does (user and app-only
// clients): under -race it fails if building a client writes a global that
// requests read (msgraph-sdk-go's own client constructor did). The new
// clients send nothing until the end, so no lock of the HTTP path orders
// their construction before the requests.
func TestClientsBuiltDuringRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	c := e.client(t, "user="+adeleID)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 10 {
			if _, err := c.Me(ctx, adele); err != nil {
				t.Error(err)
			}
		}
	})
	built := make(chan *graph.Client, 4)
	for range cap(built) {
		wg.Go(func() {
			nc, err := graph.New(graph.Config{BaseURL: e.base, Credential: token("user=" + alexID)})
			if err != nil {
				t.Error(err)
			}
			built <- nc
		})
	}
	wg.Wait()
	close(built)
	for nc := range built {
		if me, err := nc.Me(ctx, scheduler.Principal{OID: alexID, TID: tenant}); err != nil || me.ID != alexID {
			t.Errorf("Me = %+v, %v", me, err)
		}
	}
}
