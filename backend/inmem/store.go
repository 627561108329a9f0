// Package inmem keeps sessions, tokens, conferences and idempotency records
// in process memory, for sandbox mode and tests. Nothing survives a restart
// and replicas share nothing, so production uses redisstore instead.
//
// It mirrors redisstore's behaviour (schedulertest checks both): values are
// kept as the same JSON, so what goes in is exactly what Redis would keep,
// and every entry has a lifetime.
package inmem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var (
	_ scheduler.SessionStore     = (*Store)(nil)
	_ scheduler.TokenCache       = (*Store)(nil)
	_ scheduler.ConferenceStore  = (*Store)(nil)
	_ scheduler.IdempotencyStore = (*Store)(nil)
	_ scheduler.Pinger           = (*Store)(nil)
)

// sweepEvery bounds how often a write scans for expired entries, so entries
// that are never read again do not pile up.
const sweepEvery = time.Minute

// Store implements every store interface of scheduler. Create it with New;
// it is safe for concurrent use.
type Store struct {
	// Now is the clock lifetimes are measured with. Tests replace it before
	// the Store is first used.
	Now func() time.Time

	mu        sync.Mutex
	entries   map[string]entry // keyed like redisstore's keys, without prefix
	lastSweep time.Time
}

type entry struct {
	value   []byte
	expires time.Time
}

// New returns an empty Store on the wall clock.
func New() *Store {
	return &Store{Now: time.Now, entries: map[string]entry{}}
}

// get returns the live value under key, dropping it if it has expired.
// The caller holds s.mu.
func (s *Store) get(now time.Time, key string) ([]byte, bool) {
	e, ok := s.entries[key]
	if ok && !now.Before(e.expires) {
		delete(s.entries, key)
		return nil, false
	}
	return e.value, ok
}

// set stores value under key for ttl. The caller holds s.mu.
func (s *Store) set(now time.Time, key string, value []byte, ttl time.Duration) {
	s.entries[key] = entry{value: value, expires: now.Add(ttl)}
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
}

// positive refuses lifetimes that would keep an entry forever (Redis treats
// a zero TTL as "no expiry").
func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("inmem: lifetime %v is not positive", d)
	}
	return nil
}

// Ping always succeeds: memory is always there.
func (s *Store) Ping(context.Context) error { return nil }

// Session returns the session under id and extends its idle timeout.
func (s *Store) Session(_ context.Context, id string, idle time.Duration) (scheduler.Session, error) {
	var sess scheduler.Session
	if err := positive(idle); err != nil {
		return sess, err
	}
	s.mu.Lock()
	now := s.Now()
	v, ok := s.get(now, "sess:"+id)
	if ok {
		s.set(now, "sess:"+id, v, idle)
	}
	s.mu.Unlock()
	if !ok {
		return sess, scheduler.ErrNotFound
	}
	return sess, json.Unmarshal(v, &sess)
}

// SaveSession stores sess under id for idle.
func (s *Store) SaveSession(_ context.Context, id string, sess scheduler.Session, idle time.Duration) error {
	if err := positive(idle); err != nil {
		return err
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(s.Now(), "sess:"+id, v, idle)
	return nil
}

// DeleteSession removes the session under id.
func (s *Store) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, "sess:"+id)
	return nil
}

// Token returns the sealed token under key.
func (s *Store) Token(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.get(s.Now(), "tok:"+key)
	if !ok {
		return nil, scheduler.ErrNotFound
	}
	return append([]byte(nil), v...), nil
}

// SaveToken stores a sealed token under key for ttl.
func (s *Store) SaveToken(_ context.Context, key string, sealed []byte, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(s.Now(), "tok:"+key, append([]byte(nil), sealed...), ttl)
	return nil
}

func errConflict() error {
	return scheduler.Errorf(scheduler.ECodeConflict, "That conference ID or room is already in use.")
}

// confKeys returns the record's key, then its index keys. An empty
// conference ID or room is not indexed: providers without one must not
// collide on "".
func confKeys(c scheduler.Conference) []string {
	keys := []string{"conf:meeting:" + c.MeetingID}
	if c.ConferenceID != "" {
		keys = append(keys, "conf:id:"+c.ConferenceID)
	}
	if c.Room != "" {
		keys = append(keys, "conf:room:"+c.Room)
	}
	return keys
}

