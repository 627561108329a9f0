package meeting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// recordingStore is the in-memory store, keeping the JSON of every record
// written: what Redis would hold.
type recordingStore struct {
	*inmem.Store
	mu     sync.Mutex
	writes []string
}

func (r *recordingStore) record(c scheduler.Conference) {
	b, _ := json.Marshal(c)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, string(b))
}

func (r *recordingStore) CreateConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	r.record(c)
	return r.Store.CreateConference(ctx, c, ttl)
}

func (r *recordingStore) UpdateConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	r.record(c)
	return r.Store.UpdateConference(ctx, c, ttl)
}

// fakeCalendar keeps events in memory; every write changes the change key.
type fakeCalendar struct {
	mu     sync.Mutex
	events map[string]scheduler.Event
}

func (f *fakeCalendar) Event(_ context.Context, _ scheduler.Principal, _, id string) (scheduler.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev, ok := f.events[id]
	if !ok {
		return ev, scheduler.ErrNotFound
	}
	return ev, nil
}

func (f *fakeCalendar) UpdateEvent(_ context.Context, _ scheduler.Principal, _, id, changeKey string, p scheduler.EventPatch) (scheduler.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ev, ok := f.events[id]
	if !ok {
		return ev, scheduler.ErrNotFound
	}
	if ev.ChangeKey != changeKey {
		return ev, scheduler.Errorf(scheduler.ECodePreconditionFail, "changed")
	}
	if p.Body != nil {
		ev.Body = *p.Body
	}
	if p.Location != nil {
		ev.Location = *p.Location
	}
	if p.ConferenceID != nil {
		ev.ConferenceID = *p.ConferenceID
	}
	if p.Start != nil && p.End != nil {
		ev.Start, ev.End = *p.Start, *p.End
	}
	ev.ChangeKey += "'"
	f.events[id] = ev
	return ev, nil
}

func (f *fakeCalendar) CreateEvent(_ context.Context, _ scheduler.Principal, _ string, e scheduler.Event) (scheduler.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.events == nil {
		f.events = map[string]scheduler.Event{}
	}
	e.ID, e.ChangeKey = "ev-"+strconv.Itoa(len(f.events)+1), "ck"
	f.events[e.ID] = e
	return e, nil
}

func (f *fakeCalendar) CancelEvent(context.Context, scheduler.Principal, string, string, string) error {
	return nil
}

func (f *fakeCalendar) Events(context.Context, scheduler.Principal, string, time.Time, time.Time) ([]scheduler.Event, error) {
	return nil, nil
}

func TestOptionsSealedAtRest(t *testing.T) {
	t.Parallel()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	store := &recordingStore{Store: inmem.New()}
	s := &meeting.Service{
		Conferences: store,
		Idempotency: store,
		Provider:    conferencing.NewTemplate(conferencing.SandboxSettings("http://localhost:8080"), box),
		Calendar:    &fakeCalendar{},
		Templates:   joininfo.DefaultTemplates(),
		Box:         box,
	}
	ctx := context.Background()
	p := scheduler.Principal{OID: "oid-adele", TID: "tid-contoso"}
	prof := scheduler.NewProfile("oid-adele", "Adele Vance", "Adele", "Vance", "adele.vance@contoso.example", "adele.vance@contoso.example", "en-US", nil)
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	req := meeting.Request{
		Subject: "Quarterly review", Start: start, End: start.Add(time.Hour), CreateEvent: true,
		Options: scheduler.MeetingOptions{Presenters: "named", PresenterList: []string{"alex@contoso.example"}, PhoneBypass: true},
	}
	want := scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{"alex@contoso.example"}, PhoneBypass: true}

	// Options come back from the store as they went in: after creating
	// (stored, then updated with the calendar item), after changing them,
	// and after changing only the times.
	m, err := s.Create(ctx, p, prof, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, p, prof, m.ID, ""); err != nil || !equalOptions(got.Options, want) {
		t.Errorf("options after Create = %+v, %v; want %+v", got.Options, err, want)
	}
	want = scheduler.MeetingOptions{Lobby: "invited", Presenters: "named", PresenterList: []string{"megan@contoso.example", "alex@contoso.example"}}
	if _, err := s.Update(ctx, p, prof, m.ID, meeting.Patch{Options: &want}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, p, prof, m.ID, ""); err != nil || !equalOptions(got.Options, want) {
		t.Errorf("options after Update = %+v, %v; want %+v", got.Options, err, want)
	}
	later, laterEnd := start.Add(2*time.Hour), start.Add(3*time.Hour)
	if _, err := s.Update(ctx, p, prof, m.ID, meeting.Patch{Start: &later, End: &laterEnd}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, p, prof, m.ID, ""); err != nil || !equalOptions(got.Options, want) || !got.Start.Equal(later) || !got.End.Equal(laterEnd) {
		t.Errorf("after a time change = %+v, %v; want options %+v", got, err, want)
	}

	// Every record written holds the options sealed, never an address: not
	// in its JSON, nor in the bytes the JSON encodes in base64.
	if len(store.writes) != 4 {
		t.Errorf("%d conference writes, want 4 (create, calendar, 2 updates)", len(store.writes))
	}
	for i, w := range store.writes {
		var rec struct {
			Options []byte `json:"options"`
		}
		if err := json.Unmarshal([]byte(w), &rec); err != nil || len(rec.Options) == 0 {
			t.Errorf("write %d = %s (%v); want sealed options", i+1, w, err)
		}
		for _, addr := range []string{"alex@contoso.example", "megan@contoso.example"} {
			if strings.Contains(w, addr) || bytes.Contains(rec.Options, []byte(addr)) {
				t.Errorf("write %d = %s holds %s in the clear", i+1, w, addr)
			}
		}
	}

	// Sealed options are bound to their meeting: copied into another
	// record, they do not open.
	other, err := s.Create(ctx, p, prof, meeting.Request{Subject: "Other", Start: start, End: start.Add(time.Hour)}, "")
	if err != nil {
		t.Fatal(err)
	}
	src, err := store.ConferenceByMeeting(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := store.ConferenceByMeeting(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	dst.SealedOptions = src.SealedOptions
	if err := store.Store.UpdateConference(ctx, dst, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, p, prof, other.ID, ""); err == nil {
		t.Errorf("Get with options sealed for another meeting = %+v", got.Options)
	}
}

func TestRequestOptions(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		o    scheduler.MeetingOptions
		want scheduler.MeetingOptions // zero when invalid
	}{
		{"defaults", scheduler.MeetingOptions{}, scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone"}},
		{"named", scheduler.MeetingOptions{Presenters: "named", PresenterList: []string{"alex@contoso.example"}},
			scheduler.MeetingOptions{Lobby: "company", Presenters: "named", PresenterList: []string{"alex@contoso.example"}}},
		{"list without named", scheduler.MeetingOptions{Presenters: "everyone", PresenterList: []string{"alex@contoso.example"}}, scheduler.MeetingOptions{}},
		{"display name", scheduler.MeetingOptions{Presenters: "named", PresenterList: []string{"Alex <alex@contoso.example>"}}, scheduler.MeetingOptions{}},
		{"bad lobby", scheduler.MeetingOptions{Lobby: "nobody"}, scheduler.MeetingOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := meeting.Request{Subject: "Review", Start: start, End: start.Add(time.Hour), Options: tt.o}
			err := r.Validate()
			if tt.want.Lobby == "" {
				if scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
					t.Errorf("Validate = %v; want invalid_request", err)
				}
				return
			}
			if err != nil || !equalOptions(r.Options, tt.want) {
				t.Errorf("Validate = %v, options %+v; want %+v", err, r.Options, tt.want)
			}
		})
	}
}

