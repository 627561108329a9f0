package meeting_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// delegateCalendar is fakeCalendar with mailboxes: writes to refused are
// denied, as Graph denies someone without delegate access.
type delegateCalendar struct {
	fakeCalendar
	refused   string
	mailboxes []string
}

func (d *delegateCalendar) CreateEvent(ctx context.Context, p scheduler.Principal, mailbox string, e scheduler.Event) (scheduler.Event, error) {
	d.mailboxes = append(d.mailboxes, mailbox)
	if d.refused != "" && mailbox == d.refused {
		return scheduler.Event{}, scheduler.Errorf(scheduler.ECodeForbidden, "You do not have access to that calendar.")
	}
	return d.fakeCalendar.CreateEvent(ctx, p, mailbox, e)
}

// users finds people by object ID or UPN, as Graph's /users/{id} does.
type users []scheduler.Profile

func (u users) User(_ context.Context, _ scheduler.Principal, id string) (scheduler.Profile, error) {
	for _, prof := range u {
		if prof.ID == id || prof.UserPrincipalName == id {
			return prof, nil
		}
	}
	return scheduler.Profile{}, scheduler.ErrNotFound
}

func delegateService(t *testing.T, cal *delegateCalendar) (*meeting.Service, *recordingStore) {
	t.Helper()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	store := &recordingStore{Store: inmem.New()}
	return &meeting.Service{
		Conferences: store, Idempotency: store, Calendar: cal, Templates: joininfo.DefaultTemplates(), Box: box,
		Provider: conferencing.NewTemplate(conferencing.SandboxSettings("http://localhost:8080"), box),
		Users: users{
			scheduler.NewProfile("oid-alex", "Alex Wilber", "", "", "alex@contoso.example", "alex@contoso.example", "", nil),
			scheduler.NewProfile("oid-megan", "Megan Bowen", "", "", "megan@contoso.example", "megan@contoso.example", "", nil),
		},
	}, store
}

var (
	adelePrincipal = scheduler.Principal{OID: "oid-adele", TID: "tid"}
	adeleProfile   = scheduler.NewProfile("oid-adele", "Adele Vance", "", "", "adele@contoso.example", "adele@contoso.example", "en-US", nil)
)

func delegateRequest(mailbox string) meeting.Request {
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	return meeting.Request{Subject: "For Alex", Start: start, End: start.Add(time.Hour), CreateEvent: true, Mailbox: mailbox}
}

// A delegate's meeting goes into the owner's mailbox, names the owner as
// organizer, and belongs to the owner.
func TestDelegateSchedulesForTheOwner(t *testing.T) {
	t.Parallel()
	cal := &delegateCalendar{}
	s, store := delegateService(t, cal)
	m, err := s.Create(context.Background(), adelePrincipal, adeleProfile, delegateRequest("alex@contoso.example"), "")
	if err != nil {
		t.Fatal(err)
	}
	if m.Mailbox != "oid-alex" || cal.mailboxes[0] != "oid-alex" || !strings.Contains(m.JoinInfo.Text, "Alex Wilber") || strings.Contains(m.JoinInfo.Text, "Adele") {
		t.Fatalf("meeting %+v in %v", m, cal.mailboxes)
	}
	c, err := store.ConferenceByMeeting(context.Background(), m.ID)
	if err != nil || c.OrganizerOID != "oid-alex" || c.Mailbox != "oid-alex" {
		t.Fatalf("stored %+v, %v", c, err)
	}
	// The owner and the delegate (who can still read the item) reach it;
	// someone else does not.
	alex := scheduler.Principal{OID: "oid-alex", TID: "tid"}
	for _, p := range []scheduler.Principal{alex, adelePrincipal} {
		if _, err := s.Get(context.Background(), p, adeleProfile, m.ID, ""); err != nil {
			t.Errorf("%s: %v", p.OID, err)
		}
	}
	cal.mu.Lock()
	delete(cal.events, m.EventID) // as if Graph no longer showed Adele the item
	cal.mu.Unlock()
	if _, err := s.Get(context.Background(), adelePrincipal, adeleProfile, m.ID, ""); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("a delegate who lost access: %v", err)
	}
	if _, err := s.Get(context.Background(), scheduler.Principal{OID: "oid-megan", TID: "tid"}, adeleProfile, m.ID, ""); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("a stranger: %v", err)
	}
}

// Without access nothing is kept: the conference is freed and forgotten,
// and the same idempotency key may run afresh.
func TestRefusedDelegateKeepsNothing(t *testing.T) {
	t.Parallel()
	cal := &delegateCalendar{refused: "oid-megan"}
	s, store := delegateService(t, cal)
	for range 2 {
		_, err := s.Create(context.Background(), adelePrincipal, adeleProfile, delegateRequest("megan@contoso.example"), "key-1")
		if scheduler.ErrorCode(err) != scheduler.ECodeForbidden {
			t.Fatalf("err = %v", err)
		}
	}
	if len(store.writes) != 2 {
		t.Fatalf("%d conference writes, want one per attempt", len(store.writes))
	}
	for _, w := range store.writes {
		var c scheduler.Conference
		_ = json.Unmarshal([]byte(w), &c)
		if _, err := store.ConferenceByMeeting(context.Background(), c.MeetingID); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
			t.Errorf("conference %s kept: %v", c.MeetingID, err)
		}
	}
	if _, err := s.Create(context.Background(), adelePrincipal, adeleProfile, delegateRequest("nobody@contoso.example"), ""); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("unknown owner: %v", err)
	}
}

func TestDialInRegion(t *testing.T) {
	t.Parallel()
	s, _ := delegateService(t, &delegateCalendar{})
	all, err := s.Create(context.Background(), adelePrincipal, adeleProfile, delegateRequest(""), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all.DialIn) < 2 {
		t.Fatalf("the sandbox settings have %d numbers", len(all.DialIn))
	}
	region := all.DialIn[len(all.DialIn)-1].Region
	req := delegateRequest("")
	req.Options.DialInRegion = region
	m, err := s.Create(context.Background(), adelePrincipal, adeleProfile, req, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range m.DialIn {
		if d.Region != region {
			t.Errorf("number of %s in a meeting for %s", d.Region, region)
		}
	}
	if strings.Contains(m.JoinInfo.Text, all.DialIn[0].Number) {
		t.Errorf("the join information lists another region's number")
	}
	// A region no number has any more keeps every number.
	req.Options.DialInRegion = "Atlantis"
	if m, _ := s.Create(context.Background(), adelePrincipal, adeleProfile, req, ""); len(m.DialIn) != len(all.DialIn) {
		t.Errorf("unknown region left %d numbers", len(m.DialIn))
	}
}