// setConference writes the record and its indexes. The caller holds s.mu.
func (s *Store) setConference(now time.Time, keys []string, record []byte, meetingID string, ttl time.Duration) {
	s.set(now, keys[0], record, ttl)
	for _, k := range keys[1:] {
		s.set(now, k, []byte(meetingID), ttl)
	}
}

// CreateConference stores c if its meeting ID, conference ID and room are
// all free.
func (s *Store) CreateConference(_ context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	if c.MeetingID == "" {
		return errors.New("inmem: conference without meeting ID")
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	keys := confKeys(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	for _, k := range keys {
		if _, taken := s.get(now, k); taken {
			return errConflict()
		}
	}
	s.setConference(now, keys, v, c.MeetingID, ttl)
	return nil
}

// UpdateConference replaces the record of c.MeetingID, which must keep its
// conference ID and room.
func (s *Store) UpdateConference(_ context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	keys := confKeys(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	old, ok := s.get(now, keys[0])
	if !ok {
		return scheduler.ErrNotFound
	}
	var was scheduler.Conference
	if err := json.Unmarshal(old, &was); err != nil {
		return err
	}
	if was.ConferenceID != c.ConferenceID || was.Room != c.Room {
		return errConflict()
	}
	s.setConference(now, keys, v, c.MeetingID, ttl)
	return nil
}

// ConferenceByMeeting returns the conference with the given meeting ID.
func (s *Store) ConferenceByMeeting(_ context.Context, meetingID string) (scheduler.Conference, error) {
	s.mu.Lock()
	v, ok := s.get(s.Now(), "conf:meeting:"+meetingID)
	s.mu.Unlock()
	var c scheduler.Conference
	if !ok {
		return c, scheduler.ErrNotFound
	}
	return c, json.Unmarshal(v, &c)
}

func (s *Store) conferenceBy(ctx context.Context, indexKey string) (scheduler.Conference, error) {
	s.mu.Lock()
	meetingID, ok := s.get(s.Now(), indexKey)
	s.mu.Unlock()
	if !ok {
		return scheduler.Conference{}, scheduler.ErrNotFound
	}
	return s.ConferenceByMeeting(ctx, string(meetingID))
}

// ConferenceByID returns the conference with the given conference ID.
func (s *Store) ConferenceByID(ctx context.Context, conferenceID string) (scheduler.Conference, error) {
	return s.conferenceBy(ctx, "conf:id:"+conferenceID)
}

// ConferenceByRoom returns the conference in the given room.
func (s *Store) ConferenceByRoom(ctx context.Context, room string) (scheduler.Conference, error) {
	return s.conferenceBy(ctx, "conf:room:"+room)
}

// DeleteConference removes the record and the indexes that name it.
func (s *Store) DeleteConference(_ context.Context, meetingID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.get(s.Now(), "conf:meeting:"+meetingID)
	if !ok {
		return nil
	}
	var c scheduler.Conference
	if err := json.Unmarshal(v, &c); err != nil {
		return err
	}
	keys := confKeys(c)
	delete(s.entries, keys[0])
	for _, k := range keys[1:] {
		if string(s.entries[k].value) == meetingID {
			delete(s.entries, k)
		}
	}
	return nil
}

// ClaimIdempotency claims key unless someone holds it already.
func (s *Store) ClaimIdempotency(_ context.Context, key string, ttl time.Duration) (string, bool, error) {
	if err := positive(ttl); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	if v, ok := s.get(now, "idem:"+key); ok {
		return string(v), false, nil
	}
	s.set(now, "idem:"+key, nil, ttl)
	return "", true, nil
}

// CompleteIdempotency records meetingID under key for ttl.
func (s *Store) CompleteIdempotency(_ context.Context, key, meetingID string, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set(s.Now(), "idem:"+key, []byte(meetingID), ttl)
	return nil
}

// ReleaseIdempotency drops the claim on key.
func (s *Store) ReleaseIdempotency(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, "idem:"+key)
	return nil
}
