package schedulertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// AdminStores are the admin stores under test: one value implements them
// all, as both redisstore.Store and inmem.Admin do.
type AdminStores interface {
	scheduler.SettingsStore
	scheduler.JobStore
	scheduler.TrackingStore
}

// TestAdminStores runs the admin stores' contract suite. newStores is
// called once per subtest and must share nothing with other calls; advance
// lets time pass for the store returned with it.
func TestAdminStores(t *testing.T, newStores func(t *testing.T) (AdminStores, func(time.Duration))) {
	tests := []struct {
		name string
		run  func(t *testing.T, s AdminStores, advance func(time.Duration))
	}{
		{"SettingsVersions", testSettingsVersions},
		{"SettingsSaveRace", testSettingsSaveRace},
		{"AuditRetention", testAuditRetention},
		{"Jobs", testJobs},
		{"JobMailboxes", testJobMailboxes},
		{"Leases", testLeases},
		{"RecordOnce", testRecordOnce},
		{"Tracking", testTracking},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, advance := newStores(t)
			tc.run(t, s, advance)
		})
	}
}

func testSettingsVersions(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	doc, v, err := s.LoadSettings(ctx)
	mustNil(t, "load empty", err)
	if doc != nil || v != 0 {
		t.Fatalf("empty store: doc %q version %d", doc, v)
	}
	v1, err := s.SaveSettings(ctx, []byte(`{"a":1}`), 0)
	mustNil(t, "first save", err)
	if v1 != 1 {
		t.Fatalf("first version %d", v1)
	}
	if _, err := s.SaveSettings(ctx, []byte(`{"a":2}`), 0); scheduler.ErrorCode(err) != scheduler.ECodeVersionConflict {
		t.Fatalf("save over a stale version: %v", err)
	}
	v2, err := s.SaveSettings(ctx, []byte(`{"a":3}`), 1)
	mustNil(t, "second save", err)
	doc, v, err = s.LoadSettings(ctx)
	mustNil(t, "load", err)
	if string(doc) != `{"a":3}` || v != 2 || v2 != 2 {
		t.Fatalf("loaded %q version %d (saved as %d)", doc, v, v2)
	}
	if v, err := s.SettingsVersion(ctx); err != nil || v != 2 {
		t.Fatalf("version %d, %v", v, err)
	}
}

func testSettingsSaveRace(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if _, err := s.SaveSettings(ctx, fmt.Appendf(nil, `{"i":%d}`, i), 0); err == nil {
				wins.Add(1)
			} else if scheduler.ErrorCode(err) != scheduler.ECodeVersionConflict {
				t.Errorf("save %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d saves over version 0 won, want exactly 1", wins.Load())
	}
}

func testAuditRetention(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	old := scheduler.AuditEntry{Time: now.Add(-48 * time.Hour), Actor: "a", Action: "settings.update", Version: 1}
	mid := scheduler.AuditEntry{Time: now.Add(-time.Hour), Actor: "b", Action: "templates.update", Version: 2,
		Changes: []scheduler.AuditChange{{Field: "settings.helpUrl", Old: "https://a.example", New: "https://b.example"}}}
	last := scheduler.AuditEntry{Time: now, Actor: "c", Action: "refresh.create", Detail: "dry run x"}
	for _, e := range []scheduler.AuditEntry{old, mid} {
		mustNil(t, "append", s.AppendAudit(ctx, e, 365*24*time.Hour))
	}
	// The newest entry comes with a day's retention: the 48-hour-old one goes.
	mustNil(t, "append", s.AppendAudit(ctx, last, 24*time.Hour))
	got, err := s.Audit(ctx, 10)
	mustNil(t, "audit", err)
	if len(got) != 2 || got[0].Actor != "c" || got[1].Actor != "b" || !slices.Equal(got[1].Changes, mid.Changes) || !got[1].Time.Equal(mid.Time) {
		t.Fatalf("audit = %+v", got)
	}
	if got, _ := s.Audit(ctx, 1); len(got) != 1 || got[0].Actor != "c" {
		t.Fatalf("audit limited to 1 = %+v", got)
	}
}

func sampleJob(id string, created time.Time) scheduler.RefreshJob {
	return scheduler.RefreshJob{ID: id, DryRun: true, Created: created, Creator: "oid", Start: created, End: created.Add(time.Hour),
		SettingsVersion: 3, Snapshot: []byte(`{"version":3}`), Status: scheduler.JobPending}
}

