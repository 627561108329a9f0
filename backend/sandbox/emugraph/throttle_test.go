package emugraph_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

func TestMailboxConcurrencyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.SetMailboxLimits(emugraph.MailboxLimits{Concurrent: 4})
	// Requests in flight hold their slot while the injected latency runs.
	e.srv.Faults().Set(fault.All, fault.Fault{Delay: 2 * time.Second})
	statuses := make(chan int, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { statuses <- e.call("GET", "/me/events", adele, nil).status })
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.ThrottleStats().Admitted < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// The fifth concurrent request on Adele's mailbox is refused, by /me
	// and by /users/{UPN} alike; Megan's mailbox is not affected.
	for _, path := range []string{"/me/events", "/users/Adele.Vance@contoso.example/events"} {
		r := e.call("GET", path, adele, nil)
		if r.status != http.StatusTooManyRequests || r.errorCode() != "ApplicationThrottled" || r.header.Get("Retry-After") != "1" {
			t.Fatalf("%s over the limit: %d %s Retry-After %q", path, r.status, r.raw, r.header.Get("Retry-After"))
		}
	}
	e.srv.Faults().Reset()
	if r := e.call("GET", "/users/megan.bowen@contoso.example/events", appOnly("Calendars.Read"), nil); r.status != http.StatusOK {
		t.Fatalf("another mailbox: %d %s", r.status, r.raw)
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a request within the limit got %d", s)
		}
	}
	if r := e.call("GET", "/me/events", adele, nil); r.status != http.StatusOK {
		t.Fatalf("after the slots were released: %d", r.status)
	}
	st := e.srv.ThrottleStats()
	if st.Rejected != 2 || st.Admitted != 6 || st.MaxInFlight != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMailboxRequestLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := emugraph.New(emugraph.Options{
		Users: testUsers(), Authenticate: stubAuth, Now: clock,
		MailboxLimits: emugraph.MailboxLimits{Requests: 3, Window: 10 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	do := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/v1.0"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+adele)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for i := range 2 {
		if r := do("GET", "/me/events", ""); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d", i, r.StatusCode)
		}
	}
	mu.Lock()
	now = now.Add(4 * time.Minute)
	mu.Unlock()
	// A batch is not a mailbox request; its sub-requests are, one each.
	batch, _ := json.Marshal(map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "GET", "url": "/me/events"},
		map[string]any{"id": "2", "method": "GET", "url": "/me/events"},
	}})
	req, _ := http.NewRequest("POST", ts.URL+"/v1.0/$batch", strings.NewReader(string(batch)))
	req.Header.Set("Authorization", "Bearer "+adele)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
		} `json:"responses"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := map[int]int{}
	for _, r := range out.Responses {
		got[r.Status]++
	}
	if got[http.StatusOK] != 1 || got[http.StatusTooManyRequests] != 1 { // they run concurrently: either may be first
		t.Fatalf("batch sub-requests: statuses %v", got)
	}
	// The oldest of the three falls out of the window six minutes later.
	if r := do("GET", "/me/events", ""); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "360" {
		t.Fatalf("over the limit: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	mu.Lock()
	now = now.Add(6*time.Minute + time.Second)
	mu.Unlock()
	if r := do("GET", "/me/events", ""); r.StatusCode != http.StatusOK {
		t.Fatalf("after the window moved on: %d", r.StatusCode)
	}
	if st := s.ThrottleStats(); st.Admitted != 4 || st.Rejected != 2 || st.MaxInWindow != 3 {
		t.Fatalf("stats %+v", st)
	}
	if (s.MailboxLimits() != emugraph.MailboxLimits{Requests: 3, Window: 10 * time.Minute}) {
		t.Fatalf("limits %+v", s.MailboxLimits())
	}
}

// A batch's requests run concurrently, as in Graph: more than 4 for one
// mailbox in one batch meet its concurrency limit; a dependsOn chain runs
// one after the other and stays within it.
func TestBatchMeetsMailboxConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.SetMailboxLimits(emugraph.MailboxLimits{Concurrent: 4})
	e.srv.Faults().Set(emugraph.RouteEventsList, fault.Fault{Delay: 2 * time.Second})
	var parallel, chain []any
	for i := range 6 {
		id := string(rune('a' + i))
		parallel = append(parallel, map[string]any{"id": id, "method": "GET", "url": "/me/events"})
		item := map[string]any{"id": id, "method": "GET", "url": "/me/events?$top=1"}
		if i > 0 {
			item["dependsOn"] = []string{string(rune('a' + i - 1))}
		}
		chain = append(chain, item)
	}
	got := map[float64]int{}
	for _, item := range batchItems(t, e.call("POST", "/$batch", adele, map[string]any{"requests": parallel}).must(t, http.StatusOK)) {
		got[item["status"].(float64)]++
	}
	if got[200] != 4 || got[429] != 2 {
		t.Fatalf("6 concurrent requests on one mailbox: statuses %v", got)
	}
	e.srv.Faults().Set(emugraph.RouteEventsList, fault.Fault{Delay: 10 * time.Millisecond})
	for id, item := range batchItems(t, e.call("POST", "/$batch", adele, map[string]any{"requests": chain}).must(t, http.StatusOK)) {
		if item["status"] != 200.0 {
			t.Errorf("chained request %s: %v", id, item)
		}
	}
}
