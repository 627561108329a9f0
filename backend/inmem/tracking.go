package inmem

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ scheduler.TrackingStore = (*Admin)(nil)

type tracked struct {
	st      scheduler.TrackState
	expires time.Time
}

// Tracked returns a mailbox's tracking state.
func (a *Admin) Tracked(_ context.Context, mailboxID string) (scheduler.TrackState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.tracked[mailboxID]
	if !ok || !a.Now().Before(t.expires) {
		return scheduler.TrackState{}, scheduler.ErrNotFound
	}
	st := t.st
	st.Ours = maps.Clone(st.Ours)
	return st, nil
}

// SaveTracked stores a mailbox's tracking state for ttl.
func (a *Admin) SaveTracked(_ context.Context, mailboxID string, st scheduler.TrackState, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tracked == nil {
		a.tracked = map[string]tracked{}
	}
	st.Ours = maps.Clone(st.Ours)
	a.tracked[mailboxID] = tracked{st: st, expires: a.Now().Add(ttl)}
	return nil
}

// AddFlag records a change flag and drops those older than retention.
func (a *Admin) AddFlag(_ context.Context, f scheduler.ChangeFlag, retention time.Duration) error {
	if err := positive(retention); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	cut := f.Time.Add(-retention)
	a.flags = append(slices.DeleteFunc(a.flags, func(x scheduler.ChangeFlag) bool { return x.Time.Before(cut) }), f)
	slices.SortStableFunc(a.flags, func(x, y scheduler.ChangeFlag) int { return x.Time.Compare(y.Time) })
	return nil
}

// Flags returns up to limit flags, newest first.
func (a *Admin) Flags(_ context.Context, limit int) ([]scheduler.ChangeFlag, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := slices.Clone(a.flags)
	slices.Reverse(out)
	return out[:min(limit, len(out))], nil
}

// TrackLease takes a free lease or renews the caller's own.
func (a *Admin) TrackLease(_ context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.trackLeases == nil {
		a.trackLeases = map[string]lease{}
	}
	now := a.Now()
	if l, ok := a.trackLeases[name]; ok && now.Before(l.expires) && l.owner != owner {
		return false, nil
	}
	a.trackLeases[name] = lease{owner: owner, expires: now.Add(ttl)}
	return true, nil
}
