package scheduler

import (
	"context"
	"time"
)

// RateLimiter counts requests per key in fixed windows. The Redis
// implementation is shared by every replica, so a limit holds for the
// whole deployment; the in-memory one is for sandbox mode.
type RateLimiter interface {
	// Allow counts one request under key. The window starts with the key's
	// first request and lasts window; the answer is whether this request is
	// within limit and how long until the window ends.
	Allow(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}
