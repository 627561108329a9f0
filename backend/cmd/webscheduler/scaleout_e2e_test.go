package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/tracking"
)

// countingEgress counts an instance's calendarView reads.
type countingEgress struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c countingEgress) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/calendarView") {
		c.n.Add(1)
	}
	return c.next.RoundTrip(r)
}

// Two service instances share one Redis (same prefix, same key) and one
// tenant: a session started on one works on the other, a settings change
// on one reaches the other, and a refresh job is worked by both without
// any meeting processed twice.
func TestScaleOutTwoInstances(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	counter := newWriteCounter()
	users := organizers(6)
	lnA, lnB := listen(t), listen(t)
	sb := newTenant(t, "http://"+lnA.Addr().String(), users, counter)
	env := redisEnv(t, prefix)
	var readsA, readsB atomic.Int64
	hooks := func(n *atomic.Int64) testHooks {
		return testHooks{
			redisPrefix: prefix, sandbox: sb,
			egress:    func(t *http.Transport) http.RoundTripper { return countingEgress{next: t, n: n} },
			tuneAdmin: func(e *refresh.Engine, _ *tracking.Tracker) { e.Mailboxes, e.LeaseTTL = 1, 2*time.Second },
		}
	}
	a := startOn(t, lnA, copyEnv(env), hooks(&readsA))
	b := startOn(t, lnB, copyEnv(env), hooks(&readsB))

	// A session started on A serves B: one directory read, one token exchange.
	tok := a.token(adele)
	var me meBody
	a.do("GET", "/api/v1/me", tok, nil, &me)
	b.do("GET", "/api/v1/me", tok, nil, &me)
	checkMe(t, me)
	if n := sb.Graph.Faults().Hits(emugraph.RouteMe); n != 1 {
		t.Errorf("%d /me reads for one session on two instances", n)
	}
	if n := sb.Entra.Faults().Hits("token"); n != 1 {
		t.Errorf("%d token exchanges for one session on two instances", n)
	}
	// A meeting created on A is B's to read.
	m := a.newMeetings(adele, 1)[0]
	var got meetingBody
	if resp := b.do("GET", "/api/v1/meetings/"+m.ID, tok, nil, &got); resp.StatusCode != 200 || got.ConferenceID != m.ConferenceID {
		t.Fatalf("meeting on B: %d %+v", resp.StatusCode, got)
	}

	var upns []string
	for i, u := range users {
		upns = append(upns, u.UPN)
		[]*harness{a, b}[i%2].newMeetings(u.UPN, 5)
	}
	upns = append(upns, adele)
	total := int64(len(users)*5 + 1)

	// Settings changed on A are in force on B within its poll.
	a.changeNumbers(tok)
	deadline := time.Now().Add(10 * time.Second)
	for b.in.admin.settings.Current().Version != a.in.admin.settings.Current().Version {
		if time.Now().After(deadline) {
			t.Fatal("B never saw A's settings")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var fresh meetingBody
	b.do("GET", "/api/v1/meetings/"+m.ID, tok, nil, &fresh)
	if !strings.Contains(fresh.JoinInfo.Text, "+1 206-555-0177") {
		t.Fatalf("B renders with old settings: %s", fresh.JoinInfo.Text)
	}

	// Slow mailboxes, so that both runners find work.
	sb.Graph.Faults().Set(emugraph.RouteCalendarView, fault.Fault{Delay: 300 * time.Millisecond})
	dry := a.startJob(tok, map[string]any{"dryRun": true})
	p := b.waitJob(tok, dry)
	if p.Counts[refresh.ActionUpdate] != total {
		t.Fatalf("dry run: %v", p.Counts)
	}
	counter.reset()
	readsA.Store(0)
	readsB.Store(0)
	p = a.waitJob(tok, b.startJob(tok, map[string]any{"dryRun": false, "after": dry}))
	sb.Graph.Faults().Clear(emugraph.RouteCalendarView)
	if p.Counts[refresh.ActionUpdate] != total || p.Meetings != total {
		t.Fatalf("apply: %+v", p)
	}
	if readsA.Load() == 0 || readsB.Load() == 0 {
		t.Errorf("the job was worked by one instance only (calendar reads: A %d, B %d)", readsA.Load(), readsB.Load())
	}
	if n := a.checkRefreshed(upns, counter); int64(n) != total {
		t.Fatalf("%d meetings, want %d", n, total)
	}
	rows := a.report(tok, "/api/v1/admin/refresh/"+p.Job.ID+"/report.csv")
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		if seen[r[2]] {
			t.Errorf("meeting %s in the report twice", r[2])
		}
		seen[r[2]] = true
	}
}

func copyEnv(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Changes made in another client are repaired or flagged.
func TestChangeTracking(t *testing.T) {
	t.Parallel()
	h := startSandboxWith(t, nil, testHooks{tuneAdmin: func(_ *refresh.Engine, tr *tracking.Tracker) { tr.Interval = 100 * time.Millisecond }})
	tok := h.token(adele)
	ms := h.newMeetings(adele, 3)
	sb := h.in.sandbox
	var flags struct {
		Enabled bool                   `json:"enabled"`
		Flags   []scheduler.ChangeFlag `json:"flags"`
	}
	waitFlag := func(kind, action string) scheduler.ChangeFlag {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			h.do("GET", "/api/v1/admin/changes", tok, nil, &flags)
			for _, f := range flags.Flags {
				if f.Kind == kind && f.Action == action {
					return f
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("no %s/%s flag; flags %+v", kind, action, flags.Flags)
		return scheduler.ChangeFlag{}
	}
	if resp := h.do("PUT", "/api/v1/admin/settings/tracking", tok, map[string]any{"enabled": true, "repair": true}, nil); resp.StatusCode != 200 {
		t.Fatalf("turning tracking on: %d", resp.StatusCode)
	}
	// Wait for the baseline.
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, err := h.in.admin.tracker.Store.Tracked(t.Context(), adeleOID); err == nil && len(st.Ours) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no baseline; log: %s", h.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The block deleted in Outlook comes back, the user's text kept.
	if err := sb.Graph.SetEventBody(adele, ms[0].EventID, "html", "<p>Notes only.</p>"); err != nil {
		t.Fatal(err)
	}
	f := waitFlag(tracking.KindBlockDeleted, tracking.ActionRepaired)
	ev := h.event(adele, ms[0].EventID)
	if f.Conf != ms[0].ConferenceID || blocks(ev.Body.Content, joininfo.BodyHTML) != 1 || !strings.Contains(ev.Body.Content, "Notes only.") {
		t.Fatalf("repair: flag %+v, body %.200q", f, ev.Body.Content)
	}

	// A meeting moved in another client: the conference follows.
	start := time.Now().Add(96 * time.Hour).UTC().Truncate(time.Hour)
	if err := sb.Graph.MoveEvent(adele, ms[1].EventID, start, start.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	waitFlag(tracking.KindTimeChanged, tracking.ActionUpdated)
	c, err := h.in.stores.ConferenceByID(t.Context(), ms[1].ConferenceID)
	if err != nil || !c.Start.Equal(start) || !c.End.Equal(start.Add(30*time.Minute)) {
		t.Fatalf("conference after the move: %+v %v", c, err)
	}

	// With repair off, a deleted block is only flagged.
	if resp := h.do("PUT", "/api/v1/admin/settings/tracking", tok, map[string]any{"enabled": true, "repair": false}, nil); resp.StatusCode != 200 {
		t.Fatal("turning repair off")
	}
	if err := sb.Graph.SetEventBody(adele, ms[2].EventID, "html", "<p>Mine now.</p>"); err != nil {
		t.Fatal(err)
	}
	waitFlag(tracking.KindBlockDeleted, tracking.ActionFlagged)
	if ev := h.event(adele, ms[2].EventID); strings.Contains(ev.Body.Content, "webscheduler") {
		t.Fatal("repair is off, yet the block was written back")
	}
	if err := sb.Graph.RemoveEvent(adele, ms[1].EventID); err != nil {
		t.Fatal(err)
	}
	waitFlag(tracking.KindEventDeleted, tracking.ActionFlagged)
}

// The refresh command: a dry run with its CSV, then an apply stopped
// abruptly and resumed, against the service's own tenant and Redis (whose
// job runner may help, as a replica would).
func TestRefreshCommand(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	counter := newWriteCounter()
	users := organizers(2)
	ln := listen(t)
	sb := newTenant(t, "http://"+ln.Addr().String(), users, counter)
	env := redisEnv(t, prefix)
	h := startOn(t, ln, env, testHooks{redisPrefix: prefix, sandbox: sb})
	for _, u := range users {
		h.newMeetings(u.UPN, 10)
	}
	h.changeNumbers(h.token(adele))
	cli := copyEnv(env)
	cli["WEBSCHEDULER_PUBLIC_URL"] = h.base
	refreshCmd := func(ctx context.Context, args ...string) (string, error) {
		var out bytes.Buffer
		err := runRefreshWith(ctx, append([]string{"--redis-prefix", prefix}, args...), envOf(cli), &out, sb)
		return out.String(), err
	}
	csvPath := filepath.Join(t.TempDir(), "plan.csv")
	out, err := refreshCmd(t.Context(), "--dry-run", "--csv", csvPath, "--stale")
	if err != nil || !strings.Contains(out, "Done: ") || !strings.Contains(out, "20 to update") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	plan, err := os.ReadFile(csvPath)
	if err != nil || strings.Count(string(plan), "would_update") != 20 || !strings.Contains(string(plan), "organizer1@contoso.example") {
		t.Fatalf("plan: %v\n%s", err, plan)
	}
	if _, err := refreshCmd(t.Context(), "--dry-run", "--after", "x"); err == nil {
		t.Fatal("--dry-run with --after accepted")
	}

	counter.reset()
	ctx, cancel := context.WithCancel(t.Context())
	var once sync.Once
	// Slow batches, so that the kill below lands mid-run even on a loaded
	// machine where the watcher wakes late.
	sb.Graph.Faults().Set(emugraph.RouteBatch, fault.Fault{Delay: 500 * time.Millisecond})
	go func() {
		for ctx.Err() == nil {
			if sb.Graph.Faults().Hits(emugraph.RouteBatch) > 0 {
				once.Do(cancel)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	out, err = refreshCmd(ctx, "--mailboxes", users[0].UPN+","+users[1].UPN)
	cancel()
	sb.Graph.Faults().Clear(emugraph.RouteBatch)
	id := ""
	if i := strings.Index(out, "--resume "); i >= 0 {
		id = strings.TrimRight(strings.Fields(out[i+len("--resume "):])[0], ")")
	}
	if id == "" {
		t.Fatalf("no job to resume: %v\n%s", err, out)
	}
	out, err = refreshCmd(t.Context(), "--resume", id)
	if err != nil || !strings.Contains(out, "Done: 2 mailboxes, 20 meetings: 20 updated") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if n := h.checkRefreshed([]string{users[0].UPN, users[1].UPN}, counter); n != 20 {
		t.Fatalf("%d meetings", n)
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	p := refresh.Progress{Listed: true, MailboxesTotal: 4, MailboxesDone: 1, Meetings: 9, Counts: map[string]int64{"update": 7, "current": 2}}
	if got := progressLine(p, true); got != "[#######-----------------------]  25% 1/4 mailboxes · 9 meetings (7 update, 2 current, 0 skipped, 0 failed)" {
		t.Errorf("bar = %q", got)
	}
	if got := progressLine(refresh.Progress{MailboxesTotal: 12}, false); got != "listing mailboxes… 12 so far" {
		t.Errorf("listing = %q", got)
	}
}
