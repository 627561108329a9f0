package scheduler

import (
	"context"
	"time"
)

// Error codes of the admin API.
const (
	// ECodeAdminRequired answers a signed-in user without the admin role.
	ECodeAdminRequired = "admin_role_required"
	// ECodeVersionConflict answers a change based on an outdated version.
	ECodeVersionConflict = "version_conflict"
)

// AuditEntry is one admin change (DESIGN §5, ws:audit). It names the admin
// by object ID only and never holds a secret.
type AuditEntry struct {
	Time    time.Time     `json:"time"`
	Actor   string        `json:"actor"`  // the admin's object ID, or "cli"
	Action  string        `json:"action"` // settings.update, templates.update, refresh.create, …
	Version int64         `json:"version,omitempty"`
	Changes []AuditChange `json:"changes,omitempty"`
	// Detail is a short, non-personal note (a job ID, a mode).
	Detail string `json:"detail,omitempty"`
}

// AuditChange is one changed field: a JSON path and its old and new values.
type AuditChange struct {
	Field string `json:"field"`
	Old   string `json:"old,omitempty"`
	New   string `json:"new,omitempty"`
}

// SettingsStore keeps the admin's settings override (ws:settings) and the
// audit log (ws:audit). The override is an opaque document here; every
// replica reads it, so a change reaches all of them.
type SettingsStore interface {
	// SettingsVersion returns the stored override's version, 0 when none.
	SettingsVersion(ctx context.Context) (int64, error)
	// LoadSettings returns the override document and its version; a
	// missing override is (nil, 0, nil).
	LoadSettings(ctx context.Context) ([]byte, int64, error)
	// SaveSettings stores doc as version prev+1 if the stored version is
	// still prev; otherwise it stores nothing and returns an *Error with
	// ECodeVersionConflict.
	SaveSettings(ctx context.Context, doc []byte, prev int64) (int64, error)
	// AppendAudit records e, dropping entries older than retention.
	AppendAudit(ctx context.Context, e AuditEntry, retention time.Duration) error
	// Audit returns up to limit entries, newest first.
	Audit(ctx context.Context, limit int) ([]AuditEntry, error)
}

// Refresh job states.
const (
	JobPending = "pending" // created; no worker has listed its mailboxes yet
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed" // stopped by an error that a retry cannot fix
)

// RefreshJob is a bulk join-information refresh (DESIGN §5, ws:job:*).
type RefreshJob struct {
	ID      string    `json:"id"`
	DryRun  bool      `json:"dryRun"`
	Created time.Time `json:"created"`
	Creator string    `json:"creator"` // admin object ID, or "cli"
	// After names the dry run an apply job was reviewed from.
	After string `json:"after,omitempty"`
	// Mailboxes limits the job to these users (IDs or UPNs, sealed: they
	// name people); empty means every mailbox of the tenant.
	Mailboxes []byte `json:"mailboxes,omitempty"`
	// Start and End bound the meetings the job looks at.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// SettingsVersion and Snapshot are the admin settings the job renders
	// with, fixed when it was created, so every worker writes the same.
	SettingsVersion int64     `json:"settingsVersion"`
	Snapshot        []byte    `json:"snapshot"`
	Status          string    `json:"status"`
	Listed          bool      `json:"listed"` // every mailbox is known
	Finished        time.Time `json:"finished,omitzero"`
	Error           string    `json:"error,omitempty"`
}

// RefreshRow is one line of a job's report: one meeting, or one mailbox
// that could not be read. Mailbox names people, so it is kept sealed.
type RefreshRow struct {
	MailboxID string    `json:"mb"`
	Mailbox   []byte    `json:"mbx,omitempty"` // sealed user principal name
	EventID   string    `json:"ev,omitempty"`
	Conf      string    `json:"conf,omitempty"`
	Start     time.Time `json:"start,omitzero"`
	Action    string    `json:"action"` // update, current, skip, failed
	Reason    string    `json:"reason,omitempty"`
	Changes   string    `json:"changes,omitempty"`
}

// Counters are the job counters a row adds to: its action, and its
// action with its reason ("skip:not_organizer").
func (r RefreshRow) Counters() []string {
	out := []string{r.Action}
	if r.Reason != "" {
		out = append(out, r.Action+":"+r.Reason)
	}
	return out
}

// RefreshMailbox is one mailbox of a job. Name and locale are sealed with
// it: the display name is what join blocks show as organizer.
type RefreshMailbox struct {
	ID     string `json:"id"`
	Sealed []byte `json:"s"`
}

