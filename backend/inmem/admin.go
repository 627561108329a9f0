package inmem

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var (
	_ scheduler.SettingsStore = (*Admin)(nil)
	_ scheduler.JobStore      = (*Admin)(nil)
)

// Admin keeps the settings override, the audit log and refresh jobs in
// memory, mirroring redisstore (schedulertest checks both).
type Admin struct {
	// Now is the clock; tests replace it before first use.
	Now func() time.Time

	mu       sync.Mutex
	version  int64
	doc      []byte
	audit    []scheduler.AuditEntry // oldest first
	jobs     map[string]*job
	jobOrder []string

	tracked     map[string]tracked
	flags       []scheduler.ChangeFlag // oldest first
	trackLeases map[string]lease
}

type job struct {
	rec     scheduler.RefreshJob
	expires time.Time
	mbx     map[string][]byte
	mbdone  map[string]bool
	leases  map[string]lease
	intent  map[string]bool
	done    map[string]bool
	rows    []scheduler.RefreshRow
	counts  map[string]int64
}

type lease struct {
	owner   string
	expires time.Time
}

// NewAdmin returns an empty Admin on the wall clock.
func NewAdmin() *Admin { return &Admin{Now: time.Now, jobs: map[string]*job{}} }

// SettingsVersion returns the override's version.
func (a *Admin) SettingsVersion(context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.version, nil
}

// LoadSettings returns the override and its version.
func (a *Admin) LoadSettings(context.Context) ([]byte, int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.doc), a.version, nil
}

// SaveSettings stores doc as the next version if prev is still current.
func (a *Admin) SaveSettings(_ context.Context, doc []byte, prev int64) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.version != prev {
		return 0, scheduler.Errorf(scheduler.ECodeVersionConflict, "The settings were changed meanwhile; reload them and try again.")
	}
	a.version++
	a.doc = slices.Clone(doc)
	return a.version, nil
}

// AppendAudit adds e and drops entries older than retention.
func (a *Admin) AppendAudit(_ context.Context, e scheduler.AuditEntry, retention time.Duration) error {
	if err := positive(retention); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.audit = append(a.audit, e)
	slices.SortStableFunc(a.audit, func(x, y scheduler.AuditEntry) int { return x.Time.Compare(y.Time) })
	cut := e.Time.Add(-retention)
	i := slices.IndexFunc(a.audit, func(x scheduler.AuditEntry) bool { return !x.Time.Before(cut) })
	if i < 0 {
		i = len(a.audit)
	}
	a.audit = a.audit[max(i, len(a.audit)-10000):]
	return nil
}

// Audit returns up to limit entries, newest first.
func (a *Admin) Audit(_ context.Context, limit int) ([]scheduler.AuditEntry, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(a.audit)
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

// live returns the job, dropping it when it has expired. The caller holds a.mu.
func (a *Admin) live(id string) (*job, error) {
	j, ok := a.jobs[id]
	if ok && !a.Now().Before(j.expires) {
		delete(a.jobs, id)
		ok = false
	}
	if !ok {
		return nil, scheduler.ErrNotFound
	}
	return j, nil
}

// touch extends a job's lifetime. The caller holds a.mu.
func (a *Admin) touch(j *job, ttl time.Duration) { j.expires = a.Now().Add(ttl) }

// CreateJob stores a new job.
func (a *Admin) CreateJob(_ context.Context, r scheduler.RefreshJob, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.live(r.ID); err == nil {
		return scheduler.Errorf(scheduler.ECodeConflict, "A job with that ID exists.")
	}
	a.jobs[r.ID] = &job{
		rec: r, expires: a.Now().Add(ttl), mbx: map[string][]byte{}, mbdone: map[string]bool{}, leases: map[string]lease{},
		intent: map[string]bool{}, done: map[string]bool{}, counts: map[string]int64{},
	}
	a.jobOrder = append(a.jobOrder, r.ID)
	return nil
}

// Job returns a job by ID.
func (a *Admin) Job(_ context.Context, id string) (scheduler.RefreshJob, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return scheduler.RefreshJob{}, err
	}
	return j.rec, nil
}

// UpdateJob replaces an existing job record.
func (a *Admin) UpdateJob(_ context.Context, r scheduler.RefreshJob, ttl time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(r.ID)
	if err != nil {
		return err
	}
	j.rec = r
	a.touch(j, ttl)
	return nil
}

