package refresh

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/settings"
)

// Row actions, and the reasons that come with skip and failed.
const (
	ActionUpdate  = "update" // written (in a dry run: would be)
	ActionCurrent = "current"
	ActionSkip    = "skip"
	ActionFailed  = "failed"

	ReasonNotOrganizer  = "not_organizer"
	ReasonCancelled     = "cancelled"
	ReasonBlockMissing  = "block_missing"  // the join block was deleted in the item
	ReasonBlockMismatch = "block_mismatch" // the block belongs to another conference
	ReasonUnknown       = "conference_unknown"
	ReasonGone          = "gone"    // deleted meanwhile
	ReasonChanged       = "changed" // kept changing under us
	ReasonNoMailbox     = "no_mailbox"
	ReasonAccessDenied  = "access_denied" // e.g. outside the application access policy
	ReasonUnavailable   = "graph_unavailable"
	ReasonRender        = "render_failed"
)

// deciders bounds the meetings a worker decides at once: enough to keep
// the cores and the store busy, few enough not to queue for connections.
const deciders = 32

// maxAttempts bounds retries of one request; maxConflicts bounds re-reads
// of an event that changes under us.
const (
	maxAttempts  = 6
	maxConflicts = 3
)

// mailboxInfo is what a job keeps sealed about a mailbox.
type mailboxInfo struct {
	UPN  string `json:"u"`
	Name string `json:"n"`
	Lang string `json:"l"`
}

func mailboxInfoContext(jobID, mailboxID string) string {
	return "refresh-mailbox:" + jobID + ":" + mailboxID
}

// rowContext seals a report row's mailbox name.
func rowContext(jobID string) string { return "refresh-row:" + jobID }

// worker is one Run of one job.
type worker struct {
	e        *Engine
	job      scheduler.RefreshJob
	owner    string
	b        *batcher
	inFlight chan struct{} // a slot per Graph request in flight
	deciding chan struct{} // a slot per meeting being decided
	blk      Blocks
	tmpl     *joininfo.Templates
}

// newGate paces a mailbox (or the directory) within the worker's slots.
func (w *worker) newGate() *gate {
	return newGate(w.inFlight, orDefault[clock](w.e.clock, realClock{}))
}

// Run works job id until it is finished or ctx ends. Any number of Runs,
// in any processes sharing the store, may work one job at the same time;
// a Run that is killed leaves the rest to the others, or to the next Run.
func (e *Engine) Run(ctx context.Context, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := orDefault(e.InFlight, 256)
	w := &worker{
		e: e, owner: newJobID(),
		inFlight: make(chan struct{}, slots),
		deciding: make(chan struct{}, deciders),
		// Enough batches at once to carry as many writes as there are slots.
		b: newBatcher(e.Graph, orDefault(e.Linger, 20*time.Millisecond), (slots+MaxBatch-1)/MaxBatch),
	}
	go w.b.run(ctx)
	for {
		j, err := e.Store.Job(ctx, id)
		if err != nil {
			return err
		}
		w.job = j
		switch j.Status {
		case scheduler.JobDone:
			return nil
		case scheduler.JobFailed:
			return fmt.Errorf("refresh: job %s failed: %s", id, j.Error)
		}
		if w.blk == nil {
			var snap settings.Snapshot
			if err := json.Unmarshal(j.Snapshot, &snap); err != nil {
				return w.fail(ctx, fmt.Errorf("settings snapshot: %w", err))
			}
			if w.blk, w.tmpl, err = e.Render(snap); err != nil {
				return w.fail(ctx, fmt.Errorf("settings snapshot: %w", err))
			}
		}
		var worked bool
		if !j.Listed {
			worked, err = w.list(ctx)
		} else {
			var finished bool
			worked, finished, err = w.workSome(ctx)
			if finished {
				return w.finish(ctx)
			}
		}
		if err != nil {
			return err
		}
		if !worked {
			// Other workers hold the leases; look again soon.
			if err := sleep(ctx, orDefault(e.Poll, time.Second)); err != nil {
				return err
			}
		}
	}
}

