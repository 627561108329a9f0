// Package schedulertest holds the contract tests that every implementation
// of scheduler's store interfaces must pass, so that the in-memory stores of
// sandbox mode behave exactly like the Redis ones of production.
package schedulertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Stores is one set of store implementations under test.
type Stores struct {
	Sessions    scheduler.SessionStore
	Tokens      scheduler.TokenCache
	Conferences scheduler.ConferenceStore
	Idempotency scheduler.IdempotencyStore
	Pinger      scheduler.Pinger
	// Advance lets d pass for the stores: an in-memory store moves its
	// clock, a Redis store sleeps.
	Advance func(d time.Duration)
}

// life is the lifetime of entries that expire during a test. Stores on a
// real clock sleep for multiples of it, so it is short; "still alive" checks
// leave 0.3 life of slack for a busy machine, and "expired" checks wait 1.2
// life, which no delay can make too early.
const life = time.Second

// long is the lifetime of entries that must not expire during a test.
const long = time.Hour

// TestStores runs the contract suite. newStores is called once per subtest
// (subtests run in parallel) and must return stores that share nothing with
// those of other calls.
func TestStores(t *testing.T, newStores func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"Ping", testPing},
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionIdleTimeoutSlides", testSessionIdleTimeoutSlides},
		{"NonPositiveLifetimes", testNonPositiveLifetimes},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenExpires", testTokenExpires},
		{"ConferenceIndexes", testConferenceIndexes},
		{"ConferenceConflicts", testConferenceConflicts},
		{"ConferenceCreateRace", testConferenceCreateRace},
		{"ConferenceUpdate", testConferenceUpdate},
		{"ConferenceDelete", testConferenceDelete},
		{"ConferenceUnindexed", testConferenceUnindexed},
		{"ConferenceExpires", testConferenceExpires},
		{"IdempotencyRace", testIdempotencyRace},
		{"IdempotencyReleaseAndComplete", testIdempotencyReleaseAndComplete},
		{"IdempotencyExpires", testIdempotencyExpires},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStores(t))
		})
	}
}