func testJobs(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a, b := sampleJob("job-a", now.Add(-time.Minute)), sampleJob("job-b", now)
	mustNil(t, "create a", s.CreateJob(ctx, a, long))
	mustNil(t, "create b", s.CreateJob(ctx, b, long))
	if err := s.CreateJob(ctx, a, long); scheduler.ErrorCode(err) != scheduler.ECodeConflict {
		t.Fatalf("creating a job twice: %v", err)
	}
	ids, err := s.Jobs(ctx, 10)
	mustNil(t, "jobs", err)
	if !slices.Equal(ids, []string{"job-b", "job-a"}) {
		t.Fatalf("jobs = %v, want newest first", ids)
	}
	b.Status, b.Listed = scheduler.JobRunning, true
	mustNil(t, "update", s.UpdateJob(ctx, b, long))
	got, err := s.Job(ctx, "job-b")
	mustNil(t, "job", err)
	if got.Status != scheduler.JobRunning || !got.Listed || string(got.Snapshot) != `{"version":3}` || !got.Created.Equal(now) {
		t.Fatalf("job = %+v", got)
	}
	if _, err := s.Job(ctx, "nope"); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Fatalf("missing job: %v", err)
	}
	if err := s.UpdateJob(ctx, sampleJob("nope", now), long); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Fatalf("updating a missing job: %v", err)
	}
}

func testJobMailboxes(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	mustNil(t, "create", s.CreateJob(ctx, sampleJob("j", time.Now()), long))
	mbs := []scheduler.RefreshMailbox{{ID: "m1", Sealed: []byte{1}}, {ID: "m2", Sealed: []byte{2}}}
	mustNil(t, "add", s.AddMailboxes(ctx, "j", mbs, long))
	mustNil(t, "add again", s.AddMailboxes(ctx, "j", mbs[:1], long))
	got, err := s.Mailboxes(ctx, "j")
	mustNil(t, "mailboxes", err)
	slices.SortFunc(got, func(a, b scheduler.RefreshMailbox) int { return cmpString(a.ID, b.ID) })
	if len(got) != 2 || got[0].ID != "m1" || got[1].Sealed[0] != 2 {
		t.Fatalf("mailboxes = %+v", got)
	}
	for i, id := range []string{"m1", "m1", "m2"} {
		n, err := s.FinishMailbox(ctx, "j", id, long)
		mustNil(t, "finish", err)
		if want := []int64{1, 1, 2}[i]; n != want {
			t.Fatalf("finished %s: count %d, want %d", id, n, want)
		}
	}
	done, err := s.MailboxesDone(ctx, "j")
	mustNil(t, "done", err)
	slices.Sort(done)
	if !slices.Equal(done, []string{"m1", "m2"}) {
		t.Fatalf("done = %v", done)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testLeases(t *testing.T, s AdminStores, advance func(time.Duration)) {
	ctx := context.Background()
	mustNil(t, "create", s.CreateJob(ctx, sampleJob("j", time.Now()), long))
	take := func(owner string) bool {
		ok, err := s.Lease(ctx, "j", "mbx:1", owner, life)
		mustNil(t, "lease", err)
		return ok
	}
	if !take("A") || take("B") || !take("A") {
		t.Fatal("A must take the lease, B must not, A must renew it")
	}
	mustNil(t, "release by B", s.ReleaseLease(ctx, "j", "mbx:1", "B"))
	if take("B") {
		t.Fatal("B released a lease it did not hold")
	}
	advance(life + life/5)
	if !take("B") {
		t.Fatal("B must take an expired lease")
	}
	mustNil(t, "release", s.ReleaseLease(ctx, "j", "mbx:1", "B"))
	if !take("A") {
		t.Fatal("A must take a released lease")
	}
	var winners atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			if ok, err := s.Lease(ctx, "j", "race", fmt.Sprint(i), long); err == nil && ok {
				winners.Add(1)
			}
		})
	}
	wg.Wait()
	if winners.Load() != 1 {
		t.Fatalf("%d workers took one lease", winners.Load())
	}
}

