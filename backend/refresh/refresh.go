// Package refresh brings the join information of every future meeting in
// the organization up to date with the admin's current settings: a dry run
// first (what would change, per mailbox and meeting, as CSV), then an apply
// run that replaces only the join block, through Graph $batch, paced under
// Exchange's per-mailbox limits.
//
// A job lives in Redis (ws:job:*), so any number of workers on any replica
// work it together (a lease per mailbox), and a worker killed at any point
// leaves nothing its successor cannot finish: every meeting has a done
// marker, every write is guarded by the event's change key and preceded by
// a look at whether the event already shows the new block, so no meeting
// is written twice and none is missed.
package refresh

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/settings"
)

// Retention is how long a job and its report are kept (DESIGN §5).
const Retention = 30 * 24 * time.Hour

// DefaultHorizon is how far ahead a job looks when not told.
const DefaultHorizon = 366 * 24 * time.Hour

// Graph's limits for Outlook resources, per app and mailbox.
const (
	// MaxBatch is the most requests one JSON batch may hold.
	MaxBatch = 20
	// MaxConcurrent is the most requests in flight per mailbox.
	MaxConcurrent = 4
	// MailboxLimit requests per MailboxWindow is Exchange's budget.
	MailboxLimit  = 10000
	MailboxWindow = 10 * time.Minute
)

// Blocks renders what an invitation should show now (meeting.Service):
// Block in one locale, Blocks in any from one look-up of the conference.
type Blocks interface {
	Block(ctx context.Context, conferenceID, organizerName, locale string) (scheduler.Conference, joininfo.Block, error)
	Blocks(ctx context.Context, conferenceID, organizerName string) (func(locale string) (joininfo.Block, error), error)
}

// Renderer prepares, for a job's settings snapshot, what renders its
// blocks; the templates tell which locales there are.
type Renderer func(settings.Snapshot) (Blocks, *joininfo.Templates, error)