// Jobs returns the newest job IDs that have not expired.
func (a *Admin) Jobs(_ context.Context, limit int) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, id := range a.jobOrder {
		if _, err := a.live(id); err == nil {
			out = append(out, id)
		}
	}
	a.jobOrder = slices.Clone(out)
	slices.SortStableFunc(out, func(x, y string) int { return a.jobs[y].rec.Created.Compare(a.jobs[x].rec.Created) })
	return out[:min(limit, len(out))], nil
}

// AddMailboxes records mailboxes of a job.
func (a *Admin) AddMailboxes(_ context.Context, id string, mbs []scheduler.RefreshMailbox, ttl time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return err
	}
	for _, m := range mbs {
		j.mbx[m.ID] = slices.Clone(m.Sealed)
	}
	a.touch(j, ttl)
	return nil
}

// Mailboxes returns every mailbox of a job.
func (a *Admin) Mailboxes(_ context.Context, id string) ([]scheduler.RefreshMailbox, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return nil, nil // as Redis: a missing hash is empty
	}
	out := make([]scheduler.RefreshMailbox, 0, len(j.mbx))
	for k, v := range j.mbx {
		out = append(out, scheduler.RefreshMailbox{ID: k, Sealed: slices.Clone(v)})
	}
	slices.SortFunc(out, func(x, y scheduler.RefreshMailbox) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// MailboxesDone returns the finished mailboxes of a job.
func (a *Admin) MailboxesDone(_ context.Context, id string) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return nil, nil
	}
	var out []string
	for k := range j.mbdone {
		out = append(out, k)
	}
	return out, nil
}

// FinishMailbox marks a mailbox finished and returns how many are.
func (a *Admin) FinishMailbox(_ context.Context, id, mailboxID string, ttl time.Duration) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return 0, err
	}
	j.mbdone[mailboxID] = true
	a.touch(j, ttl)
	return int64(len(j.mbdone)), nil
}

// Lease takes a free lease or renews the caller's own.
func (a *Admin) Lease(_ context.Context, id, name, owner string, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return false, err
	}
	now := a.Now()
	if l, ok := j.leases[name]; ok && now.Before(l.expires) && l.owner != owner {
		return false, nil
	}
	j.leases[name] = lease{owner: owner, expires: now.Add(ttl)}
	return true, nil
}

// ReleaseLease gives up a lease the owner holds.
func (a *Admin) ReleaseLease(_ context.Context, id, name, owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if j, err := a.live(id); err == nil && j.leases[name].owner == owner {
		delete(j.leases, name)
	}
	return nil
}

// MarkIntent notes that a meeting's write is about to be sent.
func (a *Admin) MarkIntent(_ context.Context, id, key string, _ time.Duration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return err
	}
	j.intent[key] = true
	return nil
}

// HasIntent reports whether an earlier run sent a write of key.
func (a *Admin) HasIntent(_ context.Context, id, key string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	return err == nil && j.intent[key], nil
}

// Done reports whether a meeting is finished.
func (a *Admin) Done(_ context.Context, id, key string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	return err == nil && j.done[key], nil
}

// Record finishes a meeting (or adds a mailbox-level row) exactly once.
func (a *Admin) Record(_ context.Context, id, key string, row scheduler.RefreshRow, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil {
		return false, err
	}
	if key != "" {
		if j.done[key] {
			return false, nil
		}
		j.done[key] = true
		delete(j.intent, key)
	}
	j.rows = append(j.rows, row)
	for _, c := range row.Counters() {
		j.counts[c]++
	}
	a.touch(j, ttl)
	return true, nil
}

// Counts returns a job's counters.
func (a *Admin) Counts(_ context.Context, id string) (map[string]int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]int64{}
	if j, err := a.live(id); err == nil {
		for k, v := range j.counts {
			out[k] = v
		}
	}
	return out, nil
}

// Rows returns report rows [from, from+n).
func (a *Admin) Rows(_ context.Context, id string, from, n int) ([]scheduler.RefreshRow, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j, err := a.live(id)
	if err != nil || from >= len(j.rows) {
		return nil, nil
	}
	return slices.Clone(j.rows[from:min(from+n, len(j.rows))]), nil
}
