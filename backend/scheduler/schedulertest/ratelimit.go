package schedulertest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// TestRateLimiter runs the contract suite for scheduler.RateLimiter.
// newLimiter is called once per subtest (subtests run in parallel) and
// returns a limiter sharing nothing with other calls, and a function that
// lets d pass for it (an in-memory limiter moves its clock, Redis sleeps).
func TestRateLimiter(t *testing.T, newLimiter func(t *testing.T) (scheduler.RateLimiter, func(d time.Duration))) {
	tests := []struct {
		name string
		run  func(t *testing.T, l scheduler.RateLimiter, advance func(time.Duration))
	}{
		{"LimitThenRefuse", testLimitThenRefuse},
		{"KeysAreIndependent", testKeysAreIndependent},
		{"WindowEnds", testWindowEnds},
		{"ConcurrentRequests", testConcurrentRequests},
		{"NonPositive", testNonPositiveLimits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, advance := newLimiter(t)
			tt.run(t, l, advance)
		})
	}
}

func allow(t *testing.T, l scheduler.RateLimiter, key string, limit int, window time.Duration) (bool, time.Duration) {
	t.Helper()
	ok, retry, err := l.Allow(t.Context(), key, limit, window)
	if err != nil {
		t.Fatalf("Allow(%q): %v", key, err)
	}
	return ok, retry
}

func testLimitThenRefuse(t *testing.T, l scheduler.RateLimiter, _ func(time.Duration)) {
	for i := range 5 {
		if ok, _ := allow(t, l, "k", 5, long); !ok {
			t.Fatalf("request %d of 5 refused", i+1)
		}
	}
	for range 3 {
		ok, retry := allow(t, l, "k", 5, long)
		if ok {
			t.Fatal("request 6 of 5 allowed")
		}
		if retry <= 0 || retry > long {
			t.Fatalf("retry after %v, want within (0, %v]", retry, long)
		}
	}
}

func testKeysAreIndependent(t *testing.T, l scheduler.RateLimiter, _ func(time.Duration)) {
	if ok, _ := allow(t, l, "a", 1, long); !ok {
		t.Fatal("first request on a refused")
	}
	if ok, _ := allow(t, l, "a", 1, long); ok {
		t.Fatal("second request on a allowed")
	}
	if ok, _ := allow(t, l, "b", 1, long); !ok {
		t.Fatal("key b was limited by key a")
	}
}

func testWindowEnds(t *testing.T, l scheduler.RateLimiter, advance func(time.Duration)) {
	allow(t, l, "w", 1, life)
	if ok, retry := allow(t, l, "w", 1, life); ok || retry > life {
		t.Fatalf("second request: allowed %v, retry %v", ok, retry)
	}
	advance(life * 12 / 10)
	if ok, _ := allow(t, l, "w", 1, life); !ok {
		t.Fatal("refused after the window ended")
	}
}

func testConcurrentRequests(t *testing.T, l scheduler.RateLimiter, _ func(time.Duration)) {
	const limit, workers, each = 25, 10, 10
	var allowed atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ok, _, err := l.Allow(t.Context(), "c", limit, long)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != limit {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly %d", n, workers*each, limit)
	}
}

func testNonPositiveLimits(t *testing.T, l scheduler.RateLimiter, _ func(time.Duration)) {
	for _, c := range []struct {
		limit  int
		window time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {1, 0}, {1, -time.Second}} {
		if _, _, err := l.Allow(t.Context(), fmt.Sprint("n", c.limit, c.window), c.limit, c.window); err == nil {
			t.Errorf("Allow(limit %d, window %v) gave no error", c.limit, c.window)
		}
	}
}