func equalOptions(a, b scheduler.MeetingOptions) bool {
	return a.Lobby == b.Lobby && a.Presenters == b.Presenters && a.PhoneBypass == b.PhoneBypass && slices.Equal(a.PresenterList, b.PresenterList)
}

// signallingCalendar tells when an item is first read.
type signallingCalendar struct {
	*fakeCalendar
	read chan struct{}
	once sync.Once
}

func (s *signallingCalendar) Event(ctx context.Context, p scheduler.Principal, mailbox, id string) (scheduler.Event, error) {
	s.once.Do(func() { close(s.read) })
	return s.fakeCalendar.Event(ctx, p, mailbox, id)
}

// waitingProvider allocates only once the item is being read: a provider
// as slow as a Graph call (Teams) then costs no extra round trip.
type waitingProvider struct {
	scheduler.Provider
	read <-chan struct{}
}

func (w waitingProvider) NewConference(ctx context.Context, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	select {
	case <-w.read:
		return w.Provider.NewConference(ctx, req)
	case <-time.After(10 * time.Second): // a guard against hanging, not a measurement
		return scheduler.Conference{}, scheduler.Errorf(scheduler.ECodeUnavailable, "the calendar item was not read while the conference was allocated")
	}
}

func TestItemReadWhileAllocating(t *testing.T) {
	t.Parallel()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	store := inmem.New()
	cal := &signallingCalendar{fakeCalendar: &fakeCalendar{}, read: make(chan struct{})}
	ctx := context.Background()
	p := scheduler.Principal{OID: "oid-adele", TID: "tid-contoso"}
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	item, _ := cal.fakeCalendar.CreateEvent(ctx, p, "", scheduler.Event{Subject: "Review", Body: "<p>Agenda</p>", BodyType: scheduler.BodyHTML})
	s := &meeting.Service{
		Conferences: store,
		Idempotency: store,
		Provider:    waitingProvider{Provider: conferencing.NewTemplate(conferencing.SandboxSettings("http://localhost:8080"), box), read: cal.read},
		Calendar:    cal,
		Templates:   joininfo.DefaultTemplates(),
		Box:         box,
	}
	prof := scheduler.NewProfile("oid-adele", "Adele Vance", "Adele", "Vance", "adele.vance@contoso.example", "adele.vance@contoso.example", "en-US", nil)
	m, err := s.Create(ctx, p, prof, meeting.Request{Subject: "Review", Start: start, End: start.Add(time.Hour), EventID: item.ID}, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	written, _ := cal.fakeCalendar.Event(ctx, p, "", item.ID)
	if !strings.Contains(written.Body, "Agenda") || !strings.Contains(written.Body, m.ConferenceID) || written.ConferenceID != m.ConferenceID {
		t.Fatalf("item after Create: %+v", written)
	}
}
