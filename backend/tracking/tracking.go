// Package tracking notices changes made to our meetings outside the
// add-in (Outlook without the add-in, a phone, OWA): a meeting moved to
// another time, its join block deleted, the meeting deleted. It follows
// each mailbox's calendar with Graph delta queries, which need no inbound
// endpoint (change notifications would need one reachable from Microsoft's
// cloud, which many self-hosted deployments are not), and repairs what it
// safely can or flags it for the admin. It is off until an admin turns it
// on in the admin settings.
package tracking

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/settings"
)

// Flag kinds and actions.
const (
	KindBlockDeleted  = "block_deleted"
	KindBlockMismatch = "block_mismatch"
	KindTimeChanged   = "time_changed"
	KindEventDeleted  = "event_deleted"

	ActionRepaired = "repaired" // the join block was written back
	ActionUpdated  = "updated"  // the conference record follows the item
	ActionFlagged  = "flagged"  // left for the admin
)

// Lifetimes of what tracking keeps.
const (
	stateTTL      = 7 * 24 * time.Hour  // a mailbox's state while tracking runs
	flagRetention = 30 * 24 * time.Hour // flags shown to the admin
	rebaseline    = 24 * time.Hour      // a delta's window moves on daily
	retention     = 30 * 24 * time.Hour // a conference outlives its meeting (meeting.retention)
)

// Tracker follows every mailbox's calendar while tracking is on.
type Tracker struct {
	Graph       scheduler.TenantCalendars
	Store       scheduler.TrackingStore
	Conferences scheduler.ConferenceStore
	Settings    *settings.Service
	// Blocks renders join blocks for repairs (as refresh jobs do).
	Blocks refresh.Renderer
	Log    *slog.Logger
	Now    func() time.Time
	// Interval is how often each mailbox is looked at: 5 min.
	Interval time.Duration
	// Horizon is how far ahead meetings are followed: 180 days.
	Horizon time.Duration

	owner  string
	render func() rendered
}

type rendered struct {
	blocks refresh.Blocks
	err    error
}

func (t *Tracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Tracker) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (t *Tracker) interval() time.Duration {
	if t.Interval > 0 {
		return t.Interval
	}
	return 5 * time.Minute
}

// Run tracks until ctx ends, doing nothing while tracking is off.
func (t *Tracker) Run(ctx context.Context) {
	for {
		if t.Settings.Current().Tracking.Enabled {
			if err := t.Cycle(ctx); err != nil && ctx.Err() == nil {
				t.log().Warn("change tracking", "err", err.Error())
			}
		}
		tm := time.NewTimer(t.interval())
		select {
		case <-ctx.Done():
			tm.Stop()
			return
		case <-tm.C:
		}
	}
}

// Cycle looks once at every mailbox whose lease it gets: replicas share
// the work, and each mailbox is looked at by one of them per interval.
func (t *Tracker) Cycle(ctx context.Context) error {
	if t.owner == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		t.owner = fmt.Sprintf("%x", b)
		t.render = settings.Follow(t.Settings, func(e *settings.Effective) rendered {
			b, _, err := t.Blocks(e.Snapshot())
			return rendered{blocks: b, err: err}
		})
	}
	for next := ""; ; {
		users, n, err := t.Graph.Users(ctx, next)
		if err != nil {
			return err
		}
		for _, u := range users {
			ok, err := t.Store.TrackLease(ctx, "mbx:"+u.ID, t.owner, t.interval()/2)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := t.mailbox(ctx, u); err != nil {
				switch scheduler.ErrorCode(err) {
				case scheduler.ECodeNotFound, scheduler.ECodeForbidden:
					// No mailbox, or outside the application access policy.
				default:
					t.log().Warn("change tracking: mailbox", "mailbox", u.ID, "err", err.Error())
				}
			}
		}
		if next = n; next == "" {
			return nil
		}
	}
}

// mailbox applies one mailbox's changes since the last look, or takes a
// new baseline.
func (t *Tracker) mailbox(ctx context.Context, u scheduler.DirectoryUser) error {
	st, err := t.Store.Tracked(ctx, u.ID)
	now := t.now().UTC()
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound || err == nil && (st.DeltaLink == "" || now.Sub(st.Since) > rebaseline) {
		return t.baseline(ctx, u, now)
	}
	if err != nil {
		return err
	}
	changes, link, err := t.Graph.CalendarDelta(ctx, u.ID, st.Start, st.End, st.DeltaLink)
	if err != nil {
		if scheduler.ErrorCode(err) == scheduler.ECodeGraphError {
			return t.baseline(ctx, u, now) // the delta token expired
		}
		return err
	}
	for _, ch := range changes {
		if err := t.change(ctx, u, &st, ch); err != nil {
			return err
		}
	}
	st.DeltaLink = link
	return t.Store.SaveTracked(ctx, u.ID, st, stateTTL)
}

// baseline notes which events are ours and where the delta starts.
func (t *Tracker) baseline(ctx context.Context, u scheduler.DirectoryUser, now time.Time) error {
	horizon := t.Horizon
	if horizon == 0 {
		horizon = 180 * 24 * time.Hour
	}
	st := scheduler.TrackState{Since: now, Start: now, End: now.Add(horizon), Ours: map[string]string{}}
	for next := ""; ; {
		evs, n, err := t.Graph.Meetings(ctx, u.ID, st.Start, st.End, next)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			if ev.IsOrganizer {
				st.Ours[ev.ID] = ev.ConferenceID
			}
		}
		if next = n; next == "" {
			break
		}
	}
	_, link, err := t.Graph.CalendarDelta(ctx, u.ID, st.Start, st.End, "")
	if err != nil {
		return err
	}
	st.DeltaLink = link
	return t.Store.SaveTracked(ctx, u.ID, st, stateTTL)
}

