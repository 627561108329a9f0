package redisstore_test

import (
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

func TestRateLimiter(t *testing.T) {
	schedulertest.TestRateLimiter(t, func(t *testing.T) (scheduler.RateLimiter, func(time.Duration)) {
		s, _, _ := newStore(t)
		return s, time.Sleep
	})
}

// TestRateKeyLayout checks the counter's key family and that it always
// carries a TTL (DESIGN §5 inventory: ws:rate:*, one window).
func TestRateKeyLayout(t *testing.T) {
	t.Parallel()
	s, c, prefix := newStore(t)
	if _, _, err := s.Allow(t.Context(), "k", 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(t.Context(), prefix+"rate:k").Result()
	if err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("ws:rate key TTL = %v, %v; want within (0, 1m]", ttl, err)
	}
}
