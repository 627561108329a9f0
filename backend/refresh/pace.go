package refresh

import (
	"context"
	"sync"
	"time"
)

// gate paces the requests to one mailbox: at most MaxConcurrent in flight,
// a token bucket under Exchange's budget of MailboxLimit per MailboxWindow,
// and a pause while Graph's Retry-After lasts. Only the worker holding the
// mailbox's lease sends to it, so one gate per mailbox and worker keeps
// the whole job within the limits.
type gate struct {
	slots chan struct{}

	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	until  time.Time // paused until
}

func newGate(rate float64) *gate {
	burst := max(1, rate) // one second's worth, so a fresh mailbox starts at once
	return &gate{slots: make(chan struct{}, MaxConcurrent), rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// defaultRate keeps 10% below Exchange's limit.
var defaultRate = 0.9 * MailboxLimit / MailboxWindow.Seconds()

// acquire waits until a request may be sent: a slot, a token, no pause.
func (g *gate) acquire(ctx context.Context) error {
	for {
		wait := g.take()
		if wait == 0 {
			break
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take spends a token, or says how long to wait for one.
func (g *gate) take() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now()
	if now.Before(g.until) {
		return g.until.Sub(now)
	}
	g.tokens = min(g.burst, g.tokens+now.Sub(g.last).Seconds()*g.rate)
	g.last = now
	if g.tokens >= 1 {
		g.tokens--
		return 0
	}
	return time.Duration((1 - g.tokens) / g.rate * float64(time.Second))
}

func (g *gate) release() { <-g.slots }

// pause stops new requests for d, as Graph's Retry-After asks.
func (g *gate) pause(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := time.Now().Add(d); t.After(g.until) {
		g.until = t
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before attempt n+1 when Graph gave no Retry-After.
func backoff(n int) time.Duration {
	return min(time.Duration(1<<min(n, 5))*500*time.Millisecond, 30*time.Second)
}