// fail marks the job failed for good: its snapshot cannot be used.
func (w *worker) fail(ctx context.Context, cause error) error {
	j := w.job
	j.Status, j.Error, j.Finished = scheduler.JobFailed, cause.Error(), w.e.now().UTC()
	return errors.Join(cause, w.e.Store.UpdateJob(ctx, j, Retention))
}

// finish marks the job done once every mailbox is.
func (w *worker) finish(ctx context.Context) error {
	j, err := w.e.Store.Job(ctx, w.job.ID)
	if err != nil || j.Status == scheduler.JobDone {
		return err
	}
	j.Status, j.Finished = scheduler.JobDone, w.e.now().UTC()
	if err := w.e.Store.UpdateJob(ctx, j, Retention); err != nil {
		return err
	}
	w.e.log().Info("refresh job finished", "job", j.ID, "dry_run", j.DryRun)
	return nil
}

// holdLease takes the named lease and keeps renewing it; the returned
// context ends when the lease is lost, and stop gives it up.
func (w *worker) holdLease(ctx context.Context, name string) (context.Context, func(), bool, error) {
	ttl := w.e.leaseTTL()
	ok, err := w.e.Store.Lease(ctx, w.job.ID, name, w.owner, ttl)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	lctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for sleep(lctx, ttl/3) == nil {
			if ok, err := w.e.Store.Lease(lctx, w.job.ID, name, w.owner, ttl); err != nil || !ok {
				cancel() // lost: another worker may take over
				return
			}
		}
	})
	stop := func() {
		cancel()
		wg.Wait()
		_ = w.e.Store.ReleaseLease(context.WithoutCancel(ctx), w.job.ID, name, w.owner)
	}
	return lctx, stop, true, nil
}

// list records the job's mailboxes, under a lease so only one worker does.
func (w *worker) list(ctx context.Context) (bool, error) {
	lctx, stop, ok, err := w.holdLease(ctx, "list")
	if err != nil || !ok {
		return false, err
	}
	defer stop()
	g := w.newGate()
	explicit, err := w.e.mailboxList(w.job)
	if err != nil {
		return false, w.fail(ctx, err)
	}
	if explicit != nil {
		var mbs []scheduler.RefreshMailbox
		for _, m := range explicit {
			var u scheduler.DirectoryUser
			err := w.read(lctx, g, func() (err error) { u, err = w.e.Graph.User(lctx, m); return err })
			if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
				row := scheduler.RefreshRow{Mailbox: w.e.Box.Seal([]byte(m), rowContext(w.job.ID)), Action: ActionSkip, Reason: ReasonNoMailbox}
				if _, err := w.e.Store.Record(lctx, w.job.ID, "user:"+w.e.Box.Key("refresh-user", w.job.ID, m), row, Retention); err != nil {
					return false, err
				}
				continue
			}
			if err != nil {
				return false, err
			}
			mbs = append(mbs, w.sealMailbox(u))
		}
		if err := w.e.Store.AddMailboxes(lctx, w.job.ID, mbs, Retention); err != nil {
			return false, err
		}
	} else {
		for next := ""; ; {
			var page []scheduler.DirectoryUser
			err := w.read(lctx, g, func() (err error) { page, next, err = w.e.Graph.Users(lctx, next); return err })
			if err != nil {
				return false, err
			}
			mbs := make([]scheduler.RefreshMailbox, 0, len(page))
			for _, u := range page {
				mbs = append(mbs, w.sealMailbox(u))
			}
			if err := w.e.Store.AddMailboxes(lctx, w.job.ID, mbs, Retention); err != nil {
				return false, err
			}
			if next == "" {
				break
			}
		}
	}
	j, err := w.e.Store.Job(lctx, w.job.ID)
	if err != nil {
		return false, err
	}
	j.Listed, j.Status = true, scheduler.JobRunning
	return true, w.e.Store.UpdateJob(lctx, j, Retention)
}

func (w *worker) sealMailbox(u scheduler.DirectoryUser) scheduler.RefreshMailbox {
	plain, _ := json.Marshal(mailboxInfo{UPN: u.UPN, Name: u.Name, Lang: u.Language})
	return scheduler.RefreshMailbox{ID: u.ID, Sealed: w.e.Box.Seal(plain, mailboxInfoContext(w.job.ID, u.ID))}
}

