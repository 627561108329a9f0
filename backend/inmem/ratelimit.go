package inmem

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ scheduler.RateLimiter = (*Store)(nil)

// Allow counts a request in key's fixed window, as redisstore does: the
// counter is kept as the same decimal text under the same key family.
func (s *Store) Allow(_ context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return false, 0, fmt.Errorf("inmem: rate limit %d is not positive", limit)
	}
	if err := positive(window); err != nil {
		return false, 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	k := "rate:" + key
	n, expires := 0, now.Add(window)
	if v, ok := s.get(now, k); ok {
		n, _ = strconv.Atoi(string(v))
		expires = s.entries[k].expires
	}
	n++
	s.set(now, k, strconv.AppendInt(nil, int64(n), 10), expires.Sub(now))
	return n <= limit, expires.Sub(now), nil
}
