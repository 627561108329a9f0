package refresh

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"html"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/settings"
)

var (
	oldNumbers = []joininfo.DialIn{{Region: "Seattle", Number: "+1 206-555-0142"}}
	newNumbers = []joininfo.DialIn{{Region: "Seattle", Number: "+1 206-555-0100"}, {Region: "Berlin", Number: "+49 30 23125 100"}}
	tmpl       = joininfo.DefaultTemplates()
)

func block(conf string, numbers []joininfo.DialIn, locale string) joininfo.Block {
	b, err := tmpl.Render(locale, joininfo.Meeting{JoinURL: "https://meet.example/" + conf, ConferenceID: conf, DialIn: numbers, OrganizerName: "Org"})
	if err != nil {
		panic(err)
	}
	return b
}

// fakeBlocks renders what an invitation should show now: the new numbers
// for the conferences it knows.
type fakeBlocks struct{ known map[string]bool }

func (f fakeBlocks) Block(_ context.Context, conf, _, locale string) (scheduler.Conference, joininfo.Block, error) {
	if !f.known[conf] {
		return scheduler.Conference{}, joininfo.Block{}, scheduler.ErrNotFound
	}
	return scheduler.Conference{ConferenceID: conf}, block(conf, newNumbers, locale), nil
}

func (f fakeBlocks) Blocks(_ context.Context, conf, _ string) (func(string) (joininfo.Block, error), error) {
	if !f.known[conf] {
		return nil, scheduler.ErrNotFound
	}
	return func(locale string) (joininfo.Block, error) { return block(conf, newNumbers, locale), nil }, nil
}

type fakeEvent struct {
	scheduler.Event
	writes int
}

// fakeGraph is a tenant's calendars that records how it is used.
type fakeGraph struct {
	mu          sync.Mutex
	users       []scheduler.DirectoryUser
	events      map[string][]*fakeEvent // by mailbox ID
	pageSize    int
	inflight    map[string]int
	maxInflight map[string]int
	total       int // requests in flight, every mailbox's
	maxTotal    int
	batches     []int
	perBatchMbx int // the most writes for one mailbox in one batch
	// throttle answers 429 with Retry-After this many times per event.
	throttle   map[string]int
	retryAfter time.Duration
	// conflict edits an event just before its first write lands.
	conflict map[string]bool
	// killAfter, when > 0, kills the "process" once that many writes have
	// landed: the batch's response is lost and every later call fails.
	killAfter int
	landed    int
	killed    atomic.Bool
	latency   time.Duration
}

var errKilled = errors.New("killed")

func (g *fakeGraph) enter(mb string) error {
	if g.killed.Load() {
		return errKilled
	}
	g.mu.Lock()
	g.inflight[mb]++
	g.maxInflight[mb] = max(g.maxInflight[mb], g.inflight[mb])
	g.total++
	g.maxTotal = max(g.maxTotal, g.total)
	g.mu.Unlock()
	return nil
}

func (g *fakeGraph) leave(mb string) {
	time.Sleep(g.latency)
	g.mu.Lock()
	g.inflight[mb]--
	g.total--
	g.mu.Unlock()
}

func (g *fakeGraph) Users(_ context.Context, next string) ([]scheduler.DirectoryUser, string, error) {
	if g.killed.Load() {
		return nil, "", errKilled
	}
	i := 0
	fmt.Sscan(next, &i)
	end := min(i+2, len(g.users))
	n := ""
	if end < len(g.users) {
		n = fmt.Sprint(end)
	}
	return slices.Clone(g.users[i:end]), n, nil
}

func (g *fakeGraph) User(_ context.Context, id string) (scheduler.DirectoryUser, error) {
	for _, u := range g.users {
		if u.ID == id || strings.EqualFold(u.UPN, id) {
			return u, nil
		}
	}
	return scheduler.DirectoryUser{}, scheduler.ErrNotFound
}