func (t *Tracker) flag(ctx context.Context, f scheduler.ChangeFlag) error {
	f.Time = t.now().UTC()
	t.log().Info("change tracking", "kind", f.Kind, "action", f.Action, "mailbox", f.MailboxID, "conference", f.Conf)
	return t.Store.AddFlag(ctx, f, flagRetention)
}

// change handles one delta item.
func (t *Tracker) change(ctx context.Context, u scheduler.DirectoryUser, st *scheduler.TrackState, ch scheduler.EventChange) error {
	if ch.Removed {
		conf, ours := st.Ours[ch.ID]
		if !ours {
			return nil
		}
		delete(st.Ours, ch.ID)
		if _, err := t.Conferences.ConferenceByID(ctx, conf); err != nil {
			return ignoreNotFound(err) // freed by us: the add-in removed it
		}
		return t.flag(ctx, scheduler.ChangeFlag{MailboxID: u.ID, EventID: ch.ID, Conf: conf, Kind: KindEventDeleted, Action: ActionFlagged,
			Detail: "the conference stays until it expires"})
	}
	ev, err := t.Graph.MailboxEvent(ctx, u.ID, ch.ID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if ev.ConferenceID == "" || !ev.IsOrganizer {
		delete(st.Ours, ch.ID) // not ours, or no longer: the add-in removed it
		return nil
	}
	st.Ours[ev.ID] = ev.ConferenceID
	c, err := t.Conferences.ConferenceByID(ctx, ev.ConferenceID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if err := t.times(ctx, u, ev, c); err != nil {
		return err
	}
	return t.block(ctx, u, ev)
}

func ignoreNotFound(err error) error {
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
		return nil
	}
	return err
}

// times makes the conference record follow an item moved in another
// client: its lifetime (and the Jitsi directory's view) depend on them.
func (t *Tracker) times(ctx context.Context, u scheduler.DirectoryUser, ev scheduler.Event, c scheduler.Conference) error {
	if ev.Type != "" && ev.Type != "singleInstance" {
		return nil // a series' record holds its first occurrence
	}
	same := func(a, b time.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) }
	if ev.Start.IsZero() || same(ev.Start, c.Start) && same(ev.End, c.End) {
		return nil
	}
	old := c.Start
	c.Start, c.End, c.Updated = ev.Start.UTC(), ev.End.UTC(), t.now().UTC()
	ttl := max(c.End.Add(retention).Sub(t.now()), time.Hour)
	if err := t.Conferences.UpdateConference(ctx, c, ttl); err != nil {
		return ignoreNotFound(err)
	}
	return t.flag(ctx, scheduler.ChangeFlag{MailboxID: u.ID, EventID: ev.ID, Conf: ev.ConferenceID, Kind: KindTimeChanged, Action: ActionUpdated,
		Detail: old.Format(time.RFC3339) + " → " + c.Start.Format(time.RFC3339)})
}

// block repairs or flags a join block deleted or replaced in another
// client.
func (t *Tracker) block(ctx context.Context, u scheduler.DirectoryUser, ev scheduler.Event) error {
	typ := joininfo.BodyHTML
	if ev.BodyType == scheduler.BodyText {
		typ = joininfo.BodyText
	}
	id, found := joininfo.ConferenceIDOf(ev.Body, typ)
	flag := scheduler.ChangeFlag{MailboxID: u.ID, EventID: ev.ID, Conf: ev.ConferenceID, Kind: KindBlockDeleted, Action: ActionFlagged}
	switch {
	case found && id == ev.ConferenceID:
		return nil
	case found:
		flag.Kind = KindBlockMismatch
		return t.flag(ctx, flag)
	case !t.Settings.Current().Tracking.Repair:
		return t.flag(ctx, flag)
	}
	r := t.render()
	if r.err != nil {
		return r.err
	}
	_, b, err := r.blocks.Block(ctx, ev.ConferenceID, u.Name, u.Language)
	if err != nil {
		return ignoreNotFound(err)
	}
	res, err := t.Graph.WriteBodies(ctx, []scheduler.BodyWrite{{
		Mailbox: u.ID, EventID: ev.ID, ChangeKey: ev.ChangeKey, BodyType: ev.BodyType, Body: joininfo.Replace(ev.Body, typ, b),
	}})
	if err != nil {
		return err
	}
	switch s := res[0].Status; {
	case s >= 200 && s < 300:
		flag.Action = ActionRepaired
	case s == http.StatusPreconditionFailed:
		return nil // edited again meanwhile: the next delta brings it back
	default:
		flag.Detail = fmt.Sprintf("writing the block back failed with status %d", s)
	}
	return t.flag(ctx, flag)
}

// Flags lists what tracking did, newest first (the admin API's ChangeLog).
func (t *Tracker) Flags(ctx context.Context, limit int) ([]scheduler.ChangeFlag, error) {
	return t.Store.Flags(ctx, limit)
}