// workSome works the unfinished mailboxes whose lease it gets, many at
// once. finished is true when no mailbox is left at all.
func (w *worker) workSome(ctx context.Context) (worked, finished bool, err error) {
	all, err := w.e.Store.Mailboxes(ctx, w.job.ID)
	if err != nil {
		return false, false, err
	}
	doneIDs, err := w.e.Store.MailboxesDone(ctx, w.job.ID)
	if err != nil {
		return false, false, err
	}
	all = slices.DeleteFunc(all, func(m scheduler.RefreshMailbox) bool { return slices.Contains(doneIDs, m.ID) })
	if len(all) == 0 {
		return false, true, nil
	}
	// Workers start at different places, so they seldom meet on a lease.
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	slots := make(chan struct{}, orDefault(w.e.Mailboxes, cap(w.inFlight)))
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, m := range all {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return worked, false, ctx.Err()
		}
		lctx, stop, ok, err := w.holdLease(ctx, "mbx:"+m.ID)
		if err != nil || !ok {
			<-slots
			if err != nil {
				wg.Wait()
				return worked, false, err
			}
			continue
		}
		worked = true
		wg.Go(func() {
			defer func() { <-slots }()
			defer stop()
			if err := w.mailbox(lctx, m); err != nil && lctx.Err() == nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return worked, false, errors.Join(errs...)
}

// mailboxState is one mailbox while it is worked.
type mailboxState struct {
	id     string
	info   mailboxInfo
	sealed []byte // the UPN, sealed for report rows
	gate   *gate
}

// mailbox works every meeting of one mailbox, page by page, and marks the
// mailbox finished. Meetings already finished by an earlier run are
// passed over, so a resumed job picks up where the last one stopped.
func (w *worker) mailbox(ctx context.Context, m scheduler.RefreshMailbox) error {
	plain, err := w.e.Box.Open(m.Sealed, mailboxInfoContext(w.job.ID, m.ID))
	if err != nil {
		return fmt.Errorf("refresh: mailbox of job %s: %w", w.job.ID, err)
	}
	mb := &mailboxState{id: m.ID, gate: w.newGate()}
	if err := json.Unmarshal(plain, &mb.info); err != nil {
		return err
	}
	mb.sealed = w.e.Box.Seal([]byte(mb.info.UPN), rowContext(w.job.ID))
	masters := map[string]bool{}
	for next := ""; ; {
		var page []scheduler.Event
		err := w.read(ctx, mb.gate, func() (err error) {
			page, next, err = w.e.Graph.Meetings(ctx, m.ID, w.job.Start, w.job.End, next)
			return err
		})
		if err != nil {
			if reason, ok := mailboxFailure(err); ok {
				return w.finishMailbox(ctx, mb, reason)
			}
			return err
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		work := make(chan struct{}, MaxConcurrent)
		for _, ev := range page {
			if ev.Type == "occurrence" && ev.SeriesMasterID != "" {
				// The series' body is its master's: write that once.
				if masters[ev.SeriesMasterID] {
					continue
				}
				masters[ev.SeriesMasterID] = true
				id := ev.SeriesMasterID
				err := w.read(ctx, mb.gate, func() (err error) { ev, err = w.e.Graph.MailboxEvent(ctx, m.ID, id); return err })
				if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
					continue
				}
				if err != nil {
					return err
				}
			}
			work <- struct{}{}
			wg.Go(func() {
				defer func() { <-work }()
				if err := w.meeting(ctx, mb, ev); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if next == "" {
			return w.finishMailbox(ctx, mb, "")
		}
	}
}

// mailboxFailure tells the errors that end a mailbox for good.
func mailboxFailure(err error) (string, bool) {
	switch scheduler.ErrorCode(err) {
	case scheduler.ECodeNotFound:
		return ReasonNoMailbox, true
	case scheduler.ECodeForbidden:
		return ReasonAccessDenied, true
	case scheduler.ECodeGraphThrottled, scheduler.ECodeGraphUnavailable, scheduler.ECodeGraphError:
		return ReasonUnavailable, true
	}
	return "", false
}

// finishMailbox marks the mailbox finished, with a row when it failed.
func (w *worker) finishMailbox(ctx context.Context, mb *mailboxState, reason string) error {
	if reason != "" {
		action := ActionSkip
		if reason == ReasonUnavailable {
			action = ActionFailed
		}
		row := scheduler.RefreshRow{MailboxID: mb.id, Mailbox: mb.sealed, Action: action, Reason: reason}
		if _, err := w.e.Store.Record(ctx, w.job.ID, "mbx:"+mb.id, row, Retention); err != nil {
			return err
		}
	}
	_, err := w.e.Store.FinishMailbox(ctx, w.job.ID, mb.id, Retention)
	return err
}

// read runs a Graph read through the mailbox's gate, retrying what Graph
// asks to retry.
func (w *worker) read(ctx context.Context, g *gate, fn func() error) error {
	for attempt := 1; ; attempt++ {
		if err := g.acquire(ctx); err != nil {
			return err
		}
		err := fn()
		g.release()
		if err == nil || !retryable(err) || attempt >= maxAttempts || ctx.Err() != nil {
			return err
		}
		var se *scheduler.Error
		if errors.As(err, &se) && se.RetryAfter > 0 {
			g.pause(time.Duration(se.RetryAfter) * time.Second) // the next acquire waits
		} else if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func retryable(err error) bool {
	switch scheduler.ErrorCode(err) {
	case scheduler.ECodeGraphThrottled, scheduler.ECodeGraphUnavailable, scheduler.ECodeUnavailable:
		return true
	}
	return false
}

// decision is what to do with one meeting.
type decision struct {
	action, reason, changes string
	body                    string // the new body, for ActionUpdate
}

// meeting finishes one meeting: it decides, writes when needed and
// records the outcome, exactly once across every run of the job.
func (w *worker) meeting(ctx context.Context, mb *mailboxState, ev scheduler.Event) error {
	key := mb.id + "/" + ev.ID
	if done, err := w.e.Store.Done(ctx, w.job.ID, key); err != nil || done {
		return err
	}
	row := scheduler.RefreshRow{MailboxID: mb.id, Mailbox: mb.sealed, EventID: ev.ID, Conf: ev.ConferenceID, Start: ev.Start}
	record := func(d decision) error {
		row.Action, row.Reason, row.Changes = d.action, d.reason, d.changes
		_, err := w.e.Store.Record(ctx, w.job.ID, key, row, Retention)
		return err
	}
	conflicts := 0
	for attempt := 1; ; attempt++ {
		d, err := w.decide(ctx, mb, ev)
		if err != nil {
			return err
		}
		if d.action == ActionCurrent {
			// An earlier run's write that landed before it could record it.
			if sent, err := w.e.Store.HasIntent(ctx, w.job.ID, key); err != nil {
				return err
			} else if sent {
				d.action = ActionUpdate
			}
		}
		if w.job.DryRun || d.action != ActionUpdate || d.body == "" {
			return record(d)
		}
		if err := w.e.Store.MarkIntent(ctx, w.job.ID, key, Retention); err != nil {
			return err
		}
		if err := mb.gate.acquire(ctx); err != nil {
			return err
		}
		res, err := w.b.write(ctx, scheduler.BodyWrite{Mailbox: mb.id, EventID: ev.ID, ChangeKey: ev.ChangeKey, BodyType: ev.BodyType, Body: d.body})
		mb.gate.release()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if !retryable(err) || attempt >= maxAttempts {
				return record(decision{action: ActionFailed, reason: ReasonUnavailable})
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		case res.Status >= 200 && res.Status < 300:
			return record(d)
		case res.Status == http.StatusPreconditionFailed || res.Status == http.StatusConflict:
			// Edited meanwhile: read it again and decide afresh, so the
			// edit is kept.
			if conflicts++; conflicts > maxConflicts {
				return record(decision{action: ActionSkip, reason: ReasonChanged})
			}
			id := ev.ID
			err := w.read(ctx, mb.gate, func() (err error) { ev, err = w.e.Graph.MailboxEvent(ctx, mb.id, id); return err })
			if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
				return record(decision{action: ActionSkip, reason: ReasonGone})
			}
			if err != nil {
				return err
			}
		case res.Status == http.StatusNotFound:
			return record(decision{action: ActionSkip, reason: ReasonGone})
		case res.Status == http.StatusTooManyRequests || res.Status >= 500:
			if attempt >= maxAttempts {
				return record(decision{action: ActionFailed, reason: ReasonUnavailable})
			}
			wait := res.RetryAfter
			if wait == 0 {
				wait = backoff(attempt)
			}
			mb.gate.pause(wait)
		default:
			return record(decision{action: ActionFailed, reason: "graph_" + strconv.Itoa(res.Status)})
		}
	}
}

func bodyType(t string) joininfo.BodyType {
	if t == scheduler.BodyText {
		return joininfo.BodyText
	}
	return joininfo.BodyHTML
}

// decide compares the meeting's join block with what it should show now.
// It changes only the block, and only a block that is ours: the one whose
// start marker names the conference of the event's property.
func (w *worker) decide(ctx context.Context, mb *mailboxState, ev scheduler.Event) (decision, error) {
	select {
	case w.deciding <- struct{}{}:
		defer func() { <-w.deciding }()
	case <-ctx.Done():
		return decision{}, ctx.Err()
	}
	typ := bodyType(ev.BodyType)
	id, found := joininfo.ConferenceIDOf(ev.Body, typ)
	switch {
	case !ev.IsOrganizer:
		return decision{action: ActionSkip, reason: ReasonNotOrganizer}, nil
	case ev.IsCancelled:
		return decision{action: ActionSkip, reason: ReasonCancelled}, nil
	case !found:
		return decision{action: ActionSkip, reason: ReasonBlockMissing}, nil
	case id != ev.ConferenceID:
		return decision{action: ActionSkip, reason: ReasonBlockMismatch}, nil
	}
	old, _ := joininfo.DigestOf(ev.Body, typ)
	block, next, err := w.render(ctx, mb, ev.ConferenceID, old, typ)
	switch {
	case scheduler.ErrorCode(err) == scheduler.ECodeNotFound:
		return decision{action: ActionSkip, reason: ReasonUnknown}, nil
	case err != nil && scheduler.ErrorCode(err) == scheduler.ECodeStoreUnavailable:
		return decision{}, err
	case err != nil:
		w.e.log().Warn("refresh: rendering a join block", "job", w.job.ID, "conference", ev.ConferenceID, "err", err.Error())
		return decision{action: ActionFailed, reason: ReasonRender}, nil
	}
	if next.Equal(old) {
		return decision{action: ActionCurrent}, nil
	}
	return decision{
		action:  ActionUpdate,
		changes: strings.Join(old.Changes(next), "; "),
		body:    joininfo.Replace(ev.Body, typ, block),
	}, nil
}

// render renders the block in the language the invitation was written in:
// the organizer's preferred one if it matches, else the locale whose
// rendering is most like the block there now; it returns the block's
// digest too.
func (w *worker) render(ctx context.Context, mb *mailboxState, conf string, old joininfo.Digest, typ joininfo.BodyType) (joininfo.Block, joininfo.Digest, error) {
	in, err := w.blk.Blocks(ctx, conf, mb.info.Name)
	if err != nil {
		return joininfo.Block{}, joininfo.Digest{}, err
	}
	best, err := in(mb.info.Lang)
	if err != nil {
		return joininfo.Block{}, joininfo.Digest{}, err
	}
	d := best.Digest(typ)
	if d.Equal(old) {
		return best, d, nil
	}
	was := old.Trigrams() // scored against every locale: counted once
	score := was.Similarity(d.Trigrams())
	same := w.tmpl.Resolve(mb.info.Lang)
	for _, loc := range w.tmpl.Locales() {
		if loc == same {
			continue // best is its rendering
		}
		b, err := in(loc)
		if err != nil {
			return joininfo.Block{}, joininfo.Digest{}, err
		}
		bd := b.Digest(typ)
		if s := was.Similarity(bd.Trigrams()); s > score {
			best, d, score = b, bd, s
		}
	}
	return best, d, nil
}