func (g *fakeGraph) Meetings(_ context.Context, mb string, _, _ time.Time, next string) ([]scheduler.Event, string, error) {
	if err := g.enter(mb); err != nil {
		return nil, "", err
	}
	defer g.leave(mb)
	g.mu.Lock()
	defer g.mu.Unlock()
	evs, ok := g.events[mb]
	if !ok {
		return nil, "", scheduler.Errorf(scheduler.ECodeNotFound, "no mailbox")
	}
	i := 0
	fmt.Sscan(next, &i)
	end := min(i+g.pageSize, len(evs))
	var out []scheduler.Event
	for _, e := range evs[i:end] {
		if e.Type != "seriesMaster" {
			out = append(out, e.Event)
		}
	}
	n := ""
	if end < len(evs) {
		n = fmt.Sprint(end)
	}
	return out, n, nil
}

func (g *fakeGraph) find(mb, id string) *fakeEvent {
	for _, e := range g.events[mb] {
		if e.ID == id {
			return e
		}
	}
	return nil
}

func (g *fakeGraph) MailboxEvent(_ context.Context, mb, id string) (scheduler.Event, error) {
	if err := g.enter(mb); err != nil {
		return scheduler.Event{}, err
	}
	defer g.leave(mb)
	g.mu.Lock()
	defer g.mu.Unlock()
	if e := g.find(mb, id); e != nil {
		return e.Event, nil
	}
	return scheduler.Event{}, scheduler.ErrNotFound
}

func (g *fakeGraph) WriteBodies(_ context.Context, ws []scheduler.BodyWrite) ([]scheduler.WriteResult, error) {
	if len(ws) > MaxBatch {
		return nil, fmt.Errorf("batch of %d", len(ws))
	}
	per := map[string]int{}
	for _, w := range ws {
		if err := g.enter(w.Mailbox); err != nil {
			return nil, err
		}
		per[w.Mailbox]++
	}
	defer func() {
		for _, w := range ws {
			g.leave(w.Mailbox)
		}
	}()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.batches = append(g.batches, len(ws))
	for _, n := range per {
		g.perBatchMbx = max(g.perBatchMbx, n)
	}
	out := make([]scheduler.WriteResult, len(ws))
	kill := false
	for i, w := range ws {
		e := g.find(w.Mailbox, w.EventID)
		switch {
		case e == nil:
			out[i].Status = http.StatusNotFound
		case g.throttle[e.ID] > 0:
			g.throttle[e.ID]--
			out[i] = scheduler.WriteResult{Status: http.StatusTooManyRequests, RetryAfter: g.retryAfter}
		case g.conflict[e.ID]:
			delete(g.conflict, e.ID)
			e.Body = strings.Replace(e.Body, "<p>", "<p>Edited meanwhile. ", 1)
			e.ChangeKey += "'"
			out[i].Status = http.StatusPreconditionFailed
		case w.ChangeKey != e.ChangeKey:
			out[i].Status = http.StatusPreconditionFailed
		default:
			e.Body, e.ChangeKey = w.Body, e.ChangeKey+"+"
			e.writes++
			g.landed++
			out[i].Status = http.StatusOK
			if g.killAfter > 0 && g.landed >= g.killAfter {
				kill = true
			}
		}
	}
	if kill {
		g.killed.Store(true)
		return nil, errKilled
	}
	return out, nil
}

func (g *fakeGraph) CalendarDelta(context.Context, string, time.Time, time.Time, string) ([]scheduler.EventChange, string, error) {
	return nil, "", errors.New("not used")
}

// killableStore fails every call once the fake Graph's process is killed,
// as a process that is gone writes nothing more to Redis.
type killableStore struct {
	scheduler.JobStore
	g *fakeGraph
}

func (k killableStore) Record(ctx context.Context, id, key string, row scheduler.RefreshRow, ttl time.Duration) (bool, error) {
	if k.g.killed.Load() {
		return false, errKilled
	}
	return k.JobStore.Record(ctx, id, key, row, ttl)
}

func (k killableStore) FinishMailbox(ctx context.Context, id, mb string, ttl time.Duration) (int64, error) {
	if k.g.killed.Load() {
		return 0, errKilled
	}
	return k.JobStore.FinishMailbox(ctx, id, mb, ttl)
}

