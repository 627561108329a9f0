package redisstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Change tracking's keys, with the default prefix:
//
//	ws:track:mbx:<mailbox ID>     JSON scheduler.TrackState
//	ws:track:flags                sorted set of JSON change flags by time
//	ws:track:lease:<name>         lease holder's token

var _ scheduler.TrackingStore = (*Store)(nil)

func (s *Store) trackKey(part string) string { return s.prefix + "track:" + part }

// Tracked returns a mailbox's tracking state.
func (s *Store) Tracked(ctx context.Context, mailboxID string) (scheduler.TrackState, error) {
	var st scheduler.TrackState
	v, err := s.c.Get(ctx, s.trackKey("mbx:"+mailboxID)).Bytes()
	if err != nil {
		return st, storeError("read tracking state", err)
	}
	return st, decode("tracking state", v, &st)
}

// SaveTracked stores a mailbox's tracking state for ttl.
func (s *Store) SaveTracked(ctx context.Context, mailboxID string, st scheduler.TrackState, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.trackKey("mbx:"+mailboxID), v, ttl).Err(); err != nil {
		return storeError("save tracking state", err)
	}
	return nil
}

// AddFlag records a change flag and drops those older than retention.
func (s *Store) AddFlag(ctx context.Context, f scheduler.ChangeFlag, retention time.Duration) error {
	return appendLog(ctx, s, s.trackKey("flags"), "change flag", f.Time, f, retention)
}

// Flags returns up to limit flags, newest first.
func (s *Store) Flags(ctx context.Context, limit int) ([]scheduler.ChangeFlag, error) {
	return newestLog[scheduler.ChangeFlag](ctx, s, s.trackKey("flags"), "change flag", limit)
}

// TrackLease takes a free lease with SET NX PX, or renews the caller's own.
func (s *Store) TrackLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	key := s.trackKey("lease:" + name)
	ok, err := s.c.SetNX(ctx, key, owner, ttl).Result()
	if err != nil {
		return false, storeError("take lease", err)
	}
	if ok {
		return true, nil
	}
	n, err := renewScript.Run(ctx, s.c, []string{key}, owner, ms(ttl)).Int()
	if err != nil {
		return false, storeError("renew lease", err)
	}
	return n == 1, nil
}
