package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

const (
	endpointMe       = "me"
	endpointMeetings = "meetings"
)

// The sandbox's seeded users; client i speaks for users[i%2].
var users = []string{"adele.vance@contoso.example", "alex.wilber@contoso.example"}

// graphRoutes are the emulated Graph's routes whose requests each pay the
// injected latency ($batch is left out: its sub-requests count on their own).
var graphRoutes = []string{
	emugraph.RouteMe, emugraph.RouteUsersGet, emugraph.RouteUsersList, emugraph.RouteMailbox,
	emugraph.RouteEventsList, emugraph.RouteEventsCreate, emugraph.RouteEventsGet, emugraph.RouteEventsUpdate,
	emugraph.RouteEventsDelete, emugraph.RouteEventsCancel, emugraph.RouteCalendarView,
	emugraph.RouteMeetingsCreate, emugraph.RouteMeetingsGet, emugraph.RouteMeetingsUpdate, emugraph.RouteMeetingsDelete,
}

// Results is one run of every scenario.
type Results struct {
	Date         string     `json:"date"`
	Latency      string     `json:"graphLatency"`
	Duration     string     `json:"durationPerScenario"`
	Redis        string     `json:"redisVersion"`
	LoadAverage  string     `json:"loadAverageBefore"`
	StartRSSKB   int64      `json:"startRssKB"`    // right after start, before any request
	IdleRSSKB    int64      `json:"idleRssKB"`     // with warm sessions, before the load
	IdleAnonKB   int64      `json:"idleRssAnonKB"` // of which private memory (heap, stacks)
	IdleFileKB   int64      `json:"idleRssFileKB"` // of which pages of the binary (shared, reclaimable)
	EndRSSKB     int64      `json:"endRssKB"`      // idle again after the load
	PeakRSSKB    int64      `json:"peakRssKB"`     // VmHWM at the end
	GraphPerMeet float64    `json:"graphCallsPerMeeting"`
	Scenarios    []Scenario `json:"scenarios"`
}

// Scenario is one endpoint at one concurrency level.
type Scenario struct {
	Endpoint string `json:"endpoint"`
	Clients  int    `json:"clients"`
	// Offered is the open-loop rate in requests per second; 0 for
	// closed-loop clients.
	Offered    float64        `json:"offeredRequestsPerSecond,omitempty"`
	Requests   int            `json:"requests"`
	Errors     map[string]int `json:"errors,omitempty"`
	Seconds    float64        `json:"seconds"`
	Throughput float64        `json:"requestsPerSecond"`
	P50        float64        `json:"p50ms"`
	P90        float64        `json:"p90ms"`
	P99        float64        `json:"p99ms"`
	Max        float64        `json:"maxms"`
	// Graph calls per request: as the service counted them (every attempt)
	// and as the emulated Graph received them; on-behalf-of token requests.
	GraphCalls float64 `json:"graphCallsPerRequest"`
	// GraphMs is the time the service waited for Graph's answers, per
	// request, from its own histogram (the injected latency, the network
	// and the emulator's work, which a real Graph does on its side).
	GraphMs      float64 `json:"graphMsPerRequest"`
	GraphHits    float64 `json:"emulatorHitsPerRequest"`
	TokenCalls   float64 `json:"tokenCallsPerRequest"`
	OverheadP50  float64 `json:"overheadP50ms"`
	OverheadP99  float64 `json:"overheadP99ms"`
	Allocs       float64 `json:"allocsPerRequest"`
	AllocKB      float64 `json:"allocKBPerRequest"`
	CPUms        float64 `json:"serviceCpuMsPerRequest"`
	GCs          float64 `json:"gcCyclesPer1000Requests"`
	LoadCPUms    float64 `json:"loadGeneratorCpuMsPerRequest"`
	PeakRSSKB    int64   `json:"peakRssKB"`
	CPUProfile   string  `json:"cpuProfile,omitempty"`
	AllocProfile string  `json:"allocProfile,omitempty"`
}

