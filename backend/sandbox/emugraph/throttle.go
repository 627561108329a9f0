package emugraph

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// MailboxLimits are Graph's throttling limits for Outlook resources, which
// apply per app and mailbox: Graph allows 4 concurrent requests and 10,000
// requests per 10 minutes. Beyond them it answers 429 with Retry-After. The
// emulator has one app, so its limits are per mailbox. The zero value
// limits nothing; tests and benchmarks of bulk jobs turn them on.
type MailboxLimits struct {
	// Concurrent is the most requests in flight per mailbox; 0: unlimited.
	Concurrent int
	// Requests is the most requests per mailbox in any Window; 0: unlimited.
	Requests int
	Window   time.Duration
}

// GraphMailboxLimits are the limits Microsoft documents for Outlook.
var GraphMailboxLimits = MailboxLimits{Concurrent: 4, Requests: 10000, Window: 10 * time.Minute}

// ThrottleStats say what the mailbox limits did.
type ThrottleStats struct {
	// Admitted counts requests served under the limits.
	Admitted int
	// Rejected counts requests answered 429 because of a limit.
	Rejected int
	// MaxInFlight is the most requests in flight on one mailbox at once.
	MaxInFlight int
	// MaxInWindow is the most requests one mailbox received in one Window
	// (0 when Window is unset).
	MaxInWindow int
}

// limiter enforces MailboxLimits. A request addresses a mailbox through
// /users/{id or UPN}/… or /me/… (the caller's own); requests that address
// no mailbox ($batch itself, /users, tenant resources) are not limited,
// and neither are requests for unknown users (they fail anyway). $batch
// sub-requests are dispatched one by one and each counts, as in Graph.
type limiter struct {
	mu       sync.Mutex
	limits   MailboxLimits
	inFlight map[string]int
	recent   map[string][]time.Time // admission times within Window, oldest first
	stats    ThrottleStats
}

func newLimiter(l MailboxLimits) *limiter {
	return &limiter{limits: l, inFlight: map[string]int{}, recent: map[string][]time.Time{}}
}

// SetMailboxLimits replaces the per-mailbox limits and forgets what the
// earlier ones counted.
func (s *Server) SetMailboxLimits(l MailboxLimits) {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	s.limits.limits = l
	s.limits.recent = map[string][]time.Time{}
	s.limits.stats = ThrottleStats{}
}

// MailboxLimits returns the limits in force.
func (s *Server) MailboxLimits() MailboxLimits {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return s.limits.limits
}

// ThrottleStats returns what the limits did since they were set.
func (s *Server) ThrottleStats() ThrottleStats {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	return s.limits.stats
}

// mailboxOf is the ID of the mailbox a request addresses, or "".
func (s *Server) mailboxOf(r *http.Request, m *match) string {
	switch {
	case m.me:
		c, err := s.auth(r)
		if err != nil {
			return ""
		}
		return c.UserID
	case m.user != "":
		if u := s.lookupUser(m.user); u != nil {
			return u.ID
		}
	}
	return ""
}

// admit takes a slot for the request, or returns the 429 Graph answers
// when the mailbox is over a limit. The caller calls release once the
// response is complete (latency injected by faults included).
func (s *Server) admit(r *http.Request, m *match) (release func(), retryAfter time.Duration, aerr *apiError) {
	l := s.limits
	l.mu.Lock()
	lim := l.limits
	l.mu.Unlock()
	if lim.Concurrent <= 0 && lim.Requests <= 0 {
		return func() {}, 0, nil
	}
	mb := s.mailboxOf(r, m)
	if mb == "" {
		return func() {}, 0, nil
	}
	now := s.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.Concurrent > 0 && l.inFlight[mb] >= l.limits.Concurrent {
		l.stats.Rejected++
		return nil, time.Second, errorf(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
	}
	if l.limits.Requests > 0 && l.limits.Window > 0 {
		times := l.recent[mb]
		cut := 0
		for cut < len(times) && !times[cut].After(now.Add(-l.limits.Window)) {
			cut++
		}
		times = times[cut:]
		if len(times) >= l.limits.Requests {
			l.recent[mb] = times
			l.stats.Rejected++
			return nil, times[0].Add(l.limits.Window).Sub(now), errorf(http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its request limit for this mailbox.")
		}
		l.recent[mb] = append(times, now)
		l.stats.MaxInWindow = max(l.stats.MaxInWindow, len(times)+1)
	}
	l.inFlight[mb]++
	l.stats.Admitted++
	l.stats.MaxInFlight = max(l.stats.MaxInFlight, l.inFlight[mb])
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.inFlight[mb]--; l.inFlight[mb] <= 0 {
			delete(l.inFlight, mb)
		}
	}, 0, nil
}

// throttled answers a request refused by admit.
func (s *Server) throttled(rec *recorder, retryAfter time.Duration, aerr *apiError) {
	secs := max(int((retryAfter+time.Second-1)/time.Second), 1)
	rec.header.Set("Retry-After", strconv.Itoa(secs))
	s.writeError(rec, aerr)
}