func (k killableStore) ReleaseLease(ctx context.Context, id, name, owner string) error {
	if k.g.killed.Load() {
		return errKilled
	}
	return k.JobStore.ReleaseLease(ctx, id, name, owner)
}

func (k killableStore) UpdateJob(ctx context.Context, j scheduler.RefreshJob, ttl time.Duration) error {
	if k.g.killed.Load() {
		return errKilled
	}
	return k.JobStore.UpdateJob(ctx, j, ttl)
}

const userText = "<p>Agenda: budget &amp; plans.</p>"

// tenant builds mailboxes with stale meetings and one of each special case
// in the first mailbox. It returns the meetings that should be updated.
func tenant(mailboxes, perMailbox int) (*fakeGraph, fakeBlocks, []string) {
	g := &fakeGraph{events: map[string][]*fakeEvent{}, pageSize: 7, inflight: map[string]int{}, maxInflight: map[string]int{},
		throttle: map[string]int{}, conflict: map[string]bool{}}
	known := map[string]bool{}
	var stale []string
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	for m := range mailboxes {
		mb := fmt.Sprintf("mb%02d", m)
		g.users = append(g.users, scheduler.DirectoryUser{ID: mb, UPN: mb + "@contoso.example", Name: "Org", Language: "en-US"})
		for i := range perMailbox {
			conf := fmt.Sprintf("%d%03d%03d", 1+m, i, 7)
			known[conf] = true
			ev := &fakeEvent{Event: scheduler.Event{
				ID: fmt.Sprintf("%s-ev%03d", mb, i), ChangeKey: "ck", BodyType: scheduler.BodyHTML, ConferenceID: conf,
				Body: joininfo.Replace(userText, joininfo.BodyHTML, block(conf, oldNumbers, "en")), IsOrganizer: true, Start: start,
				Type: "singleInstance",
			}}
			g.events[mb] = append(g.events[mb], ev)
			stale = append(stale, ev.ID)
		}
	}
	mb := "mb00"
	add := func(e scheduler.Event) { g.events[mb] = append(g.events[mb], &fakeEvent{Event: e}) }
	base := func(id, conf string, b joininfo.Block) scheduler.Event {
		return scheduler.Event{ID: id, ChangeKey: "ck", BodyType: scheduler.BodyHTML, ConferenceID: conf,
			Body: joininfo.Replace(userText, joininfo.BodyHTML, b), IsOrganizer: true, Start: start, Type: "singleInstance"}
	}
	known["9000001"], known["9000002"], known["9000003"], known["9000004"] = true, true, true, true
	attendee := base("attendee-copy", "9000001", block("9000001", oldNumbers, "en"))
	attendee.IsOrganizer = false
	add(attendee)
	missing := base("block-deleted", "9000002", block("9000002", oldNumbers, "en"))
	missing.Body = userText
	add(missing)
	add(base("other-block", "9000003", block("9000009", oldNumbers, "en")))
	add(base("unknown-conference", "9999999", block("9999999", oldNumbers, "en")))
	add(base("already-current", "9000004", block("9000004", newNumbers, "en")))
	// A German invitation stays German.
	known["9000005"] = true
	add(base("german", "9000005", block("9000005", oldNumbers, "de")))
	stale = append(stale, "german")
	// A weekly series: its occurrences share the master's body.
	known["9000006"] = true
	master := base("series", "9000006", block("9000006", oldNumbers, "en"))
	master.Type = "seriesMaster"
	add(master)
	for i := range 3 {
		o := base(fmt.Sprintf("series-%d", i), "9000006", block("9000006", oldNumbers, "en"))
		o.Type, o.SeriesMasterID = "occurrence", "series"
		add(o)
	}
	stale = append(stale, "series")
	return g, fakeBlocks{known: known}, stale
}

func newEngine(t *testing.T, g *fakeGraph, blk fakeBlocks, store scheduler.JobStore) *Engine {
	t.Helper()
	box, err := secret.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{
		Graph: g, Store: store, Box: box,
		Render:   func(settings.Snapshot) (Blocks, *joininfo.Templates, error) { return blk, tmpl, nil },
		LeaseTTL: 300 * time.Millisecond, Poll: 20 * time.Millisecond, Linger: 5 * time.Millisecond,
	}
}