// JobStore keeps refresh jobs so that any number of workers, on any
// replica, can work one job and a killed worker's successor finishes it.
// Every key expires after the job's retention.
type JobStore interface {
	CreateJob(ctx context.Context, j RefreshJob, ttl time.Duration) error
	// Job returns the job, or ErrNotFound.
	Job(ctx context.Context, id string) (RefreshJob, error)
	// UpdateJob replaces the job record.
	UpdateJob(ctx context.Context, j RefreshJob, ttl time.Duration) error
	// Jobs returns the IDs of the newest jobs, newest first.
	Jobs(ctx context.Context, limit int) ([]string, error)

	// AddMailboxes records mailboxes of the job; adding one twice keeps one.
	AddMailboxes(ctx context.Context, id string, mbs []RefreshMailbox, ttl time.Duration) error
	// Mailboxes returns every mailbox of the job.
	Mailboxes(ctx context.Context, id string) ([]RefreshMailbox, error)
	// MailboxesDone returns the IDs of the mailboxes finished.
	MailboxesDone(ctx context.Context, id string) ([]string, error)
	// FinishMailbox marks a mailbox finished; it returns how many are.
	FinishMailbox(ctx context.Context, id, mailboxID string, ttl time.Duration) (int64, error)

	// Lease takes (or, for its holder, renews) the named lease for ttl:
	// true when owner holds it afterwards.
	Lease(ctx context.Context, id, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives a lease up if owner still holds it.
	ReleaseLease(ctx context.Context, id, name, owner string) error

	// MarkIntent notes that a write of meeting key is about to be sent.
	MarkIntent(ctx context.Context, id, key string, ttl time.Duration) error
	// HasIntent reports whether a write of key was sent by an earlier run.
	HasIntent(ctx context.Context, id, key string) (bool, error)
	// Done reports whether meeting key is finished.
	Done(ctx context.Context, id, key string) (bool, error)
	// Record finishes meeting key (or, with key "", a mailbox-level row):
	// it adds the row to the report and counts its action, once. It
	// returns false, changing nothing, when key was finished already.
	Record(ctx context.Context, id, key string, row RefreshRow, ttl time.Duration) (bool, error)
	// Counts returns the job's counters (one per action and reason).
	Counts(ctx context.Context, id string) (map[string]int64, error)
	// Rows returns report rows [from, from+n).
	Rows(ctx context.Context, id string, from, n int) ([]RefreshRow, error)
}

// DirectoryUser is a user of the tenant as admin jobs see them. Name and
// language name the organizer in join blocks; keep them in memory only.
type DirectoryUser struct {
	ID       string
	UPN      string
	Name     string
	Language string
}

// BodyWrite replaces one event's body, guarded by its change key.
type BodyWrite struct {
	Mailbox   string
	EventID   string
	ChangeKey string
	BodyType  string
	Body      string
}

// WriteResult is the outcome of one BodyWrite: Graph's status for it, and
// how long Graph asked to wait (429, 503) before trying again.
type WriteResult struct {
	Status     int
	RetryAfter time.Duration
}

// TenantCalendars reaches every mailbox of the tenant with the app's own
// application permissions (Calendars.ReadWrite, User.Read.All), for jobs
// an admin starts. Pages are continued with the token a call returns ("" at
// the end).
type TenantCalendars interface {
	Users(ctx context.Context, next string) ([]DirectoryUser, string, error)
	User(ctx context.Context, idOrUPN string) (DirectoryUser, error)
	// Meetings lists the mailbox's events in [start, end) that carry our
	// extended property, one page per call.
	Meetings(ctx context.Context, mailbox string, start, end time.Time, next string) ([]Event, string, error)
	// MailboxEvent reads one event with our extended property.
	MailboxEvent(ctx context.Context, mailbox, id string) (Event, error)
	// WriteBodies sends up to 20 writes in one JSON batch; the results are
	// in the writes' order.
	WriteBodies(ctx context.Context, writes []BodyWrite) ([]WriteResult, error)
	// CalendarDelta returns what changed in the mailbox's calendar view
	// [start, end) since link, following every page, and the link for the
	// next call. With link "" it returns every event: the baseline.
	CalendarDelta(ctx context.Context, mailbox string, start, end time.Time, link string) ([]EventChange, string, error)
}

// EventChange is one item of a calendar delta: an event that was created
// or changed, or one that was removed.
type EventChange struct {
	ID      string
	Removed bool
}

// TrackState is what change tracking keeps per mailbox: where its delta
// left off, and which events are ours (event ID → conference ID), so a
// removal can be told apart from someone else's.
type TrackState struct {
	DeltaLink string            `json:"link"`
	Since     time.Time         `json:"since"`
	Start     time.Time         `json:"start"`
	End       time.Time         `json:"end"`
	Ours      map[string]string `json:"ours"`
}

// TrackingStore keeps change tracking's state (ws:track:*).
type TrackingStore interface {
	// Tracked returns a mailbox's state, or ErrNotFound.
	Tracked(ctx context.Context, mailboxID string) (TrackState, error)
	SaveTracked(ctx context.Context, mailboxID string, st TrackState, ttl time.Duration) error
	// AddFlag records a flag, dropping those older than retention.
	AddFlag(ctx context.Context, f ChangeFlag, retention time.Duration) error
	// Flags returns up to limit flags, newest first.
	Flags(ctx context.Context, limit int) ([]ChangeFlag, error)
	// TrackLease takes or renews a lease as JobStore.Lease does.
	TrackLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
}

// ChangeFlag is a change made to one of our meetings outside the add-in,
// which change tracking repaired or left for the admin. It names the
// mailbox and event by their IDs only.
type ChangeFlag struct {
	Time      time.Time `json:"time"`
	MailboxID string    `json:"mailboxId"`
	EventID   string    `json:"eventId"`
	Conf      string    `json:"conferenceId,omitempty"`
	Kind      string    `json:"kind"`   // block_deleted, block_mismatch, time_changed, event_deleted
	Action    string    `json:"action"` // repaired, flagged, updated
	Detail    string    `json:"detail,omitempty"`
}