func testPing(t *testing.T, s Stores) {
	if err := s.Pinger.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func sampleSession(oid string) scheduler.Session {
	return scheduler.Session{
		OID:     oid,
		TID:     "tid-1",
		Created: time.Date(2026, 3, 1, 9, 30, 0, 123000000, time.UTC),
		Profile: []byte{0x01, 0x00, 0xff, 'p'},
		Roles:   []string{"WebScheduler.Admin"},
		CSRF:    "csrf-" + oid,
	}
}

func testSessionRoundTrip(t *testing.T, s Stores) {
	ctx := t.Context()
	a, b := sampleSession("oid-a"), sampleSession("oid-b")
	mustNil(t, "SaveSession a", s.Sessions.SaveSession(ctx, "a", a, long))
	mustNil(t, "SaveSession b", s.Sessions.SaveSession(ctx, "b", b, long))
	wantSession(t, s, "a", a)
	wantSession(t, s, "b", b)

	a.CSRF = "rotated"
	a.Roles = nil
	mustNil(t, "SaveSession a again", s.Sessions.SaveSession(ctx, "a", a, long))
	wantSession(t, s, "a", a)

	mustNil(t, "DeleteSession a", s.Sessions.DeleteSession(ctx, "a"))
	wantSessionGone(t, s, "a")
	wantSession(t, s, "b", b)
	mustNil(t, "DeleteSession of a missing session", s.Sessions.DeleteSession(ctx, "a"))
	wantSessionGone(t, s, "never-saved")
}

func testSessionIdleTimeoutSlides(t *testing.T, s Stores) {
	sess := sampleSession("oid")
	mustNil(t, "SaveSession", s.Sessions.SaveSession(t.Context(), "id", sess, life))
	s.Advance(life * 7 / 10)
	wantSession(t, s, "id", sess)
	// Past the lifetime given at save: alive only because the read slid it.
	s.Advance(life * 7 / 10)
	wantSession(t, s, "id", sess)
	s.Advance(life * 12 / 10)
	wantSessionGone(t, s, "id")
}

func testNonPositiveLifetimes(t *testing.T, s Stores) {
	ctx := t.Context()
	for _, d := range []time.Duration{0, -time.Second} {
		if err := s.Sessions.SaveSession(ctx, "s", sampleSession("oid"), d); err == nil {
			t.Errorf("SaveSession with idle %v succeeded", d)
		}
		if err := s.Tokens.SaveToken(ctx, "t", []byte("sealed"), d); err == nil {
			t.Errorf("SaveToken with ttl %v succeeded", d)
		}
		if err := s.Conferences.CreateConference(ctx, sampleConference("m", "1", "r"), d); err == nil {
			t.Errorf("CreateConference with ttl %v succeeded", d)
		}
		if _, _, err := s.Idempotency.ClaimIdempotency(ctx, "k", d); err == nil {
			t.Errorf("ClaimIdempotency with ttl %v succeeded", d)
		}
	}
	// Nothing may have been stored without a lifetime.
	wantSessionGone(t, s, "s")
	if _, err := s.Tokens.Token(ctx, "t"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("Token after refused saves: %v, want ErrNotFound", err)
	}
	wantConferenceGone(t, s, sampleConference("m", "1", "r"))
	claimWant(t, s, "k", "", true)

	// Reading must not make a session immortal either.
	mustNil(t, "SaveSession", s.Sessions.SaveSession(ctx, "s", sampleSession("oid"), long))
	if _, err := s.Sessions.Session(ctx, "s", 0); err == nil {
		t.Error("Session with idle 0 succeeded")
	}
	c := sampleConference("m", "1", "r")
	mustNil(t, "CreateConference", s.Conferences.CreateConference(ctx, c, long))
	if err := s.Conferences.UpdateConference(ctx, c, 0); err == nil {
		t.Error("UpdateConference with ttl 0 succeeded")
	}
	if err := s.Idempotency.CompleteIdempotency(ctx, "k", "m", 0); err == nil {
		t.Error("CompleteIdempotency with ttl 0 succeeded")
	}
}

func testTokenRoundTrip(t *testing.T, s Stores) {
	ctx := t.Context()
	if _, err := s.Tokens.Token(ctx, "k"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Token of a missing key: %v, want ErrNotFound", err)
	}
	mustNil(t, "SaveToken", s.Tokens.SaveToken(ctx, "k", []byte{0, 1, 2, 0xfe}, long))
	mustNil(t, "SaveToken other", s.Tokens.SaveToken(ctx, "other", []byte("x"), long))
	wantToken(t, s, "k", []byte{0, 1, 2, 0xfe})
	mustNil(t, "SaveToken again", s.Tokens.SaveToken(ctx, "k", []byte("new"), long))
	wantToken(t, s, "k", []byte("new"))
	wantToken(t, s, "other", []byte("x"))
}

func testTokenExpires(t *testing.T, s Stores) {
	mustNil(t, "SaveToken", s.Tokens.SaveToken(t.Context(), "k", []byte("sealed"), life))
	s.Advance(life * 7 / 10)
	wantToken(t, s, "k", []byte("sealed"))
	// Reading a token does not extend it: it expires when the token does.
	s.Advance(life * 5 / 10)
	if _, err := s.Tokens.Token(t.Context(), "k"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Token after its ttl: %v, want ErrNotFound", err)
	}
}

func sampleConference(meetingID, conferenceID, room string) scheduler.Conference {
	start := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
	return scheduler.Conference{
		MeetingID:      meetingID,
		ConferenceID:   conferenceID,
		Provider:       "template",
		SealedPasscode: []byte{9, 8, 7, 0},
		SealedOptions:  []byte("sealed-options"),
		Room:           room,
		JoinURL:        "https://meet.example.com/" + room,
		OrganizerOID:   "oid-1",
		TID:            "tid-1",
		EventID:        "event-" + meetingID,
		Mailbox:        "mailbox-1",
		Start:          start,
		End:            start.Add(30 * time.Minute),
		Created:        start.Add(-time.Hour),
		Updated:        start.Add(-time.Hour),
		DialIn:         []scheduler.DialIn{{Region: "Toll", Number: "+1 206-555-0100"}},
		DialInURL:      "https://dialin.example.com/" + room,
	}
}

func testConferenceIndexes(t *testing.T, s Stores) {
	c := sampleConference("m1", "123456", "room-1")
	stored := c
	// Options are the opened form of SealedOptions: they must never be stored.
	c.Options = scheduler.MeetingOptions{Lobby: scheduler.LobbyEveryone, PresenterList: []string{"a@example.com"}}
	mustNil(t, "CreateConference", s.Conferences.CreateConference(t.Context(), c, long))
	wantConference(t, s, stored)
	other := sampleConference("m2", "654321", "room-2")
	mustNil(t, "CreateConference other", s.Conferences.CreateConference(t.Context(), other, long))
	wantConference(t, s, stored)
	wantConference(t, s, other)
	if _, err := s.Conferences.ConferenceByMeeting(t.Context(), "missing"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("ConferenceByMeeting(missing): %v, want ErrNotFound", err)
	}
}

func testConferenceConflicts(t *testing.T, s Stores) {
	ctx := t.Context()
	first := sampleConference("m1", "111", "room-1")
	mustNil(t, "CreateConference", s.Conferences.CreateConference(ctx, first, long))

	for _, tc := range []struct {
		name string
		c    scheduler.Conference
	}{
		{"taken conference ID", sampleConference("m2", "111", "room-2")},
		{"taken room", sampleConference("m3", "333", "room-1")},
		{"taken meeting ID", sampleConference("m1", "444", "room-4")},
	} {
		err := s.Conferences.CreateConference(ctx, tc.c, long)
		if code := scheduler.ErrorCode(err); code != scheduler.ECodeConflict {
			t.Errorf("%s: CreateConference = %v, want code %s", tc.name, err, scheduler.ECodeConflict)
		}
		// Nothing half-written: every key the loser would have used that is
		// not the first conference's stays empty.
		if tc.c.MeetingID != first.MeetingID {
			if _, err := s.Conferences.ConferenceByMeeting(ctx, tc.c.MeetingID); !errors.Is(err, scheduler.ErrNotFound) {
				t.Errorf("%s: ConferenceByMeeting after conflict: %v, want ErrNotFound", tc.name, err)
			}
		}
		if tc.c.ConferenceID != first.ConferenceID {
			if _, err := s.Conferences.ConferenceByID(ctx, tc.c.ConferenceID); !errors.Is(err, scheduler.ErrNotFound) {
				t.Errorf("%s: ConferenceByID after conflict: %v, want ErrNotFound", tc.name, err)
			}
		}
		if tc.c.Room != first.Room {
			if _, err := s.Conferences.ConferenceByRoom(ctx, tc.c.Room); !errors.Is(err, scheduler.ErrNotFound) {
				t.Errorf("%s: ConferenceByRoom after conflict: %v, want ErrNotFound", tc.name, err)
			}
		}
	}
	wantConference(t, s, first)
}

func testConferenceCreateRace(t *testing.T, s Stores) {
	const n = 20
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			// All want the same conference ID, each its own room.
			c := sampleConference(fmt.Sprint("m", i), "999", fmt.Sprint("room-", i))
			errs[i] = s.Conferences.CreateConference(t.Context(), c, long)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("creators %d and %d both got conference ID 999", winner, i)
		case err == nil:
			winner = i
		case scheduler.ErrorCode(err) != scheduler.ECodeConflict:
			t.Errorf("creator %d: %v, want code %s", i, err, scheduler.ECodeConflict)
		}
	}
	if winner < 0 {
		t.Fatal("no creator got conference ID 999")
	}
	for i := range n {
		c := sampleConference(fmt.Sprint("m", i), "999", fmt.Sprint("room-", i))
		if i == winner {
			wantConference(t, s, c)
			continue
		}
		if _, err := s.Conferences.ConferenceByRoom(t.Context(), c.Room); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("loser %d: ConferenceByRoom: %v, want ErrNotFound", i, err)
		}
		if _, err := s.Conferences.ConferenceByMeeting(t.Context(), c.MeetingID); !errors.Is(err, scheduler.ErrNotFound) {
			t.Errorf("loser %d: ConferenceByMeeting: %v, want ErrNotFound", i, err)
		}
	}
}

