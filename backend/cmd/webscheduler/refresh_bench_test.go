package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// The bulk-refresh benchmark (bench/README.md). `go test` runs a tiny job
// to keep it working; `make bench` runs the full size:
//
//	go test -run '^TestBulkRefreshBench$' ./backend/cmd/webscheduler \
//	  -args -refresh.mailboxes=500 -refresh.meetings=20 -refresh.out=refresh.md
var (
	benchMailboxes = flag.Int("refresh.mailboxes", 3, "bulk-refresh benchmark: organizers' mailboxes")
	benchMeetings  = flag.Int("refresh.meetings", 4, "bulk-refresh benchmark: meetings per mailbox")
	benchLatency   = flag.Duration("refresh.latency", 20*time.Millisecond, "bulk-refresh benchmark: latency of every Graph request")
	benchOut       = flag.String("refresh.out", "", "bulk-refresh benchmark: write the results (Markdown) to this file")
	benchProfile   = flag.String("refresh.cpuprofile", "", "bulk-refresh benchmark: write a CPU profile of the job (not the seeding) to this file")
)

// TestBulkRefreshBench refreshes the join information of every meeting in
// a tenant whose emulated Graph answers after a fixed latency and enforces
// Graph's per-mailbox limits (4 concurrent requests, 10,000 per 10
// minutes, 429 with Retry-After beyond). It checks what must hold (every
// meeting written once, no request beyond the limits) and reports the
// wall time against the lower bound the limits allow and against the CPU
// floor of this machine (the job's CPU time spread over its cores); no
// time is judged.
func TestBulkRefreshBench(t *testing.T) {
	if *benchOut == "" {
		t.Parallel() // the full-size run is alone on the machine
	}
	nMbx, nMeet, latency := *benchMailboxes, *benchMeetings, *benchLatency
	users := organizers(nMbx)
	ln := listen(t)
	sb, err := sandbox.Start(sandbox.Options{PublicURL: "http://" + ln.Addr().String(), ExtraUsers: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	prefix := randomPrefix()
	env := redisEnv(t, prefix)
	env["WEBSCHEDULER_RATE_LIMIT_USER"], env["WEBSCHEDULER_RATE_LIMIT_IP"] = "0", "0" // the seeding is one script
	h := startOn(t, ln, env, testHooks{redisPrefix: prefix, sandbox: sb})

	seedStart := time.Now()
	if err := seedMeetings(h, users, nMeet); err != nil {
		t.Fatal(err)
	}
	seeded := time.Since(seedStart)
	h.changeNumbers(h.token(adele)) // every meeting's join information is now stale

	// The job's keys get a prefix of their own, so the service's runner
	// stays out: this run alone works the job.
	jobPrefix := randomPrefix()
	redisEnv(t, jobPrefix)
	client, err := redisstore.ParseURL(env["WEBSCHEDULER_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	eng := *h.in.admin.refresh
	eng.Store = redisstore.New(client, redisstore.Options{Prefix: jobPrefix})

	g := sb.Graph
	g.Faults().Reset()
	g.Faults().Set(fault.All, fault.Fault{Delay: latency})
	g.SetMailboxLimits(emugraph.GraphMailboxLimits)
	job, err := eng.Create(t.Context(), refresh.Request{}, h.in.admin.settings.Current())
	if err != nil {
		t.Fatal(err)
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if *benchProfile != "" {
		f, err := os.Create(*benchProfile)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
	}
	cpu0, redis0 := processCPU(t), redisCPU(t, client)
	start := time.Now()
	err = eng.Run(t.Context(), job.ID)
	wall := time.Since(start)
	cpu, redisUsed := processCPU(t)-cpu0, redisCPU(t, client)-redis0
	if *benchProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		t.Fatal(err)
	}
	stats := g.ThrottleStats()
	g.Faults().Clear(fault.All)

	p, err := eng.Progress(t.Context(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(nMbx * nMeet)
	if p.Job.Status != "done" || p.Counts[refresh.ActionUpdate] != total {
		t.Fatalf("job %+v, want %d meetings updated", p, total)
	}
	if stats.Rejected != 0 {
		t.Errorf("%d requests went beyond Graph's per-mailbox limits (429)", stats.Rejected)
	}
	if stats.MaxInFlight > emugraph.GraphMailboxLimits.Concurrent {
		t.Errorf("%d requests in flight on one mailbox", stats.MaxInFlight)
	}
	hits := func(routes ...string) int {
		n := 0
		for _, r := range routes {
			n += g.Faults().Hits(r)
		}
		return n
	}
	if n := hits(emugraph.RouteEventsUpdate); n != int(total) {
		t.Errorf("%d PATCHes reached Graph for %d meetings", n, total)
	}

	// The lower bound the limits allow, with unlimited parallelism across
	// mailboxes: the directory listed (one request: Graph returns up to
	// 999 users a page), then in each mailbox one calendar listing (up to
	// 1,000 events a page) before its writes, 4 at a time; each request
	// takes the latency. The window allows 10,000 per mailbox, so beyond
	// that every further 10,000 wait for the next window.
	lim := emugraph.GraphMailboxLimits
	perMailbox := 1 + nMeet
	rounds := 1 + 1 + (nMeet+lim.Concurrent-1)/lim.Concurrent
	bound := time.Duration(rounds)*latency + time.Duration((perMailbox-1)/lim.Requests)*lim.Window

	// The other floor: the CPU the job took (SDK, emulated Graph and
	// Entra ID, store client, the engine) spread over every core.
	cores := runtime.GOMAXPROCS(0)
	r := refreshResult{
		Mailboxes: nMbx, Meetings: int(total), Latency: latency, Wall: wall, Bound: bound, Seeding: seeded, CPU: cpu, Load: load,
		Cores: cores, Floor: cpu / time.Duration(cores), RedisCPU: redisUsed,
		HTTP:     hits(emugraph.RouteBatch, emugraph.RouteUsersList, emugraph.RouteCalendarView, emugraph.RouteEventsList, emugraph.RouteEventsGet, emugraph.RouteUsersGet),
		Admitted: stats.Admitted, Rejected: stats.Rejected, MaxInFlight: stats.MaxInFlight, MaxInWindow: stats.MaxInWindow,
		Batches: hits(emugraph.RouteBatch), Writes: hits(emugraph.RouteEventsUpdate),
	}
	t.Log(r.markdown())
	if *benchOut != "" {
		if err := os.WriteFile(*benchOut, []byte(r.markdown()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type refreshResult struct {
	Mailboxes, Meetings                       int
	Load                                      string // load average before the job
	Latency, Wall, Bound, Seeding, CPU        time.Duration
	Cores                                     int
	Floor, RedisCPU                           time.Duration
	HTTP, Admitted, Rejected, Batches, Writes int
	MaxInFlight, MaxInWindow                  int
}

func (r refreshResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "| what | measured |\n|---|---|\n")
	fmt.Fprintf(&b, "| meetings refreshed (mailboxes) | %d (%d organizers + the 2 seeded users) |\n", r.Meetings, r.Mailboxes)
	fmt.Fprintf(&b, "| Graph latency, limits | %s; 4 concurrent and 10,000 per 10 min per mailbox |\n", r.Latency)
	fmt.Fprintf(&b, "| wall time of the job | %.2f s |\n", r.Wall.Seconds())
	fmt.Fprintf(&b, "| lower bound from the limits | %.2f s (ratio %.1f×) |\n", r.Bound.Seconds(), r.Wall.Seconds()/r.Bound.Seconds())
	fmt.Fprintf(&b, "| CPU floor on this machine: CPU time of the process ÷ %d cores | %.2f s (ratio %.2f×) |\n", r.Cores, r.Floor.Seconds(), r.Wall.Seconds()/r.Floor.Seconds())
	fmt.Fprintf(&b, "| CPU time of the process (service, emulated Graph and Entra ID, worker) | %.1f s (%.1f cores busy on average) |\n", r.CPU.Seconds(), r.CPU.Seconds()/r.Wall.Seconds())
	fmt.Fprintf(&b, "| CPU time of the Redis server meanwhile (shared; not in the floor) | %.1f s |\n", r.RedisCPU.Seconds())
	fmt.Fprintf(&b, "| HTTP requests to Graph (%d of them `$batch`) | %d |\n", r.Batches, r.HTTP)
	fmt.Fprintf(&b, "| mailbox requests admitted (writes among them) | %d (%d) |\n", r.Admitted, r.Writes)
	fmt.Fprintf(&b, "| requests beyond the limits (429) | %d |\n", r.Rejected)
	fmt.Fprintf(&b, "| most requests in flight on one mailbox; most in one window | %d; %d |\n", r.MaxInFlight, r.MaxInWindow)
	fmt.Fprintf(&b, "| seeding the meetings through the API (not part of the job) | %.1f s |\n", r.Seeding.Seconds())
	fmt.Fprintf(&b, "| load average before the job | %s |\n", r.Load)
	return b.String()
}

// seedMeetings creates n meetings with calendar items for each user,
// through the API as the web page does, a few users at a time.
func seedMeetings(h *harness, users []sandbox.User, n int) error {
	errs := make(chan error, len(users))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- seedUser(h, u.UPN, n)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func seedUser(h *harness, upn string, n int) error {
	resp, err := http.PostForm(h.base+"/sandbox/token", map[string][]string{"user": {upn}})
	if err != nil {
		return err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("token for %s: %w", upn, err)
	}
	for i := range n {
		start := time.Now().Add(time.Duration(48+i) * time.Hour).UTC().Truncate(time.Hour)
		body, _ := json.Marshal(map[string]any{
			"subject": "Sync " + strconv.Itoa(i), "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
			"timeZone": "UTC", "createEvent": true, "attendees": []string{"alex.wilber@contoso.example"},
		})
		req, _ := http.NewRequest("POST", h.base+"/api/v1/meetings", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("creating meeting %d of %s: status %d", i, upn, resp.StatusCode)
		}
	}
	return nil
}

// redisCPU is the user and system CPU time the Redis server used so far.
func redisCPU(t *testing.T, c redis.UniversalClient) time.Duration {
	t.Helper()
	info, err := c.Info(t.Context(), "cpu").Result()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for line := range strings.SplitSeq(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			sum += f
		}
	}
	return time.Duration(sum * float64(time.Second))
}

// processCPU is the user and system CPU time this process used so far.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}