// Engine creates and works refresh jobs. Its zero tuning values take the
// defaults; tests shorten the lease.
type Engine struct {
	Graph  scheduler.TenantCalendars
	Store  scheduler.JobStore
	Box    *secret.Box
	Render Renderer
	Log    *slog.Logger
	Now    func() time.Time

	// LeaseTTL is how long a mailbox stays with a worker that stops
	// renewing it (a killed one): 30 s.
	LeaseTTL time.Duration
	// InFlight is the most Graph requests one worker has in flight,
	// $batch sub-requests each counted: 256.
	InFlight int
	// Mailboxes is how many mailboxes one worker works at once: InFlight,
	// as a mailbox holds slots only while it sends.
	Mailboxes int
	// Linger is how long a batch waits for more writes: 20 ms.
	Linger time.Duration
	// Poll is how often an idle worker looks for work: 1 s.
	Poll time.Duration

	clock clock // what gates pace by; nil: the real one
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (e *Engine) leaseTTL() time.Duration { return orDefault(e.LeaseTTL, 30*time.Second) }

// Request asks for a job.
type Request struct {
	DryRun bool
	// After names the dry run an apply job follows: it must be finished,
	// for the same mailboxes and the same settings version.
	After string
	// Mailboxes limits the job (IDs or UPNs); empty: every mailbox.
	Mailboxes []string
	// Start and End bound the meetings; zero: from now for DefaultHorizon.
	Start, End time.Time
	Creator    string
}

// Job is a job as the API shows it: no snapshot, no mailbox names.
type Job struct {
	ID              string    `json:"id"`
	DryRun          bool      `json:"dryRun"`
	Status          string    `json:"status"`
	Created         time.Time `json:"created"`
	Finished        time.Time `json:"finished,omitzero"`
	After           string    `json:"after,omitempty"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	SettingsVersion int64     `json:"settingsVersion"`
	Error           string    `json:"error,omitempty"`
}

// Progress is a job and how far it got.
type Progress struct {
	Job            Job              `json:"job"`
	MailboxesTotal int              `json:"mailboxesTotal"`
	MailboxesDone  int              `json:"mailboxesDone"`
	Listed         bool             `json:"listed"`
	Meetings       int64            `json:"meetings"`
	Counts         map[string]int64 `json:"counts"`
}

func publicJob(j scheduler.RefreshJob) Job {
	return Job{ID: j.ID, DryRun: j.DryRun, Status: j.Status, Created: j.Created, Finished: j.Finished, After: j.After,
		Start: j.Start, End: j.End, SettingsVersion: j.SettingsVersion, Error: j.Error}
}

func newJobID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func mailboxContext(jobID string) string { return "refresh-mailboxes:" + jobID }

// Create stores a new job that renders with eff. Workers pick it up.
func (e *Engine) Create(ctx context.Context, req Request, eff *settings.Effective) (Job, error) {
	now := e.now().UTC()
	if req.Start.IsZero() {
		req.Start = now
	}
	if req.End.IsZero() {
		req.End = req.Start.Add(DefaultHorizon)
	}
	if !req.End.After(req.Start) || req.End.Sub(req.Start) > 5*DefaultHorizon {
		return Job{}, scheduler.Errorf(scheduler.ECodeInvalid, "The end must come after the start, at most five years later.")
	}
	mbs := slices.Clone(req.Mailboxes)
	for i, m := range mbs {
		mbs[i] = strings.ToLower(strings.TrimSpace(m))
	}
	slices.Sort(mbs)
	mbs = slices.Compact(mbs)
	if i := slices.Index(mbs, ""); i >= 0 {
		mbs = slices.Delete(mbs, i, i+1)
	}
	if !req.DryRun && req.After != "" {
		if err := e.checkAfter(ctx, req.After, mbs, eff.Version); err != nil {
			return Job{}, err
		}
	}
	snap, err := json.Marshal(eff.Snapshot())
	if err != nil {
		return Job{}, err
	}
	j := scheduler.RefreshJob{
		ID: newJobID(), DryRun: req.DryRun, Created: now, Creator: req.Creator, After: req.After,
		Start: req.Start.UTC(), End: req.End.UTC(), SettingsVersion: eff.Version, Snapshot: snap, Status: scheduler.JobPending,
	}
	if len(mbs) > 0 {
		plain, _ := json.Marshal(mbs)
		j.Mailboxes = e.Box.Seal(plain, mailboxContext(j.ID))
	}
	if err := e.Store.CreateJob(ctx, j, Retention); err != nil {
		return Job{}, err
	}
	return publicJob(j), nil
}

func (e *Engine) mailboxList(j scheduler.RefreshJob) ([]string, error) {
	if len(j.Mailboxes) == 0 {
		return nil, nil
	}
	plain, err := e.Box.Open(j.Mailboxes, mailboxContext(j.ID))
	if err != nil {
		return nil, fmt.Errorf("refresh: job %s: mailboxes: %w", j.ID, err)
	}
	var out []string
	return out, json.Unmarshal(plain, &out)
}

// checkAfter makes sure an apply job follows a finished dry run of the
// same mailboxes with the settings in force now.
func (e *Engine) checkAfter(ctx context.Context, id string, mbs []string, version int64) error {
	dry, err := e.Store.Job(ctx, id)
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
		return scheduler.Errorf(scheduler.ECodeInvalid, "There is no dry run %q.", id)
	}
	if err != nil {
		return err
	}
	theirs, err := e.mailboxList(dry)
	if err != nil {
		return err
	}
	switch {
	case !dry.DryRun:
		return scheduler.Errorf(scheduler.ECodeInvalid, "Job %q is not a dry run.", id)
	case dry.Status != scheduler.JobDone:
		return scheduler.Errorf(scheduler.ECodeConflict, "The dry run %q has not finished.", id)
	case dry.SettingsVersion != version:
		return scheduler.Errorf(scheduler.ECodeVersionConflict, "The settings changed since dry run %q (version %d, now %d); run a new dry run.", id, dry.SettingsVersion, version)
	case !slices.Equal(theirs, mbs):
		return scheduler.Errorf(scheduler.ECodeInvalid, "The dry run %q covered other mailboxes.", id)
	}
	return nil
}

// Progress returns a job and how far it got.
func (e *Engine) Progress(ctx context.Context, id string) (Progress, error) {
	j, err := e.Store.Job(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	p := Progress{Job: publicJob(j), Listed: j.Listed}
	if p.Counts, err = e.Store.Counts(ctx, id); err != nil {
		return Progress{}, err
	}
	for _, a := range []string{ActionUpdate, ActionCurrent, ActionSkip, ActionFailed} {
		p.Meetings += p.Counts[a]
	}
	mbs, err := e.Store.Mailboxes(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	done, err := e.Store.MailboxesDone(ctx, id)
	if err != nil {
		return Progress{}, err
	}
	p.MailboxesTotal, p.MailboxesDone = len(mbs), len(done)
	return p, nil
}

// Jobs lists the newest jobs.
func (e *Engine) Jobs(ctx context.Context, limit int) ([]Job, error) {
	ids, err := e.Store.Jobs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		j, err := e.Store.Job(ctx, id)
		if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, publicJob(j))
	}
	return out, nil
}