func testConferenceUpdate(t *testing.T, s Stores) {
	ctx := t.Context()
	c := sampleConference("m1", "111", "room-1")
	mustNil(t, "CreateConference", s.Conferences.CreateConference(ctx, c, long))
	c.SealedPasscode = []byte("new passcode")
	c.End = c.End.Add(time.Hour)
	c.Updated = c.Updated.Add(time.Minute)
	c.EventID = "moved-event"
	mustNil(t, "UpdateConference", s.Conferences.UpdateConference(ctx, c, long))
	wantConference(t, s, c)

	// Update keeps the conference ID and room: changing either is refused
	// and changes nothing.
	for _, changed := range []scheduler.Conference{
		sampleConference("m1", "222", "room-1"),
		sampleConference("m1", "111", "room-2"),
	} {
		err := s.Conferences.UpdateConference(ctx, changed, long)
		if code := scheduler.ErrorCode(err); code != scheduler.ECodeConflict {
			t.Errorf("UpdateConference to %s/%s = %v, want code %s", changed.ConferenceID, changed.Room, err, scheduler.ECodeConflict)
		}
	}
	wantConference(t, s, c)
	if _, err := s.Conferences.ConferenceByID(ctx, "222"); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("ConferenceByID of a refused new ID: %v, want ErrNotFound", err)
	}

	missing := sampleConference("gone", "555", "room-5")
	if err := s.Conferences.UpdateConference(ctx, missing, long); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf("UpdateConference of a missing record: %v, want ErrNotFound", err)
	}
	wantConferenceGone(t, s, missing)
}

