package conferencing_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// patch is one UpdateOnlineMeeting call.
type patch struct {
	id, lobby, presenters string
	list                  []string
	start, end            time.Time
	phoneBypass           bool
}

// fakeMeetings is Graph's /me/onlineMeetings in memory: createOrGet keys
// meetings by organizer and externalId, as Graph does.
type fakeMeetings struct {
	mu        sync.Mutex
	byKey     map[string]conferencing.OnlineMeeting
	creates   []string // externalIds passed to CreateOrGet
	patches   []patch
	deleted   []string
	failPatch int  // fail this many patches
	noDialIn  bool // meetings without audio conferencing
	deleteErr error
}

func (f *fakeMeetings) CreateOrGet(_ context.Context, p scheduler.Principal, externalID, subject string, start, end time.Time) (conferencing.OnlineMeeting, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p.OID == "" || subject == "" || !end.After(start) {
		return conferencing.OnlineMeeting{}, errors.New("fake: bad createOrGet")
	}
	f.creates = append(f.creates, externalID)
	key := p.OID + "/" + externalID
	if m, ok := f.byKey[key]; ok {
		return m, nil
	}
	n := strconv.Itoa(len(f.byKey) + 1)
	m := conferencing.OnlineMeeting{
		ID: "om-" + n, JoinURL: "https://teams.microsoft.com/l/meetup-join/" + n, ConferenceID: "98765432" + n,
		Passcode: "Xy3kP" + n, TollNumber: "+12065550100", DialInURL: "https://dialin.teams.microsoft.com/x?id=98765432" + n,
	}
	if f.byKey == nil {
		f.byKey = map[string]conferencing.OnlineMeeting{}
	}
	if f.noDialIn {
		m.TollNumber, m.DialInURL = "", ""
	}
	f.byKey[key] = m
	return m, nil
}

func (f *fakeMeetings) UpdateOnlineMeeting(_ context.Context, _ scheduler.Principal, id string, u conferencing.OnlineMeetingUpdate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPatch > 0 {
		f.failPatch--
		return scheduler.Errorf(scheduler.ECodeGraphUnavailable, "Microsoft Graph is unavailable; try again shortly.")
	}
	f.patches = append(f.patches, patch{id, u.Lobby, u.Presenters, slices.Clone(u.PresenterList), u.Start, u.End, u.PhoneBypass})
	return nil
}

func (f *fakeMeetings) DeleteOnlineMeeting(_ context.Context, _ scheduler.Principal, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, id)
	return f.deleteErr
}

