package inmem

import (
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

// clock is a manual clock: time moves only when a test advances it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestStores(t *testing.T) {
	schedulertest.TestStores(t, func(*testing.T) schedulertest.Stores {
		s, c := New(), newClock()
		s.Now = c.Now
		return schedulertest.Stores{
			Sessions:    s,
			Tokens:      s,
			Conferences: s,
			Idempotency: s,
			Pinger:      s,
			Advance:     c.Advance,
		}
	})
}

func TestSweepDropsUnreadEntries(t *testing.T) {
	t.Parallel()
	s, c := New(), newClock()
	s.Now = c.Now
	ctx := t.Context()
	for _, key := range []string{"a", "b", "c"} {
		if err := s.SaveToken(ctx, key, []byte("sealed"), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	c.Advance(sweepEvery)
	if err := s.SaveToken(ctx, "fresh", []byte("sealed"), time.Hour); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.entries) != 1 {
		t.Fatalf("%d entries after the sweep, want only the fresh one", len(s.entries))
	}
}
