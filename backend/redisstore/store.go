// Package redisstore keeps sessions, tokens, conferences and idempotency
// records in Redis (standalone, Sentinel or Cluster; Redis 6.2 or later for
// GETEX), under the keys DESIGN §5 lists. With the default prefix:
//
//	ws:sess:<session ID>                   JSON scheduler.Session, sliding idle timeout
//	ws:tok:<key>                           sealed token bytes, until the token expires
//	ws:conf:{conf}:meeting:<meeting ID>    JSON scheduler.Conference
//	ws:conf:{conf}:id:<conference ID>      meeting ID (index)
//	ws:conf:{conf}:room:<room>             meeting ID (index)
//	ws:idem:<Idempotency-Key>              "" while claimed, then the meeting ID
//
// Every key has a TTL. The "{conf}" hash tag puts all conference keys in one
// Cluster slot, so that one script can check and write a record and both of
// its indexes atomically; the price is that in Cluster mode all conferences
// live on one shard.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var (
	_ scheduler.SessionStore     = (*Store)(nil)
	_ scheduler.TokenCache       = (*Store)(nil)
	_ scheduler.ConferenceStore  = (*Store)(nil)
	_ scheduler.IdempotencyStore = (*Store)(nil)
	_ scheduler.Pinger           = (*Store)(nil)
)

// DefaultPrefix starts every key unless Options say otherwise.
const DefaultPrefix = "ws:"

// confTag follows the prefix on every conference key; see the package doc.
const confTag = "conf:{conf}:"

// Options configure a Store.
type Options struct {
	// Prefix starts every key; empty means DefaultPrefix. Tests use a
	// unique prefix to isolate themselves. In Cluster mode it should hold
	// no '{': that would become the hash tag of every key.
	Prefix string
}

// Store implements every store interface of scheduler on one Redis client.
// It is safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
}

// New returns a Store on c. The caller keeps ownership of c.
func New(c redis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	return &Store{c: c, prefix: opts.Prefix}
}

const unavailableMessage = "The session store is unavailable. Try again shortly."

// storeError maps a go-redis error: redis.Nil is ErrNotFound, a store that
// cannot answer is ECodeStoreUnavailable, anything else stays internal.
func storeError(op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return scheduler.ErrNotFound
	}
	err = fmt.Errorf("redis %s: %w", op, err)
	if unavailable(err) {
		return scheduler.Wrap(scheduler.ECodeStoreUnavailable, unavailableMessage, err)
	}
	return err
}

// unavailable reports whether err means Redis cannot serve right now, as
// opposed to a bug or bad data on our side.
func unavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, context.DeadlineExceeded) ||
		redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsClusterDownError(err) || redis.IsTryAgainError(err) || redis.IsMaxClientsError(err) ||
		redis.IsNoReplicasError(err) || redis.IsOOMError(err) ||
		// A rejected password is a deployment fault, but to the person it
		// is the same outage, and /readyz must fail on it.
		redis.IsAuthError(err)
}

// positive refuses lifetimes that Redis would take as "no expiry" (or, for
// GETEX, as PERSIST): every key must expire.
func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("redisstore: lifetime %v is not positive", d)
	}
	return nil
}

// ms is d in whole milliseconds for a script's PX, at least 1.
func ms(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

func decode(what string, v []byte, into any) error {
	if err := json.Unmarshal(v, into); err != nil {
		return fmt.Errorf("redisstore: decode %s: %w", what, err)
	}
	return nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return storeError("ping", err)
	}
	return nil
}

func (s *Store) sessKey(id string) string { return s.prefix + "sess:" + id }

// Session returns the session under id and extends its idle timeout in the
// same round trip (GETEX).
func (s *Store) Session(ctx context.Context, id string, idle time.Duration) (scheduler.Session, error) {
	var sess scheduler.Session
	if err := positive(idle); err != nil {
		return sess, err
	}
	v, err := s.c.GetEx(ctx, s.sessKey(id), idle).Bytes()
	if err != nil {
		return sess, storeError("read session", err)
	}
	return sess, decode("session", v, &sess)
}

// SaveSession stores sess under id for idle.
func (s *Store) SaveSession(ctx context.Context, id string, sess scheduler.Session, idle time.Duration) error {
	if err := positive(idle); err != nil {
		return err
	}
	v, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.sessKey(id), v, idle).Err(); err != nil {
		return storeError("save session", err)
	}
	return nil
}

// DeleteSession removes the session under id.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.c.Del(ctx, s.sessKey(id)).Err(); err != nil {
		return storeError("delete session", err)
	}
	return nil
}

func (s *Store) tokKey(key string) string { return s.prefix + "tok:" + key }

// Token returns the sealed token under key.
func (s *Store) Token(ctx context.Context, key string) ([]byte, error) {
	v, err := s.c.Get(ctx, s.tokKey(key)).Bytes()
	if err != nil {
		return nil, storeError("read token", err)
	}
	return v, nil
}

// SaveToken stores a sealed token under key for ttl.
func (s *Store) SaveToken(ctx context.Context, key string, sealed []byte, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.tokKey(key), sealed, ttl).Err(); err != nil {
		return storeError("save token", err)
	}
	return nil
}

func (s *Store) confKey(kind, value string) string { return s.prefix + confTag + kind + ":" + value }

