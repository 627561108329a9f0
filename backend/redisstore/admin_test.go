package redisstore_test

import (
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

func TestAdminStores(t *testing.T) {
	schedulertest.TestAdminStores(t, func(t *testing.T) (schedulertest.AdminStores, func(time.Duration)) {
		s, _, _ := newStore(t)
		return s, time.Sleep
	})
}
