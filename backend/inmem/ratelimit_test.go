package inmem

import (
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

func TestRateLimiter(t *testing.T) {
	schedulertest.TestRateLimiter(t, func(*testing.T) (scheduler.RateLimiter, func(time.Duration)) {
		s, c := New(), newClock()
		s.Now = c.Now
		return s, c.Advance
	})
}