func testConferenceDelete(t *testing.T, s Stores) {
	ctx := t.Context()
	c := sampleConference("m1", "111", "room-1")
	keep := sampleConference("m2", "222", "room-2")
	mustNil(t, "CreateConference", s.Conferences.CreateConference(ctx, c, long))
	mustNil(t, "CreateConference keep", s.Conferences.CreateConference(ctx, keep, long))
	mustNil(t, "DeleteConference", s.Conferences.DeleteConference(ctx, "m1"))
	wantConferenceGone(t, s, c)
	wantConference(t, s, keep)
	mustNil(t, "DeleteConference of a missing record", s.Conferences.DeleteConference(ctx, "m1"))
	// The conference ID and room are free again.
	again := sampleConference("m3", "111", "room-1")
	mustNil(t, "CreateConference reusing ID and room", s.Conferences.CreateConference(ctx, again, long))
	wantConference(t, s, again)
}

// testConferenceUnindexed covers providers without a dial-in ID or room:
// an empty value is not an index, so it never conflicts and never matches.
func testConferenceUnindexed(t *testing.T, s Stores) {
	ctx := t.Context()
	a := sampleConference("m1", "", "")
	b := sampleConference("m2", "", "")
	mustNil(t, "CreateConference a", s.Conferences.CreateConference(ctx, a, long))
	mustNil(t, "CreateConference b", s.Conferences.CreateConference(ctx, b, long))
	if _, err := s.Conferences.ConferenceByID(ctx, ""); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf(`ConferenceByID(""): %v, want ErrNotFound`, err)
	}
	if _, err := s.Conferences.ConferenceByRoom(ctx, ""); !errors.Is(err, scheduler.ErrNotFound) {
		t.Errorf(`ConferenceByRoom(""): %v, want ErrNotFound`, err)
	}
	wantConferenceByMeeting(t, s, a)
	a.JoinURL = "https://meet.example.com/changed"
	mustNil(t, "UpdateConference", s.Conferences.UpdateConference(ctx, a, long))
	wantConferenceByMeeting(t, s, a)
	mustNil(t, "DeleteConference", s.Conferences.DeleteConference(ctx, "m1"))
	wantConferenceGone(t, s, a)
	wantConferenceByMeeting(t, s, b)
}

func testConferenceExpires(t *testing.T, s Stores) {
	ctx := t.Context()
	c := sampleConference("m1", "111", "room-1")
	mustNil(t, "CreateConference", s.Conferences.CreateConference(ctx, c, life))
	s.Advance(life * 7 / 10)
	// Update gives the record and its indexes a new lifetime.
	mustNil(t, "UpdateConference", s.Conferences.UpdateConference(ctx, c, life))
	s.Advance(life * 7 / 10)
	wantConference(t, s, c)
	s.Advance(life * 12 / 10)
	wantConferenceGone(t, s, c)
	mustNil(t, "CreateConference after expiry", s.Conferences.CreateConference(ctx, sampleConference("m2", "111", "room-1"), long))
}

func testIdempotencyRace(t *testing.T, s Stores) {
	const n = 20
	type result struct {
		meetingID string
		claimed   bool
		err       error
	}
	var (
		wg      sync.WaitGroup
		results [n]result
	)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			id, claimed, err := s.Idempotency.ClaimIdempotency(t.Context(), "key", long)
			results[i] = result{id, claimed, err}
			// The winner completes while the others may still be claiming.
			if claimed && err == nil {
				results[i].err = s.Idempotency.CompleteIdempotency(t.Context(), "key", "meeting-1", long)
			}
		})
	}
	close(start)
	wg.Wait()
	claimed := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("claimer %d: %v", i, r.err)
		case r.claimed:
			claimed++
			if r.meetingID != "" {
				t.Errorf("claimer %d claimed with meeting ID %q, want \"\"", i, r.meetingID)
			}
		case r.meetingID != "" && r.meetingID != "meeting-1":
			t.Errorf("claimer %d saw meeting ID %q, want \"\" or meeting-1", i, r.meetingID)
		}
	}
	if claimed != 1 {
		t.Fatalf("%d of %d concurrent claims succeeded, want exactly 1", claimed, n)
	}
	claimWant(t, s, "key", "meeting-1", false)
}