// confKeys returns the record's key, then its index keys. An empty
// conference ID or room is not indexed: providers without one must not
// collide on "".
func (s *Store) confKeys(c scheduler.Conference) []string {
	keys := []string{s.confKey("meeting", c.MeetingID)}
	if c.ConferenceID != "" {
		keys = append(keys, s.confKey("id", c.ConferenceID))
	}
	if c.Room != "" {
		keys = append(keys, s.confKey("room", c.Room))
	}
	return keys
}

// The conference scripts take the record's key, then its index keys
// (confKeys), so Cluster can route them and check they share a slot.

// createScript writes everything only if every key is free, so a conflict
// leaves nothing behind. ARGV: record JSON, meeting ID, TTL in ms.
var createScript = redis.NewScript(`
if redis.call('EXISTS', unpack(KEYS)) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
return 1
`)

// updateScript replaces the record and renews the indexes' TTL, but only
// while the stored record has the same conference ID and room: the indexes
// then already name this meeting. ARGV: record JSON, meeting ID, TTL in ms,
// conference ID, room. Returns 0 when the record is gone, -1 on a change.
var updateScript = redis.NewScript(`
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
old = cjson.decode(old)
if old.conferenceId ~= ARGV[4] or old.room ~= ARGV[5] then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
return 1
`)

// deleteScript drops the record and each index that still names it.
// ARGV: meeting ID.
var deleteScript = redis.NewScript(`
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
`)

func errConflict() error {
	return scheduler.Errorf(scheduler.ECodeConflict, "That conference ID or room is already in use.")
}

// CreateConference stores c if its meeting ID, conference ID and room are
// all free, atomically across replicas.
func (s *Store) CreateConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	if c.MeetingID == "" {
		return errors.New("redisstore: conference without meeting ID")
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	created, err := createScript.Run(ctx, s.c, s.confKeys(c), v, c.MeetingID, ms(ttl)).Int()
	if err != nil {
		return storeError("create conference", err)
	}
	if created == 0 {
		return errConflict()
	}
	return nil
}

// UpdateConference replaces the record of c.MeetingID, which must keep its
// conference ID and room, and gives it and its indexes ttl.
func (s *Store) UpdateConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	res, err := updateScript.Run(ctx, s.c, s.confKeys(c), v, c.MeetingID, ms(ttl), c.ConferenceID, c.Room).Int()
	switch {
	case err != nil:
		return storeError("update conference", err)
	case res == 0:
		return scheduler.ErrNotFound
	case res < 0:
		return errConflict()
	}
	return nil
}

// ConferenceByMeeting returns the conference with the given meeting ID.
func (s *Store) ConferenceByMeeting(ctx context.Context, meetingID string) (scheduler.Conference, error) {
	var c scheduler.Conference
	v, err := s.c.Get(ctx, s.confKey("meeting", meetingID)).Bytes()
	if err != nil {
		return c, storeError("read conference", err)
	}
	return c, decode("conference", v, &c)
}

func (s *Store) conferenceBy(ctx context.Context, kind, value string) (scheduler.Conference, error) {
	meetingID, err := s.c.Get(ctx, s.confKey(kind, value)).Result()
	if err != nil {
		return scheduler.Conference{}, storeError("read conference index", err)
	}
	return s.ConferenceByMeeting(ctx, meetingID)
}

// ConferenceByID returns the conference with the given conference ID.
func (s *Store) ConferenceByID(ctx context.Context, conferenceID string) (scheduler.Conference, error) {
	return s.conferenceBy(ctx, "id", conferenceID)
}

// ConferenceByRoom returns the conference in the given room.
func (s *Store) ConferenceByRoom(ctx context.Context, room string) (scheduler.Conference, error) {
	return s.conferenceBy(ctx, "room", room)
}

// DeleteConference removes the record and the indexes that name it.
func (s *Store) DeleteConference(ctx context.Context, meetingID string) error {
	c, err := s.ConferenceByMeeting(ctx, meetingID)
	if errors.Is(err, scheduler.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := deleteScript.Run(ctx, s.c, s.confKeys(c), meetingID).Err(); err != nil {
		return storeError("delete conference", err)
	}
	return nil
}

func (s *Store) idemKey(key string) string { return s.prefix + "idem:" + key }

// claimScript returns nil when the caller claimed the key, else what the key
// holds: "" while the first caller works, then its meeting ID. One script,
// because a SET NX then GET could see the key vanish in between.
// ARGV: TTL in ms.
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], '', 'NX', 'PX', ARGV[1]) then return false end
return redis.call('GET', KEYS[1])
`)

// ClaimIdempotency claims key unless someone holds it already.
func (s *Store) ClaimIdempotency(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	if err := positive(ttl); err != nil {
		return "", false, err
	}
	meetingID, err := claimScript.Run(ctx, s.c, []string{s.idemKey(key)}, ms(ttl)).Text()
	if errors.Is(err, redis.Nil) {
		return "", true, nil
	}
	if err != nil {
		return "", false, storeError("claim idempotency key", err)
	}
	return meetingID, false, nil
}

// CompleteIdempotency records meetingID under key for ttl.
func (s *Store) CompleteIdempotency(ctx context.Context, key, meetingID string, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	if err := s.c.Set(ctx, s.idemKey(key), meetingID, ttl).Err(); err != nil {
		return storeError("complete idempotency key", err)
	}
	return nil
}

// ReleaseIdempotency drops the claim on key.
func (s *Store) ReleaseIdempotency(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.idemKey(key)).Err(); err != nil {
		return storeError("release idempotency key", err)
	}
	return nil
}