func effective() *settings.Effective {
	src := map[string]settings.Locale{}
	h, x := joininfo.DefaultSources()
	for loc := range h {
		src[loc] = settings.Locale{HTML: h[loc], Text: x[loc]}
	}
	return &settings.Effective{Version: 4, Settings: conferencing.SandboxSettings("https://ws.example"), Sources: src}
}

func runJob(t *testing.T, e *Engine, req Request) Progress {
	t.Helper()
	job, err := e.Create(t.Context(), req, effective())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(t.Context(), job.ID); err != nil {
		t.Fatal(err)
	}
	p, err := e.Progress(t.Context(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (g *fakeGraph) event(id string) *fakeEvent {
	for _, evs := range g.events {
		for _, e := range evs {
			if e.ID == id {
				return e
			}
		}
	}
	return nil
}

// checkApplied checks every stale meeting was written exactly once, shows
// the new numbers, keeps the user's text and has one block; nothing else
// was written.
func checkApplied(t *testing.T, g *fakeGraph, stale []string) {
	t.Helper()
	for _, evs := range g.events {
		for _, e := range evs {
			want := 0
			if slices.Contains(stale, e.ID) {
				want = 1
			}
			if e.writes != want {
				t.Errorf("%s written %d times, want %d", e.ID, e.writes, want)
			}
			if want == 1 {
				if text := html.UnescapeString(e.Body); !strings.Contains(text, "+1 206-555-0100") || strings.Contains(text, "+1 206-555-0142") || !strings.Contains(e.Body, "Agenda: budget &amp; plans.</p><div id=") {
					t.Errorf("%s body = %.300q", e.ID, e.Body)
				}
				body := e.Body
				for n := 0; ; n++ {
					if _, _, ok := joininfo.Find(body, joininfo.BodyHTML); !ok {
						if n != 1 {
							t.Errorf("%s has %d blocks", e.ID, n)
						}
						break
					}
					body = joininfo.Remove(body, joininfo.BodyHTML)
				}
			}
		}
	}
}

func TestDryRunThenApply(t *testing.T) {
	t.Parallel()
	g, blk, stale := tenant(3, 25)
	g.latency = time.Millisecond
	store := inmem.NewAdmin()
	e := newEngine(t, g, blk, store)
	e.InFlight = 6

	dry := runJob(t, e, Request{DryRun: true})
	c := dry.Counts
	if g.landed != 0 || c[ActionUpdate] != int64(len(stale)) || c[ActionCurrent] != 1 || c["skip:not_organizer"] != 1 ||
		c["skip:block_missing"] != 1 || c["skip:block_mismatch"] != 1 || c["skip:conference_unknown"] != 1 || dry.MailboxesDone != 3 {
		t.Fatalf("dry run wrote %d; counts %v; progress %+v", g.landed, c, dry)
	}
	var buf bytes.Buffer
	if err := e.WriteCSV(t.Context(), &buf, dry.Job.ID, true); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(stale)+3 || !slices.Equal(rows[0], reportHeader) {
		t.Fatalf("stale CSV has %d rows: %v", len(rows), rows[:2])
	}
	for _, r := range rows[1:] {
		if r[5] == "would_update" && (r[0] == "" || r[7] != "dial-in numbers; text") {
			t.Fatalf("row %v", r)
		}
	}

	// Applying needs the dry run to match.
	if _, err := e.Create(t.Context(), Request{After: dry.Job.ID, Mailboxes: []string{"mb00"}}, effective()); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Fatalf("apply over other mailboxes: %v", err)
	}
	newer := effective()
	newer.Version = 5
	if _, err := e.Create(t.Context(), Request{After: dry.Job.ID}, newer); scheduler.ErrorCode(err) != scheduler.ECodeVersionConflict {
		t.Fatalf("apply with changed settings: %v", err)
	}
	apply := runJob(t, e, Request{After: dry.Job.ID})
	if apply.Counts[ActionUpdate] != int64(len(stale)) || apply.Job.Status != scheduler.JobDone {
		t.Fatalf("apply: %+v", apply)
	}
	checkApplied(t, g, stale)
	if g.event("german").Body == "" || !strings.Contains(g.event("german").Body, "Konferenz-ID") {
		t.Errorf("the German invitation is no longer German: %q", g.event("german").Body)
	}
	for _, n := range g.batches {
		if n > MaxBatch {
			t.Errorf("a batch of %d", n)
		}
	}
	if g.perBatchMbx > MaxConcurrent || len(g.batches) >= len(stale) {
		t.Errorf("%d writes for one mailbox in a batch; %d batches for %d writes", g.perBatchMbx, len(g.batches), len(stale))
	}
	for mb, n := range g.maxInflight {
		if n > MaxConcurrent {
			t.Errorf("%s had %d requests in flight", mb, n)
		}
	}
	if g.maxTotal > e.InFlight {
		t.Errorf("%d requests in flight, at most %d allowed", g.maxTotal, e.InFlight)
	}
	// A second apply finds everything current and writes nothing.
	landed := g.landed
	again := runJob(t, e, Request{})
	if g.landed != landed || again.Counts[ActionUpdate] != 0 || again.Counts[ActionCurrent] != int64(len(stale))+1 {
		t.Fatalf("second apply: wrote %d, counts %v", g.landed-landed, again.Counts)
	}
}

func TestThrottlingAndConflicts(t *testing.T) {
	t.Parallel()
	g, blk, stale := tenant(1, 6)
	g.throttle["mb00-ev001"], g.throttle["mb00-ev002"] = 2, 1
	g.retryAfter = time.Hour
	g.conflict["mb00-ev003"] = true
	e := newEngine(t, g, blk, inmem.NewAdmin())
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	start := clk.now()
	e.clock = clk
	p := runJob(t, e, Request{})
	if waited := clk.now().Sub(start); waited < 2*g.retryAfter {
		t.Errorf("the gates waited %v: Retry-After %v twice was not honoured", waited, g.retryAfter)
	}
	if p.Counts[ActionUpdate] != int64(len(stale)) {
		t.Fatalf("counts %v", p.Counts)
	}
	checkApplied(t, g, stale)
	if !strings.Contains(g.event("mb00-ev003").Body, "Edited meanwhile.") {
		t.Error("the edit made meanwhile was overwritten")
	}
}

func TestMailboxSelection(t *testing.T) {
	t.Parallel()
	g, blk, _ := tenant(3, 2)
	e := newEngine(t, g, blk, inmem.NewAdmin())
	p := runJob(t, e, Request{DryRun: true, Mailboxes: []string{"MB01@contoso.example", "nobody@contoso.example"}})
	if p.MailboxesTotal != 1 || p.Counts[ActionUpdate] != 2 || p.Counts["skip:no_mailbox"] != 1 {
		t.Fatalf("progress %+v", p)
	}
}

// A run killed at any point, its writes lost mid-batch and nothing more
// recorded, is finished by the next run with every meeting written once.
func TestKilledRunsResume(t *testing.T) {
	t.Parallel()
	for _, killAt := range []int{1, 9, 23, 40} {
		t.Run(fmt.Sprint(killAt), func(t *testing.T) {
			t.Parallel()
			g, blk, stale := tenant(3, 15)
			store := inmem.NewAdmin()
			e := newEngine(t, g, blk, killableStore{JobStore: store, g: g})
			job, err := e.Create(t.Context(), Request{}, effective())
			if err != nil {
				t.Fatal(err)
			}
			g.killAfter = killAt
			if err := e.Run(t.Context(), job.ID); err == nil {
				t.Fatal("the killed run finished")
			}
			landed := g.landed
			// The next process: same store, fresh worker; the dead one's
			// leases run out.
			g.killAfter = 0
			g.killed.Store(false)
			if err := newEngine(t, g, blk, store).Run(t.Context(), job.ID); err != nil {
				t.Fatal(err)
			}
			checkApplied(t, g, stale)
			p, _ := e.Progress(t.Context(), job.ID)
			if p.Counts[ActionUpdate] != int64(len(stale)) || p.Job.Status != scheduler.JobDone || landed < killAt {
				t.Fatalf("after resume: %v (landed %d before the kill)", p.Counts, landed)
			}
		})
	}
}

// Two workers on one job share its mailboxes and never process a meeting
// twice.
func TestTwoWorkersShareAJob(t *testing.T) {
	t.Parallel()
	g, blk, stale := tenant(8, 10)
	g.latency = 2 * time.Millisecond
	store := inmem.NewAdmin()
	a, b := newEngine(t, g, blk, store), newEngine(t, g, blk, store)
	a.Mailboxes, b.Mailboxes = 2, 2
	job, err := a.Create(t.Context(), Request{}, effective())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, e := range []*Engine{a, b} {
		wg.Go(func() {
			if err := e.Run(t.Context(), job.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	checkApplied(t, g, stale)
	rows, _ := store.Rows(t.Context(), job.ID, 0, 1000)
	seen := map[string]bool{}
	for _, r := range rows {
		if r.EventID != "" && seen[r.EventID] {
			t.Errorf("%s recorded twice", r.EventID)
		}
		seen[r.EventID] = true
	}
}

// fakeClock is time that passes only when a gate sleeps.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return ctx.Err()
}

// A mailbox's gate spends its window's budget at once, then lets requests
// through as the earliest leave the window: never more than the budget in
// any window.
func TestGateWindow(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	start := clk.now()
	g := newGate(make(chan struct{}, MaxConcurrent), clk)
	var sent []time.Time
	for range 3*windowBudget + 5 {
		if err := g.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, clk.now())
		g.release()
	}
	for i := range len(sent) - windowBudget {
		if in := sent[i+windowBudget].Sub(sent[i]); in < MailboxWindow {
			t.Fatalf("requests %d to %d went within %v", i, i+windowBudget, in)
		}
	}
	if !sent[windowBudget-1].Equal(start) || !sent[windowBudget].Equal(start.Add(MailboxWindow)) || !sent[len(sent)-1].Equal(start.Add(3*MailboxWindow)) {
		t.Fatalf("the budget was not spent as a burst per window: request %d at %v, %d at %v, the last at %v",
			windowBudget-1, sent[windowBudget-1].Sub(start), windowBudget, sent[windowBudget].Sub(start), sent[len(sent)-1].Sub(start))
	}
}

// Retry-After pauses a mailbox's gate; a shorter one does not end the pause
// sooner.
func TestGatePause(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	start := clk.now()
	g := newGate(make(chan struct{}, MaxConcurrent), clk)
	g.pause(30 * time.Second)
	g.pause(time.Second)
	if err := g.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := clk.now().Sub(start); got != 30*time.Second {
		t.Fatalf("the request went %v after a Retry-After of 30s", got)
	}
	g.release()
}

// At most MaxConcurrent requests are in flight per mailbox, and at most the
// worker's slots across its mailboxes.
func TestGateConcurrency(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{t: time.Unix(1e9, 0)}
	global := make(chan struct{}, 6)
	a, b := newGate(global, clk), newGate(global, clk)
	for range MaxConcurrent {
		if err := a.acquire(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	done, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.acquire(done); err == nil {
		t.Fatal("a fifth request to one mailbox got a slot")
	}
	a.release()
	if err := a.acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range MaxConcurrent {
		a.release()
	}

	// Many senders at once, counted.
	var mu sync.Mutex
	inFlight, most := map[*gate]int{}, map[*gate]int{}
	total, mostTotal := 0, 0
	var wg sync.WaitGroup
	for i := range 40 {
		g := []*gate{a, b}[i%2]
		wg.Go(func() {
			for range 200 {
				if err := g.acquire(t.Context()); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inFlight[g]++
				total++
				most[g], mostTotal = max(most[g], inFlight[g]), max(mostTotal, total)
				mu.Unlock()
				runtime.Gosched()
				mu.Lock()
				inFlight[g]--
				total--
				mu.Unlock()
				g.release()
			}
		})
	}
	wg.Wait()
	if most[a] > MaxConcurrent || most[b] > MaxConcurrent || mostTotal > cap(global) {
		t.Fatalf("in flight at most: %d and %d per mailbox, %d in all", most[a], most[b], mostTotal)
	}
}
