package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ scheduler.RateLimiter = (*Store)(nil)

// rateKey names a fixed-window counter: ws:rate:<key>, where key is an
// HMAC chosen by the caller (never an address or a name).
func (s *Store) rateKey(key string) string { return s.prefix + "rate:" + key }

// rateScript counts a request and starts the window on the first one, in
// one step so that concurrent replicas never leave a counter without a
// TTL. ARGV: window in ms. Returns the count and the window's remaining ms.
var rateScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`)

// Allow counts a request under key in a fixed window shared by every
// replica.
func (s *Store) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return false, 0, fmt.Errorf("redisstore: rate limit %d is not positive", limit)
	}
	if err := positive(window); err != nil {
		return false, 0, err
	}
	res, err := rateScript.Run(ctx, s.c, []string{s.rateKey(key)}, ms(window)).Int64Slice()
	if err != nil {
		return false, 0, storeError("rate limit", err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("redisstore: rate limit script answered %v", res)
	}
	return res[0] <= int64(limit), time.Duration(res[1]) * time.Millisecond, nil
}
