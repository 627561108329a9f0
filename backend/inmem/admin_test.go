package inmem

import (
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

func TestAdminStores(t *testing.T) {
	schedulertest.TestAdminStores(t, func(*testing.T) (schedulertest.AdminStores, func(time.Duration)) {
		a, c := NewAdmin(), newClock()
		a.Now = c.Now
		return a, c.Advance
	})
}
