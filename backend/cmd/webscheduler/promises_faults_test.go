package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// ownRedis is a redis-server of the test's own, so it can be killed and
// brought back without disturbing other tests. It persists with AOF, as
// production does (DESIGN §5), so what was written before a crash returns.
type ownRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is not installed (run `make test`, which installs it): %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &ownRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.kill)
	return r
}

func (r *ownRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--logfile", filepath.Join(r.dir, "redis.log"))
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer c.Close()
	for range 100 {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

// kill stops Redis the hard way, as a crash would.
func (r *ownRedis) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// TestRedisStoppedMidFlow: with the store gone, requests that need it fail
// with 503 store_unavailable and write nothing to the calendar; pages that
// need no store keep working; when the store returns, so does the service,
// and a request cut off in the middle can be retried to one consistent
// meeting.
func TestRedisStoppedMidFlow(t *testing.T) {
	t.Parallel()
	rd := startOwnRedis(t)
	h := startSandbox(t, map[string]string{
		"WEBSCHEDULER_REDIS_URL":      rd.url(),
		"WEBSCHEDULER_ENCRYPTION_KEY": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=",
	}, "")
	tok := h.token(adele)
	if resp := h.do("GET", "/api/v1/me", tok, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("me: %d", resp.StatusCode)
	}
	evs := h.mailbox(adele)
	wantBlocks := func(evID string, n int, when string) {
		t.Helper()
		ev := h.event(adele, evID)
		if got := blocks(ev.Body.Content, typeOf(ev)); got != n {
			t.Fatalf("%s: %d join blocks in the item, want %d", when, got, n)
		}
	}
	storeDown := func(method, path string, body any, when string) {
		t.Helper()
		var e apiError
		if resp := h.do(method, path, tok, body, &e); resp.StatusCode != 503 || e.Error.Code != "store_unavailable" {
			t.Fatalf("%s: %d %+v, want 503 store_unavailable", when, resp.StatusCode, e)
		}
	}

	// Between requests.
	rd.kill()
	storeDown("GET", "/api/v1/me", nil, "me without the store")
	storeDown("POST", "/api/v1/meetings", meetingRequest(evs[0].ID), "create without the store")
	wantBlocks(evs[0].ID, 0, "after a create without the store")
	var e apiError
	if resp := h.do("GET", "/readyz", "", nil, &e); resp.StatusCode != 503 || e.Error.Code != "store_unavailable" {
		t.Fatalf("readyz without the store: %d %+v", resp.StatusCode, e)
	}
	for _, p := range []string{"/healthz", "/help", "/addin/taskpane.html"} {
		if resp := h.do("GET", p, "", nil, nil); resp.StatusCode != 200 {
			t.Errorf("%s needs no store but answered %d", p, resp.StatusCode)
		}
	}
	rd.start()
	waitReady(t, h)
	m, resp := h.create(tok, meetingRequest(evs[0].ID), "after-restart")
	if resp.StatusCode != 201 {
		t.Fatalf("create after the store returned: %d", resp.StatusCode)
	}
	wantBlocks(evs[0].ID, 1, "after the store returned")

	// In the middle of requests: the store dies while two calendar writes
	// are on their way to Graph, one into an existing item, one creating an
	// item (which sends the invitations).
	g := h.in.sandbox.Graph.Faults()
	g.Set("events.update", fault.Fault{Delay: 1500 * time.Millisecond, Times: 1})
	g.Set("events.create", fault.Fault{Delay: 1500 * time.Millisecond, Times: 1})
	created := meetingRequest("")
	created["createEvent"], created["subject"] = true, "Cut off by the store"
	cutOff := []struct {
		key string
		req map[string]any
	}{{"cut-off-stamp", meetingRequest(evs[1].ID)}, {"cut-off-create", created}}
	results := make(chan string, len(cutOff))
	for _, c := range cutOff {
		go func() {
			var e apiError
			resp := h.doWith("POST", "/api/v1/meetings", tok, c.req, &e, map[string]string{"Idempotency-Key": c.key})
			results <- fmt.Sprintf("%s: %d %s", c.key, resp.StatusCode, e.Error.Code)
		}()
	}
	time.Sleep(750 * time.Millisecond)
	rd.kill()
	for range cutOff {
		if got := <-results; !strings.HasSuffix(got, ": 503 store_unavailable") {
			t.Fatalf("request cut off by the store: %s, want 503 store_unavailable", got)
		}
	}
	wantBlocks(evs[1].ID, 0, "after the store went away during the write")
	rd.start()
	waitReady(t, h)
	// Retried with the same keys, both resume their meeting: the item gets
	// one block naming it, and the created item is adopted, not made twice.
	retried := make([]meetingBody, len(cutOff))
	codes := make([]int, len(cutOff))
	var wg sync.WaitGroup
	for i, c := range cutOff {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, resp := h.create(tok, c.req, c.key)
			retried[i], codes[i] = m, resp.StatusCode
		}()
	}
	wg.Wait()
	if codes[0] != 201 || codes[1] != 201 {
		t.Fatalf("retries after the store returned: %v", codes)
	}
	wantBlocks(evs[1].ID, 1, "after the retry")
	ev := h.event(adele, evs[1].ID)
	if id, _ := joininfo.ConferenceIDOf(ev.Body.Content, typeOf(ev)); id != retried[0].ConferenceID {
		t.Fatalf("the item names conference %s, the meeting is %s", id, retried[0].ConferenceID)
	}
	var got meetingBody
	if resp := h.do("GET", "/api/v1/meetings/"+retried[0].ID, tok, nil, &got); resp.StatusCode != 200 || got.EventID != evs[1].ID {
		t.Fatalf("the retried meeting: %d %+v", resp.StatusCode, got)
	}
	n := 0
	for _, ev := range h.mailbox(adele) {
		if ev.Subject == "Cut off by the store" {
			n++
			if ev.ID != retried[1].EventID {
				t.Errorf("the created meeting names item %s, the mailbox has %s", retried[1].EventID, ev.ID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d items created for one meeting, want 1", n)
	}
	if resp := h.do("GET", "/api/v1/meetings/"+m.ID, tok, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("the meeting made before the crash is gone: %d", resp.StatusCode)
	}
}

func waitReady(t *testing.T, h *harness) {
	t.Helper()
	for range 100 {
		if resp := h.do("GET", "/readyz", "", nil, nil); resp.StatusCode == 200 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the service did not become ready after the store returned")
}

// TestMeetingFaultsGiveClearCodes extends TestGraphAndEntraFaults (which
// covers /api/v1/me) to adding a meeting to an item: each failure of Graph
// or Entra ID answers its own code, leaves the item as it was, and the
// same request succeeds once the fault is gone.
func TestMeetingFaultsGiveClearCodes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, service, route string
		fault                fault.Fault
		status               int
		code, retryAfter     string
	}{
		{"Graph read fails", "graph", "events.get", fault.Fault{Status: 500}, 502, "graph_unavailable", ""},
		{"Graph write unavailable", "graph", "events.update", fault.Fault{Status: 503, RetryAfter: 30 * time.Second}, 502, "graph_unavailable", "30"},
		{"Graph throttles for long", "graph", "events.get", fault.Fault{Status: 429, RetryAfter: 120 * time.Second}, 503, "graph_throttled", "120"},
		{"Graph refuses the token", "graph", "events.get", fault.Fault{Status: 401}, 401, "token_exchange_failed", ""},
		{"on-behalf-of refused", "entra", "token", fault.Fault{Status: 400}, 401, "token_exchange_failed", ""},
		{"Entra ID unavailable", "entra", "token", fault.Fault{Status: 503}, 503, "service_unavailable", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := startSandbox(t, nil, "")
			tok := h.token(adele)
			ev := h.mailbox(adele)[0]
			inj := h.in.sandbox.Graph.Faults()
			if tt.service == "entra" {
				inj = h.in.sandbox.Entra.Faults()
			}
			inj.Set(tt.route, tt.fault)
			var e apiError
			resp := h.doWith("POST", "/api/v1/meetings", tok, meetingRequest(ev.ID), &e, map[string]string{"Idempotency-Key": "fault"})
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Fatalf("%d %+v Retry-After %q, want %d %s %q", resp.StatusCode, e, resp.Header.Get("Retry-After"), tt.status, tt.code, tt.retryAfter)
			}
			if strings.Contains(e.Error.Message, "status") || strings.Contains(e.Error.Message, "graph ") {
				t.Errorf("the message carries internal detail: %q", e.Error.Message)
			}
			if n := blocks(h.event(adele, ev.ID).Body.Content, joininfo.BodyHTML); n != 0 {
				t.Fatalf("the failure left %d join blocks", n)
			}
			inj.Clear(tt.route)
			if _, resp := h.create(tok, meetingRequest(ev.ID), "fault"); resp.StatusCode != 201 {
				t.Fatalf("after the fault cleared: %d", resp.StatusCode)
			}
			if n := blocks(h.event(adele, ev.ID).Body.Content, joininfo.BodyHTML); n != 1 {
				t.Fatalf("%d join blocks after the retry", n)
			}
		})
	}
}
