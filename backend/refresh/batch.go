package refresh

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// batcher gathers the writes of all mailboxes a worker works into JSON
// batches of at most MaxBatch. A write holds its mailbox's gate while it
// waits and is in flight, so a batch never holds more for one mailbox than
// Exchange runs at once (Graph runs a batch's requests concurrently).
type batcher struct {
	g      scheduler.TenantCalendars
	in     chan pending
	linger time.Duration
	sent   chan struct{} // batches in flight

	mu    sync.Mutex
	until time.Time // the whole app is throttled until then
}

type pending struct {
	w    scheduler.BodyWrite
	done chan outcome
}

type outcome struct {
	res scheduler.WriteResult
	err error
}

// newBatcher sends at most batches batches at once.
func newBatcher(g scheduler.TenantCalendars, linger time.Duration, batches int) *batcher {
	return &batcher{g: g, in: make(chan pending), linger: linger, sent: make(chan struct{}, batches)}
}

// write sends one write with the next batch and waits for its outcome.
func (b *batcher) write(ctx context.Context, w scheduler.BodyWrite) (scheduler.WriteResult, error) {
	p := pending{w: w, done: make(chan outcome, 1)}
	select {
	case b.in <- p:
	case <-ctx.Done():
		return scheduler.WriteResult{}, ctx.Err()
	}
	select {
	case o := <-p.done:
		return o.res, o.err
	case <-ctx.Done():
		return scheduler.WriteResult{}, ctx.Err()
	}
}

// run batches writes until ctx ends.
func (b *batcher) run(ctx context.Context) {
	for {
		var buf []pending
		select {
		case p := <-b.in:
			buf = append(buf, p)
		case <-ctx.Done():
			return
		}
		t := time.NewTimer(b.linger)
	fill:
		for len(buf) < MaxBatch {
			select {
			case p := <-b.in:
				buf = append(buf, p)
			case <-t.C:
				break fill
			case <-ctx.Done():
				t.Stop()
				fail(buf, ctx.Err())
				return
			}
		}
		t.Stop()
		if err := b.wait(ctx); err != nil {
			fail(buf, err)
			return
		}
		go b.send(ctx, buf)
	}
}

// wait holds the next batch while the app is throttled and while too many
// batches are in flight.
func (b *batcher) wait(ctx context.Context) error {
	b.mu.Lock()
	d := time.Until(b.until)
	b.mu.Unlock()
	if d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	select {
	case b.sent <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *batcher) send(ctx context.Context, buf []pending) {
	defer func() { <-b.sent }()
	writes := make([]scheduler.BodyWrite, len(buf))
	for i, p := range buf {
		writes[i] = p.w
	}
	res, err := b.g.WriteBodies(ctx, writes)
	if err != nil {
		var se *scheduler.Error
		if errors.As(err, &se) && se.RetryAfter > 0 {
			b.mu.Lock()
			b.until = time.Now().Add(time.Duration(se.RetryAfter) * time.Second)
			b.mu.Unlock()
		}
		fail(buf, err)
		return
	}
	for i, p := range buf {
		p.done <- outcome{res: res[i]}
	}
}

func fail(buf []pending, err error) {
	for _, p := range buf {
		p.done <- outcome{err: err}
	}
}