func TestTeamsOptionMapping(t *testing.T) {
	t.Parallel()
	list := []string{"alex@contoso.example", "megan@contoso.example"}
	tests := []struct {
		opts scheduler.MeetingOptions
		want patch
	}{
		{scheduler.MeetingOptions{}, patch{lobby: "organization", presenters: "everyone"}},
		{scheduler.MeetingOptions{Lobby: "organizer", Presenters: "organizer"}, patch{lobby: "organizer", presenters: "organizer"}},
		{scheduler.MeetingOptions{Lobby: "invited", Presenters: "company"}, patch{lobby: "invited", presenters: "organization"}},
		{scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone"}, patch{lobby: "organization", presenters: "everyone"}},
		{scheduler.MeetingOptions{Lobby: "everyone", Presenters: "named", PresenterList: list}, patch{lobby: "everyone", presenters: "roleIsPresenter", list: list}},
		{scheduler.MeetingOptions{Lobby: "everyone", PhoneBypass: true}, patch{lobby: "everyone", presenters: "everyone", phoneBypass: true}},
	}
	for _, tt := range tests {
		t.Run(tt.opts.Lobby+"/"+tt.opts.Presenters, func(t *testing.T) {
			t.Parallel()
			f := &fakeMeetings{}
			p := conferencing.NewTeams(conferencing.SandboxSettings("http://localhost:8080"), f, newBox(t))
			req := request("m1")
			req.Options = tt.opts
			c, err := p.NewConference(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			// The PATCH carries the times too: createOrGet returns a
			// meeting found on a retry with the times it was created with.
			tt.want.id, tt.want.start, tt.want.end = c.ExternalID, start, end
			if len(f.patches) != 1 || !equalPatch(f.patches[0], tt.want) {
				t.Errorf("patches = %+v, want [%+v]", f.patches, tt.want)
			}
		})
	}
}

func equalPatch(a, b patch) bool {
	return a.id == b.id && a.lobby == b.lobby && a.presenters == b.presenters && slices.Equal(a.list, b.list) &&
		a.start.Equal(b.start) && a.end.Equal(b.end) && a.phoneBypass == b.phoneBypass
}

func TestTeamsNewConference(t *testing.T) {
	t.Parallel()
	f := &fakeMeetings{failPatch: 1}
	box := newBox(t)
	s := conferencing.SandboxSettings("http://localhost:8080")
	p := conferencing.NewTeams(s, f, box)
	ctx := context.Background()

	// The PATCH fails: the call fails, and the retry finds the same
	// meeting through its externalId and patches it.
	if _, err := p.NewConference(ctx, request("meeting-1")); scheduler.ErrorCode(err) != scheduler.ECodeGraphUnavailable {
		t.Fatalf("NewConference with a failing PATCH = %v", err)
	}
	c, err := p.NewConference(ctx, request("meeting-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.NewConference(ctx, request("meeting-1"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.creates, []string{"meeting-1", "meeting-1", "meeting-1"}) || len(f.byKey) != 1 || again.ExternalID != c.ExternalID {
		t.Errorf("createOrGet calls %q made %d meetings; external IDs %q, %q", f.creates, len(f.byKey), c.ExternalID, again.ExternalID)
	}
	other, err := p.NewConference(ctx, request("meeting-2"))
	if err != nil {
		t.Fatal(err)
	}
	if other.ExternalID == c.ExternalID {
		t.Error("two meetings share a Teams meeting")
	}

	m := f.byKey["oid-adele/meeting-1"]
	if c.Provider != "teams" || c.MeetingID != "meeting-1" || c.ExternalID != m.ID || c.ConferenceID != m.ConferenceID ||
		c.JoinURL != m.JoinURL || c.Room != "" || c.OrganizerOID != "oid-adele" || !c.Start.Equal(start) || !c.End.Equal(end) {
		t.Errorf("conference = %+v for meeting %+v", c, m)
	}
	// Options stay in memory: the meeting service seals them as it stores.
	if want := (scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone"}); !equalOptions(c.Options, want) || len(c.SealedOptions) != 0 {
		t.Errorf("options = %+v (sealed %x), want %+v and nothing sealed", c.Options, c.SealedOptions, want)
	}
	// The meeting's own dial-in replaces the configured numbers.
	d, err := p.Details(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	wantDialIn := []scheduler.DialIn{{Region: "Toll", Number: m.TollNumber}}
	if d.Passcode != m.Passcode || d.JoinURL != m.JoinURL || d.ConferenceID != m.ConferenceID ||
		!slices.Equal(d.DialIn, wantDialIn) || d.DialInURL != m.DialInURL || !slices.Equal(c.DialIn, wantDialIn) || c.DialInURL != m.DialInURL {
		t.Errorf("details = %+v of conference %+v", d, c)
	}
	if got, err := box.Open(c.SealedPasscode, "passcode:meeting-1"); err != nil || string(got) != m.Passcode {
		t.Errorf("sealed passcode opens to %q, %v", got, err)
	}

	// Invalid options reach no Graph call.
	bad := request("meeting-3")
	bad.Options.Presenters = "named"
	n := len(f.creates)
	if _, err := p.NewConference(ctx, bad); scheduler.ErrorCode(err) != scheduler.ECodeInvalid || len(f.creates) != n {
		t.Errorf("NewConference with bad options = %v after %d createOrGet calls", err, len(f.creates)-n)
	}

	// A meeting without audio conferencing gets the configured numbers.
	plain := conferencing.NewTeams(s, &fakeMeetings{noDialIn: true}, box)
	c, err = plain.NewConference(ctx, request("meeting-4"))
	if err != nil {
		t.Fatal(err)
	}
	if d, err = plain.Details(ctx, c); err != nil {
		t.Fatal(err)
	}
	if len(c.DialIn) != 0 || c.DialInURL != "" || len(d.DialIn) != len(s.DialIn.Numbers) || d.DialInURL != s.DialIn.URL {
		t.Errorf("details = %+v of conference %+v without dial-in", d, c)
	}
}

func TestTeamsUpdateAndFree(t *testing.T) {
	t.Parallel()
	f := &fakeMeetings{}
	box := newBox(t)
	p := conferencing.NewTeams(conferencing.SandboxSettings("http://localhost:8080"), f, box)
	ctx := context.Background()
	c, err := p.NewConference(ctx, request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	upd := request("m1")
	upd.Start, upd.End = start.Add(time.Hour), end.Add(2*time.Hour)
	upd.Options = scheduler.MeetingOptions{Lobby: "invited", Presenters: "named", PresenterList: []string{"alex@contoso.example"}, PhoneBypass: true}
	u, err := p.UpdateConference(ctx, c, upd)
	if err != nil {
		t.Fatal(err)
	}
	want := patch{id: c.ExternalID, lobby: "invited", presenters: "roleIsPresenter", list: []string{"alex@contoso.example"},
		start: upd.Start, end: upd.End, phoneBypass: true}
	if len(f.patches) != 2 || !equalPatch(f.patches[1], want) {
		t.Errorf("patches = %+v, want the last %+v", f.patches, want)
	}
	if !equalOptions(u.Options, upd.Options) || len(u.SealedOptions) != 0 || !u.Start.Equal(upd.Start) || !u.End.Equal(upd.End) || u.ExternalID != c.ExternalID {
		t.Errorf("updated = %+v", u)
	}

	// A failed PATCH leaves the record as it was.
	f.failPatch = 1
	if got, err := p.UpdateConference(ctx, u, request("m1")); err == nil || got.Start != u.Start {
		t.Errorf("UpdateConference with a failing PATCH = %+v, %v", got, err)
	}

	tests := []struct {
		name      string
		c         scheduler.Conference
		deleteErr error
		wantErr   bool
		deletes   bool
	}{
		{"deletes", u, nil, false, true},
		{"already gone", u, scheduler.ErrNotFound, false, true},
		{"fails", u, scheduler.Errorf(scheduler.ECodeGraphThrottled, "busy"), true, true},
		{"nothing to delete", scheduler.Conference{MeetingID: "m9"}, nil, false, false},
	}
	for _, tt := range tests {
		f := &fakeMeetings{deleteErr: tt.deleteErr}
		p := conferencing.NewTeams(conferencing.SandboxSettings("http://localhost:8080"), f, box)
		err := p.FreeConference(ctx, tt.c, scheduler.Principal{OID: "oid-adele"})
		if (err != nil) != tt.wantErr || (len(f.deleted) == 1 && f.deleted[0] == tt.c.ExternalID) != tt.deletes {
			t.Errorf("%s: FreeConference = %v, deleted %q", tt.name, err, f.deleted)
		}
	}
}