// measure starts the service and runs every scenario against it.
func measure(ctx context.Context, cfg config) (*Results, error) {
	res := &Results{Date: time.Now().UTC().Format("2006-01-02"), Latency: cfg.Latency.String(), Duration: cfg.Duration.String()}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		res.LoadAverage = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	if cfg.Redis == "" {
		url, stop, err := startRedis(ctx)
		if err != nil {
			return nil, err
		}
		defer stop()
		cfg.Redis = url
	}
	rdb, err := flushRedis(ctx, cfg.Redis)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	defer rdb.FlushDB(context.WithoutCancel(ctx))
	if info, err := rdb.Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				res.Redis = v
			}
		}
	}

	bin := cfg.Bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "webscheduler-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		tags := ""
		if cfg.ProfileDir != "" {
			tags = "pprof"
		}
		if bin, err = build(ctx, dir, tags, cfg.Log); err != nil {
			return nil, err
		}
	}
	svc, err := startService(ctx, bin, cfg.Redis, cfg.ProfileDir != "", cfg.Log)
	if err != nil {
		return nil, err
	}
	defer svc.stop()
	pid := svc.pid()
	res.StartRSSKB, _ = procStatus(pid, "VmRSS")

	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: 4096, IdleConnTimeout: 2 * time.Minute, DisableCompression: true,
	}}
	d := &driver{svc: svc, http: hc, run: time.Now().UnixNano()}
	for _, u := range users {
		tok, err := svc.token(u)
		if err != nil {
			return nil, err
		}
		d.tokens = append(d.tokens, tok)
		// Sign in: the session and the Graph token are cached from here on.
		if st, err := d.me(0, len(d.tokens)-1); err != nil || st != http.StatusOK {
			return nil, fmt.Errorf("warm-up GET /api/v1/me as %s: %d %v", u, st, err)
		}
	}
	res.IdleRSSKB, _ = procStatus(pid, "VmRSS")
	res.IdleAnonKB, _ = procStatus(pid, "RssAnon")
	res.IdleFileKB, _ = procStatus(pid, "RssFile")
	if slices.Contains(cfg.Endpoints, endpointMeetings) {
		n := slices.Max(cfg.Clients)
		if cfg.OpenRate[endpointMeetings] > 0 {
			n = max(n, cfg.OpenClients)
		}
		if err := d.createEvents(n); err != nil {
			return nil, err
		}
	}
	if err := svc.setLatency(cfg.Latency); err != nil {
		return nil, err
	}
	for _, ep := range cfg.Endpoints {
		rows := []load{}
		for _, c := range cfg.Clients {
			rows = append(rows, load{clients: c})
		}
		if r := cfg.OpenRate[ep]; r > 0 {
			rows = append(rows, load{clients: cfg.OpenClients, rate: r})
		}
		for _, l := range rows {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			sc, err := d.scenario(ctx, cfg, ep, l)
			if err != nil {
				return nil, err
			}
			sc.OverheadP50 = max(sc.P50-sc.GraphMs, 0)
			sc.OverheadP99 = max(sc.P99-sc.GraphMs, 0)
			fmt.Fprintf(cfg.Log, "load: %-8s %4d clients, offered %5.0f/s: %7.0f req/s  p50 %7.2f ms  p99 %7.2f ms  Graph calls/req %.2f  errors %v\n",
				ep, l.clients, l.rate, sc.Throughput, sc.P50, sc.P99, sc.GraphCalls, sc.Errors)
			res.Scenarios = append(res.Scenarios, sc)
			if ep == endpointMeetings && res.GraphPerMeet == 0 {
				res.GraphPerMeet = sc.GraphCalls
			}
		}
	}
	time.Sleep(time.Second)
	res.EndRSSKB, _ = procStatus(pid, "VmRSS")
	res.PeakRSSKB, _ = procStatus(pid, "VmHWM")
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// flushRedis connects to the benchmark's database and empties it.
func flushRedis(ctx context.Context, u string) (*redis.Client, error) {
	opt, err := redis.ParseURL(u)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	if opt.DB == 0 {
		return nil, fmt.Errorf("-redis: use a database of its own (not 0): it is flushed")
	}
	c := redis.NewClient(opt)
	if err := c.FlushDB(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("no Redis at %s (run scripts/test-deps.sh): %w", u, err)
	}
	return c, nil
}

// driver sends the measured requests.
type driver struct {
	svc    *service
	http   *http.Client
	tokens []string // per user
	events []string // per client: a calendar item of users[i%2]
	run    int64
	seq    atomic.Int64
}

