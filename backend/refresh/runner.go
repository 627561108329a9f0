package refresh

import (
	"context"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Runner works, on a service replica, every job that is not finished: a
// job created through the API on one replica is worked by all of them,
// and a replica that dies leaves its mailboxes to the others.
type Runner struct {
	Engine *Engine
	// Poll is how often it looks for jobs: 2 s.
	Poll time.Duration

	mu      sync.Mutex
	running map[string]bool
}

// recentJobs bounds how many of the newest jobs the runner looks at.
const recentJobs = 20

// Run looks for unfinished jobs until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	r.running = map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		if err := r.scan(ctx, &wg); err != nil && ctx.Err() == nil {
			r.Engine.log().Warn("refresh runner: listing jobs", "err", err.Error())
		}
		if sleep(ctx, orDefault(r.Poll, 2*time.Second)) != nil {
			return
		}
	}
}

func (r *Runner) scan(ctx context.Context, wg *sync.WaitGroup) error {
	ids, err := r.Engine.Store.Jobs(ctx, recentJobs)
	if err != nil {
		return err
	}
	for _, id := range ids {
		j, err := r.Engine.Store.Job(ctx, id)
		if err != nil || j.Status == scheduler.JobDone || j.Status == scheduler.JobFailed {
			continue
		}
		r.mu.Lock()
		busy := r.running[id]
		r.running[id] = true
		r.mu.Unlock()
		if busy {
			continue
		}
		wg.Go(func() {
			defer func() {
				r.mu.Lock()
				delete(r.running, id)
				r.mu.Unlock()
			}()
			if err := r.Engine.Run(ctx, id); err != nil && ctx.Err() == nil {
				r.Engine.log().Warn("refresh runner: job stopped; it will be resumed", "job", id, "err", err.Error())
			}
		})
	}
	return nil
}