func testRecordOnce(t *testing.T, s AdminStores, _ func(time.Duration)) {
	ctx := context.Background()
	mustNil(t, "create", s.CreateJob(ctx, sampleJob("j", time.Now()), long))
	mustNil(t, "intent", s.MarkIntent(ctx, "j", "m/e1", long))
	if ok, err := s.HasIntent(ctx, "j", "m/e1"); err != nil || !ok {
		t.Fatalf("intent = %v, %v", ok, err)
	}
	row := scheduler.RefreshRow{MailboxID: "m", EventID: "e1", Conf: "123", Action: "update", Changes: "dial-in numbers"}
	var recorded atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			ok, err := s.Record(ctx, "j", "m/e1", row, long)
			if err != nil {
				t.Error(err)
			}
			if ok {
				recorded.Add(1)
			}
		})
	}
	wg.Wait()
	if recorded.Load() != 1 {
		t.Fatalf("one meeting recorded %d times", recorded.Load())
	}
	if ok, _ := s.HasIntent(ctx, "j", "m/e1"); ok {
		t.Fatal("recording must clear the intent")
	}
	if ok, err := s.Done(ctx, "j", "m/e1"); err != nil || !ok {
		t.Fatalf("done = %v, %v", ok, err)
	}
	skip := scheduler.RefreshRow{MailboxID: "m", EventID: "e2", Action: "skip", Reason: "not_organizer"}
	if ok, err := s.Record(ctx, "j", "m/e2", skip, long); err != nil || !ok {
		t.Fatalf("record e2: %v %v", ok, err)
	}
	mbRow := scheduler.RefreshRow{MailboxID: "x", Action: "skip", Reason: "no_mailbox"}
	for range 2 {
		if ok, err := s.Record(ctx, "j", "", mbRow, long); err != nil || !ok {
			t.Fatalf("a row without key is always added: %v %v", ok, err)
		}
	}
	counts, err := s.Counts(ctx, "j")
	mustNil(t, "counts", err)
	want := map[string]int64{"update": 1, "skip": 3, "skip:not_organizer": 1, "skip:no_mailbox": 2}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Fatalf("counts = %v, want %v", counts, want)
	}
	rows, err := s.Rows(ctx, "j", 0, 2)
	mustNil(t, "rows", err)
	if len(rows) != 2 || rows[0].EventID != "e1" || rows[0].Changes != "dial-in numbers" || rows[1].Reason != "not_organizer" {
		t.Fatalf("rows = %+v", rows)
	}
	if rows, _ := s.Rows(ctx, "j", 2, 10); len(rows) != 2 {
		t.Fatalf("rows from 2 = %+v", rows)
	}
}

func testTracking(t *testing.T, s AdminStores, advance func(time.Duration)) {
	ctx := context.Background()
	if _, err := s.Tracked(ctx, "m"); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Fatalf("missing state: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	st := scheduler.TrackState{DeltaLink: "https://graph/delta?t=1", Since: now, Start: now, End: now.Add(time.Hour), Ours: map[string]string{"e1": "123"}}
	mustNil(t, "save", s.SaveTracked(ctx, "m", st, life))
	got, err := s.Tracked(ctx, "m")
	mustNil(t, "tracked", err)
	if got.DeltaLink != st.DeltaLink || got.Ours["e1"] != "123" || !got.Since.Equal(now) {
		t.Fatalf("state = %+v", got)
	}
	for i, kind := range []string{"block_deleted", "time_changed"} {
		mustNil(t, "flag", s.AddFlag(ctx, scheduler.ChangeFlag{Time: now.Add(time.Duration(i) * time.Second), MailboxID: "m", Kind: kind, Action: "flagged"}, long))
	}
	flags, err := s.Flags(ctx, 10)
	mustNil(t, "flags", err)
	if len(flags) != 2 || flags[0].Kind != "time_changed" {
		t.Fatalf("flags = %+v", flags)
	}
	if ok, _ := s.TrackLease(ctx, "mbx:m", "A", life); !ok {
		t.Fatal("A must take the lease")
	}
	if ok, _ := s.TrackLease(ctx, "mbx:m", "B", life); ok {
		t.Fatal("B must not take A's lease")
	}
	advance(life + life/5)
	if _, err := s.Tracked(ctx, "m"); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Fatalf("expired state: %v", err)
	}
	if ok, _ := s.TrackLease(ctx, "mbx:m", "B", life); !ok {
		t.Fatal("B must take an expired lease")
	}
}