func (d *driver) send(method, path string, user int, body []byte, hdr map[string]string) (int, []byte, error) {
	req, err := http.NewRequest(method, d.svc.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+d.tokens[user])
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func (d *driver) me(_, user int) (int, error) {
	st, _, err := d.send(http.MethodGet, "/api/v1/me", user, nil, nil)
	return st, err
}

var meetingStart = time.Now().UTC().Add(14 * 24 * time.Hour).Truncate(time.Hour)

func meetingBody(eventID string, create bool) []byte {
	m := map[string]any{
		"subject": "Benchmark", "timeZone": "UTC",
		"start": meetingStart.Format(time.RFC3339), "end": meetingStart.Add(30 * time.Minute).Format(time.RFC3339),
	}
	if create {
		m["createEvent"] = true
	} else {
		m["eventId"] = eventID
	}
	b, _ := json.Marshal(m)
	return b
}

// addMeeting is the add-in's "Add online meeting" on an existing item: a
// new conference, its join information stamped into the client's item.
func (d *driver) addMeeting(client, user int) (int, error) {
	key := fmt.Sprintf("bench-%d-%d", d.run, d.seq.Add(1))
	st, _, err := d.send(http.MethodPost, "/api/v1/meetings", user, meetingBody(d.events[client], false), map[string]string{"Idempotency-Key": key})
	return st, err
}

// createEvents gives every client a calendar item of its own to stamp, so
// that clients never contend for one item's change key.
func (d *driver) createEvents(n int) error {
	d.events = make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			st, body, err := d.send(http.MethodPost, "/api/v1/meetings", i%len(users), meetingBody("", true), nil)
			var out struct {
				EventID string `json:"eventId"`
			}
			if err == nil && st == http.StatusCreated {
				err = json.Unmarshal(body, &out)
			}
			if err == nil && (st != http.StatusCreated || out.EventID == "") {
				err = fmt.Errorf("creating a calendar item: %d %s", st, body)
			}
			if err != nil {
				errs <- err
				return
			}
			d.events[i] = out.EventID
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// counters are the service's cumulative counts at one moment.
type counters struct {
	graph, graphSec, mallocs, allocBytes, gcs float64
	hits, tokens                              int
	cpu, loadCPU                              time.Duration
}

func (d *driver) counters() (counters, error) {
	var c counters
	m, err := d.svc.metrics("webscheduler_graph_requests_total", "webscheduler_graph_request_duration_seconds_sum", "go_memstats_mallocs_total", "go_memstats_alloc_bytes_total", "go_gc_duration_seconds_count")
	if err != nil {
		return c, err
	}
	c.graphSec = m["webscheduler_graph_request_duration_seconds_sum"]
	c.graph, c.mallocs, c.allocBytes = m["webscheduler_graph_requests_total"], m["go_memstats_mallocs_total"], m["go_memstats_alloc_bytes_total"]
	c.gcs = m["go_gc_duration_seconds_count"]
	if c.hits, err = d.svc.hits("graph", graphRoutes); err != nil {
		return c, err
	}
	if c.tokens, err = d.svc.hits("entra", []string{"token"}); err != nil {
		return c, err
	}
	if c.cpu, err = cpuTime(d.svc.pid()); err != nil {
		return c, err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.loadCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c, nil
}

// load is how a scenario's clients send: closed-loop (rate 0) or on a
// fixed schedule adding up to rate requests per second.
type load struct {
	clients int
	rate    float64
}

// scenario runs one endpoint at one load: a warm-up, then the measured
// phase, with every request of each phase finished before the counters
// are read, so that they belong to exactly the measured requests.
func (d *driver) scenario(ctx context.Context, cfg config, ep string, l load) (Scenario, error) {
	sc := Scenario{Endpoint: ep, Clients: l.clients, Offered: l.rate}
	do, want := d.me, http.StatusOK
	if ep == endpointMeetings {
		do, want = d.addMeeting, http.StatusCreated
	}
	if cfg.Warmup > 0 {
		drive(ctx, l, cfg.Warmup, cfg.MaxPerRun, do, want)
	}
	before, err := d.counters()
	if err != nil {
		return sc, err
	}
	var profWG sync.WaitGroup
	var profErr error
	if cfg.ProfileDir != "" {
		name := filepath.Join(cfg.ProfileDir, fmt.Sprintf("%s-%d", ep, l.clients))
		if l.rate > 0 {
			name += fmt.Sprintf("-at-%.0f", l.rate)
		}
		sc.CPUProfile, sc.AllocProfile = name+".cpu.pprof", name+".allocs.pprof"
		if err := d.svc.profile("allocs", 0, name+".allocs-before.pprof"); err != nil {
			return sc, err
		}
		profWG.Go(func() {
			profErr = d.svc.profile("profile", max(int(cfg.Duration/time.Second), 1), sc.CPUProfile)
		})
	}
	stopRSS := make(chan struct{})
	rssDone := make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := procStatus(d.svc.pid(), "VmRSS"); err == nil {
				peak = max(peak, v)
			}
			select {
			case <-stopRSS:
				rssDone <- peak
				return
			case <-t.C:
			}
		}
	}()
	lat, errs, elapsed := drive(ctx, l, cfg.Duration, cfg.MaxPerRun, do, want)
	close(stopRSS)
	sc.PeakRSSKB = <-rssDone
	profWG.Wait()
	if profErr != nil {
		return sc, profErr
	}
	if cfg.ProfileDir != "" {
		if err := d.svc.profile("allocs", 0, sc.AllocProfile); err != nil {
			return sc, err
		}
	}
	after, err := d.counters()
	if err != nil {
		return sc, err
	}
	n := len(lat)
	for _, v := range errs {
		n += v
	}
	if len(errs) > 0 {
		sc.Errors = errs
	}
	sc.Requests = n
	sc.Seconds = elapsed.Seconds()
	if n == 0 {
		return sc, fmt.Errorf("%s at %d clients: no request finished", ep, l.clients)
	}
	per := func(a, b float64) float64 { return (b - a) / float64(n) }
	sc.Throughput = float64(len(lat)) / elapsed.Seconds()
	slices.Sort(lat)
	sc.P50, sc.P90, sc.P99, sc.Max = pct(lat, 0.50), pct(lat, 0.90), pct(lat, 0.99), pct(lat, 1)
	sc.GraphCalls = per(before.graph, after.graph)
	sc.GraphMs = 1000 * per(before.graphSec, after.graphSec)
	sc.GraphHits = per(float64(before.hits), float64(after.hits))
	sc.TokenCalls = per(float64(before.tokens), float64(after.tokens))
	sc.Allocs = per(before.mallocs, after.mallocs)
	sc.AllocKB = per(before.allocBytes, after.allocBytes) / 1024
	sc.CPUms = ms(after.cpu-before.cpu) / float64(n)
	sc.GCs = 1000 * per(before.gcs, after.gcs)
	sc.LoadCPUms = ms(after.loadCPU-before.loadCPU) / float64(n)
	return sc, nil
}

// pct is the p-quantile of sorted latencies, in milliseconds.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := max(int(math.Ceil(p*float64(len(sorted))))-1, 0)
	return ms(sorted[i])
}

