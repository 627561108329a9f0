package fault_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

func TestInjector(t *testing.T) {
	t.Parallel()
	inj := fault.New()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	writeErr := func(w http.ResponseWriter, status int) { w.WriteHeader(status) }
	h := inj.Wrap("me", ok, writeErr)
	other := inj.Wrap("events", ok, writeErr)
	do := func(h http.Handler) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec
	}

	if got := do(h).Code; got != http.StatusNoContent {
		t.Fatalf("no fault: status %d", got)
	}
	inj.Set("me", fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond, Times: 2})
	for n := 0; n < 2; n++ {
		rec := do(h)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
			t.Fatalf("fault %d: status %d Retry-After %q", n, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if got := do(h).Code; got != http.StatusNoContent {
		t.Fatalf("after Times ran out: status %d", got)
	}
	if got := do(other).Code; got != http.StatusNoContent {
		t.Fatalf("other route affected: %d", got)
	}
	inj.Set(fault.All, fault.Fault{Status: http.StatusServiceUnavailable})
	if got := do(other).Code; got != http.StatusServiceUnavailable {
		t.Fatalf("All fault not applied: %d", got)
	}
	inj.Set("events", fault.Fault{Delay: 20 * time.Millisecond})
	start := time.Now()
	if got := do(other).Code; got != http.StatusNoContent {
		t.Fatalf("route fault should override All: %d", got)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Fatal("delay not applied")
	}
	if inj.Hits("me") != 4 || inj.Hits("events") != 3 {
		t.Fatalf("hits me=%d events=%d", inj.Hits("me"), inj.Hits("events"))
	}
	inj.Reset()
	if inj.Hits("me") != 0 || do(other).Code != http.StatusNoContent {
		t.Fatal("Reset did not clear")
	}
}