func testIdempotencyReleaseAndComplete(t *testing.T, s Stores) {
	ctx := t.Context()
	claimWant(t, s, "k", "", true)
	claimWant(t, s, "k", "", false)
	claimWant(t, s, "other", "", true)
	mustNil(t, "ReleaseIdempotency", s.Idempotency.ReleaseIdempotency(ctx, "k"))
	claimWant(t, s, "k", "", true)
	mustNil(t, "CompleteIdempotency", s.Idempotency.CompleteIdempotency(ctx, "k", "meeting-7", long))
	claimWant(t, s, "k", "meeting-7", false)
	claimWant(t, s, "other", "", false)
	mustNil(t, "ReleaseIdempotency of a missing key", s.Idempotency.ReleaseIdempotency(ctx, "never-claimed"))
}

func testIdempotencyExpires(t *testing.T, s Stores) {
	ctx := t.Context()
	// "abandoned" is a claim whose worker died; "done" a completed one.
	if _, _, err := s.Idempotency.ClaimIdempotency(ctx, "abandoned", life); err != nil {
		t.Fatal(err)
	}
	claimWant(t, s, "done", "", true)
	mustNil(t, "CompleteIdempotency", s.Idempotency.CompleteIdempotency(ctx, "done", "meeting-1", life))
	s.Advance(life * 12 / 10)
	claimWant(t, s, "abandoned", "", true)
	claimWant(t, s, "done", "", true)
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantSession(t *testing.T, s Stores, id string, want scheduler.Session) {
	t.Helper()
	got, err := s.Sessions.Session(t.Context(), id, life)
	if err != nil {
		t.Fatalf("Session(%q): %v", id, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Session(%q) = %+v, want %+v", id, got, want)
	}
}

func wantSessionGone(t *testing.T, s Stores, id string) {
	t.Helper()
	if got, err := s.Sessions.Session(t.Context(), id, life); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("Session(%q) = %+v, %v; want ErrNotFound", id, got, err)
	}
}

func wantToken(t *testing.T, s Stores, key string, want []byte) {
	t.Helper()
	got, err := s.Tokens.Token(t.Context(), key)
	if err != nil || string(got) != string(want) {
		t.Fatalf("Token(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func claimWant(t *testing.T, s Stores, key, wantID string, wantClaimed bool) {
	t.Helper()
	id, claimed, err := s.Idempotency.ClaimIdempotency(t.Context(), key, long)
	if err != nil || id != wantID || claimed != wantClaimed {
		t.Fatalf("ClaimIdempotency(%q) = %q, %v, %v; want %q, %v", key, id, claimed, err, wantID, wantClaimed)
	}
}

// wantConference checks that c is found by each of its indexes.
func wantConference(t *testing.T, s Stores, c scheduler.Conference) {
	t.Helper()
	wantConferenceByMeeting(t, s, c)
	for _, l := range []struct {
		name, key string
		lookup    func(context.Context, string) (scheduler.Conference, error)
	}{
		{"ConferenceByID", c.ConferenceID, s.Conferences.ConferenceByID},
		{"ConferenceByRoom", c.Room, s.Conferences.ConferenceByRoom},
	} {
		got, err := l.lookup(t.Context(), l.key)
		if err != nil {
			t.Fatalf("%s(%q): %v", l.name, l.key, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%s(%q) = %+v, want %+v", l.name, l.key, got, c)
		}
	}
}

func wantConferenceByMeeting(t *testing.T, s Stores, c scheduler.Conference) {
	t.Helper()
	got, err := s.Conferences.ConferenceByMeeting(t.Context(), c.MeetingID)
	if err != nil {
		t.Fatalf("ConferenceByMeeting(%q): %v", c.MeetingID, err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("ConferenceByMeeting(%q) = %+v, want %+v", c.MeetingID, got, c)
	}
}

// wantConferenceGone checks that none of c's indexes finds anything.
func wantConferenceGone(t *testing.T, s Stores, c scheduler.Conference) {
	t.Helper()
	if _, err := s.Conferences.ConferenceByMeeting(t.Context(), c.MeetingID); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("ConferenceByMeeting(%q): %v, want ErrNotFound", c.MeetingID, err)
	}
	if _, err := s.Conferences.ConferenceByID(t.Context(), c.ConferenceID); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("ConferenceByID(%q): %v, want ErrNotFound", c.ConferenceID, err)
	}
	if _, err := s.Conferences.ConferenceByRoom(t.Context(), c.Room); !errors.Is(err, scheduler.ErrNotFound) {
		t.Fatalf("ConferenceByRoom(%q): %v, want ErrNotFound", c.Room, err)
	}
}