// drive runs l's clients until d has passed or max requests were sent.
// Closed-loop, each client sends its next request when the previous one
// is answered. Open-loop, client c sends at c/rate + k·clients/rate
// seconds from the start, its schedule spreading the rate evenly; a
// request that had to wait for its client's previous answer counts from
// its scheduled time, so the delay still shows (no coordinated omission). It returns the latencies of the answers with status want,
// and counts the rest by status or error.
func drive(ctx context.Context, l load, d time.Duration, maxReq int, do func(client, user int) (int, error), want int) ([]time.Duration, map[string]int, time.Duration) {
	var mu sync.Mutex
	var all []time.Duration
	errs := map[string]int{}
	var sent atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	var period time.Duration
	if l.rate > 0 {
		period = time.Duration(float64(l.clients) / l.rate * float64(time.Second))
	}
	for c := range l.clients {
		wg.Go(func() {
			lat := make([]time.Duration, 0, 1024)
			bad := map[string]int{}
			next := start.Add(time.Duration(c) * period / time.Duration(l.clients))
			for ctx.Err() == nil {
				t0 := time.Now()
				if period > 0 {
					if next.After(deadline) {
						break
					}
					if wait := next.Sub(t0); wait > 0 {
						time.Sleep(wait)
						t0 = time.Now() // the timer's lateness is the generator's, not the service's
					} else {
						t0 = next // late because the previous answer was: the service's
					}
					next = next.Add(period)
				} else if !t0.Before(deadline) {
					break
				}
				if sent.Add(1) > int64(maxReq) {
					break
				}
				st, err := do(c, c%len(users))
				el := time.Since(t0)
				switch {
				case err != nil:
					bad["error: "+errClass(err)]++
				case st != want:
					bad[fmt.Sprintf("status %d", st)]++
				default:
					lat = append(lat, el)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			for k, v := range bad {
				errs[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, errs, time.Since(start)
}

func errClass(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
