package refresh

import (
	"context"
	"sync"
	"time"
)

// windowBudget is what a gate lets through per MailboxWindow: 10% below
// Exchange's limit, for the app's other requests to the mailbox and for
// requests counted a little later at Graph than here.
const windowBudget = MailboxLimit * 9 / 10

// gate paces the requests to one mailbox: at most MaxConcurrent in flight,
// at most windowBudget in any MailboxWindow, spent as a burst, none while
// Graph's Retry-After lasts, and each holding one of the worker's in-flight
// slots. Only the worker holding the mailbox's lease sends to it, so one
// gate per mailbox and worker keeps the job within the limits. (A worker
// that takes a mailbox over from a dead one does not know what that one
// sent in the window; Graph's 429 and Retry-After then pause the gate.)
type gate struct {
	slots  chan struct{} // this mailbox's requests in flight
	global chan struct{} // the worker's requests in flight, every mailbox's
	clk    clock

	mu    sync.Mutex
	sent  []time.Time // when requests were let through, oldest first, within the window
	until time.Time   // paused until
}

func newGate(global chan struct{}, clk clock) *gate {
	return &gate{slots: make(chan struct{}, MaxConcurrent), global: global, clk: clk}
}

// acquire waits until a request may be sent. The mailbox's slot comes
// first, so the window counts the request just before it goes out.
func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	for {
		wait := g.admit(g.clk.now())
		if wait == 0 {
			break
		}
		if err := g.clk.sleep(ctx, wait); err != nil {
			<-g.slots
			return err
		}
	}
	select {
	case g.global <- struct{}{}:
		return nil
	case <-ctx.Done():
		<-g.slots
		return ctx.Err()
	}
}

// admit counts a request sent at now, or says how long to wait: until the
// pause ends or the oldest request of the window leaves it.
func (g *gate) admit(now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if now.Before(g.until) {
		return g.until.Sub(now)
	}
	i := 0
	for i < len(g.sent) && !g.sent[i].After(now.Add(-MailboxWindow)) {
		i++
	}
	g.sent = g.sent[i:]
	if len(g.sent) >= windowBudget {
		return g.sent[0].Add(MailboxWindow).Sub(now)
	}
	g.sent = append(g.sent, now)
	return 0
}

func (g *gate) release() {
	<-g.global
	<-g.slots
}

// pause stops new requests for d, as Graph's Retry-After asks.
func (g *gate) pause(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := g.clk.now().Add(d); t.After(g.until) {
		g.until = t
	}
}

// clock is the time gates pace by; tests fake it.
type clock interface {
	now() time.Time
	sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) now() time.Time                                   { return time.Now() }
func (realClock) sleep(ctx context.Context, d time.Duration) error { return sleep(ctx, d) }

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
