package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// The admin keys, with the default prefix:
//
//	ws:settings                       hash: version, doc (the settings override, no secrets)
//	ws:audit                          sorted set of JSON audit entries by time
//	ws:job:index                      sorted set of job IDs by creation time
//	ws:job:{<id>}                     JSON scheduler.RefreshJob
//	ws:job:{<id>}:mbx                 hash: mailbox ID → sealed mailbox
//	ws:job:{<id>}:mbdone              set of finished mailbox IDs
//	ws:job:{<id>}:lease:<name>        lease holder's token
//	ws:job:{<id>}:intent              set of meetings whose write was sent
//	ws:job:{<id>}:done                set of finished meetings
//	ws:job:{<id>}:rows                list of JSON report rows
//	ws:job:{<id>}:counts              hash of counters
//
// A job's keys share the "{<id>}" hash tag, so one script can finish a
// meeting, add its row and count it atomically in Cluster mode too. The
// settings override has no TTL (it lives until changed); every other key
// expires.

var (
	_ scheduler.SettingsStore = (*Store)(nil)
	_ scheduler.JobStore      = (*Store)(nil)
)

func (s *Store) settingsKey() string { return s.prefix + "settings" }

// SettingsVersion returns the override's version, 0 when there is none.
func (s *Store) SettingsVersion(ctx context.Context) (int64, error) {
	v, err := s.c.HGet(ctx, s.settingsKey(), "version").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, storeError("read settings version", err)
	}
	return v, nil
}

// LoadSettings returns the override and its version.
func (s *Store) LoadSettings(ctx context.Context) ([]byte, int64, error) {
	vals, err := s.c.HMGet(ctx, s.settingsKey(), "version", "doc").Result()
	if err != nil {
		return nil, 0, storeError("read settings", err)
	}
	ver, _ := vals[0].(string)
	doc, _ := vals[1].(string)
	if ver == "" {
		return nil, 0, nil
	}
	n, err := strconv.ParseInt(ver, 10, 64)
	if err != nil {
		return nil, 0, errors.New("redisstore: settings version is not a number")
	}
	return []byte(doc), n, nil
}

// saveSettingsScript writes the override only over the version the caller
// read. ARGV: previous version, document. Returns the new version or -1.
var saveSettingsScript = redis.NewScript(`
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'version', v + 1, 'doc', ARGV[2])
return v + 1
`)

// SaveSettings stores doc as the next version if prev is still current.
func (s *Store) SaveSettings(ctx context.Context, doc []byte, prev int64) (int64, error) {
	v, err := saveSettingsScript.Run(ctx, s.c, []string{s.settingsKey()}, prev, doc).Int64()
	if err != nil {
		return 0, storeError("save settings", err)
	}
	if v < 0 {
		return 0, scheduler.Errorf(scheduler.ECodeVersionConflict, "The settings were changed meanwhile; reload them and try again.")
	}
	return v, nil
}

func (s *Store) auditKey() string { return s.prefix + "audit" }

// AppendAudit adds e and drops entries older than retention.
func (s *Store) AppendAudit(ctx context.Context, e scheduler.AuditEntry, retention time.Duration) error {
	return appendLog(ctx, s, s.auditKey(), "audit entry", e.Time, e, retention)
}

// Audit returns up to limit entries, newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]scheduler.AuditEntry, error) {
	return newestLog[scheduler.AuditEntry](ctx, s, s.auditKey(), "audit entry", limit)
}

func (s *Store) jobKey(id, part string) string {
	k := s.prefix + "job:{" + id + "}"
	if part != "" {
		k += ":" + part
	}
	return k
}

func (s *Store) jobIndexKey() string { return s.prefix + "job:index" }

// CreateJob stores a new job and lists it in the index.
func (s *Store) CreateJob(ctx context.Context, j scheduler.RefreshJob, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	ok, err := s.c.SetNX(ctx, s.jobKey(j.ID, ""), v, ttl).Result()
	if err != nil {
		return storeError("create job", err)
	}
	if !ok {
		return scheduler.Errorf(scheduler.ECodeConflict, "A job with that ID exists.")
	}
	idx := s.jobIndexKey()
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, idx, redis.Z{Score: float64(j.Created.UnixMilli()), Member: j.ID})
		p.ZRemRangeByScore(ctx, idx, "-inf", "("+strconv.FormatInt(j.Created.Add(-ttl).UnixMilli(), 10))
		p.PExpire(ctx, idx, ttl)
		return nil
	})
	if err != nil {
		return storeError("index job", err)
	}
	return nil
}

// Job returns a job by ID.
func (s *Store) Job(ctx context.Context, id string) (scheduler.RefreshJob, error) {
	var j scheduler.RefreshJob
	v, err := s.c.Get(ctx, s.jobKey(id, "")).Bytes()
	if err != nil {
		return j, storeError("read job", err)
	}
	return j, decode("job", v, &j)
}

// UpdateJob replaces an existing job record.
func (s *Store) UpdateJob(ctx context.Context, j scheduler.RefreshJob, ttl time.Duration) error {
	if err := positive(ttl); err != nil {
		return err
	}
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	ok, err := s.c.SetXX(ctx, s.jobKey(j.ID, ""), v, ttl).Result()
	if err != nil {
		return storeError("update job", err)
	}
	if !ok {
		return scheduler.ErrNotFound
	}
	return nil
}

// Jobs returns the newest job IDs.
func (s *Store) Jobs(ctx context.Context, limit int) ([]string, error) {
	ids, err := s.c.ZRevRange(ctx, s.jobIndexKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, storeError("list jobs", err)
	}
	return ids, nil
}

// AddMailboxes records mailboxes of a job.
func (s *Store) AddMailboxes(ctx context.Context, id string, mbs []scheduler.RefreshMailbox, ttl time.Duration) error {
	if len(mbs) == 0 {
		return nil
	}
	vals := make([]any, 0, 2*len(mbs))
	for _, m := range mbs {
		vals = append(vals, m.ID, m.Sealed)
	}
	key := s.jobKey(id, "mbx")
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, vals...)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return storeError("add mailboxes", err)
	}
	return nil
}

// Mailboxes returns every mailbox of a job.
func (s *Store) Mailboxes(ctx context.Context, id string) ([]scheduler.RefreshMailbox, error) {
	m, err := s.c.HGetAll(ctx, s.jobKey(id, "mbx")).Result()
	if err != nil {
		return nil, storeError("read mailboxes", err)
	}
	out := make([]scheduler.RefreshMailbox, 0, len(m))
	for k, v := range m {
		out = append(out, scheduler.RefreshMailbox{ID: k, Sealed: []byte(v)})
	}
	return out, nil
}

// MailboxesDone returns the finished mailboxes of a job.
func (s *Store) MailboxesDone(ctx context.Context, id string) ([]string, error) {
	ids, err := s.c.SMembers(ctx, s.jobKey(id, "mbdone")).Result()
	if err != nil {
		return nil, storeError("read finished mailboxes", err)
	}
	return ids, nil
}

// FinishMailbox marks a mailbox finished and returns how many are.
func (s *Store) FinishMailbox(ctx context.Context, id, mailboxID string, ttl time.Duration) (int64, error) {
	key := s.jobKey(id, "mbdone")
	var n *redis.IntCmd
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, key, mailboxID)
		p.PExpire(ctx, key, ttl)
		n = p.SCard(ctx, key)
		return nil
	})
	if err != nil {
		return 0, storeError("finish mailbox", err)
	}
	return n.Val(), nil
}

// renewScript extends a lease only for its holder. ARGV: owner, TTL in ms.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// releaseScript drops a lease only for its holder. ARGV: owner.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lease takes a free lease with SET NX PX, or renews the caller's own.
func (s *Store) Lease(ctx context.Context, id, name, owner string, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	key := s.jobKey(id, "lease:"+name)
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

// ReleaseLease gives up a lease the owner holds.
func (s *Store) ReleaseLease(ctx context.Context, id, name, owner string) error {
	if err := releaseScript.Run(ctx, s.c, []string{s.jobKey(id, "lease:"+name)}, owner).Err(); err != nil {
		return storeError("release lease", err)
	}
	return nil
}

// MarkIntent notes that a meeting's write is about to be sent.
func (s *Store) MarkIntent(ctx context.Context, id, key string, ttl time.Duration) error {
	k := s.jobKey(id, "intent")
	_, err := s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, k, key)
		p.PExpire(ctx, k, ttl)
		return nil
	})
	if err != nil {
		return storeError("mark intent", err)
	}
	return nil
}

// HasIntent reports whether an earlier run sent a write of key.
func (s *Store) HasIntent(ctx context.Context, id, key string) (bool, error) {
	ok, err := s.c.SIsMember(ctx, s.jobKey(id, "intent"), key).Result()
	if err != nil {
		return false, storeError("read intent", err)
	}
	return ok, nil
}

// Done reports whether a meeting is finished.
func (s *Store) Done(ctx context.Context, id, key string) (bool, error) {
	ok, err := s.c.SIsMember(ctx, s.jobKey(id, "done"), key).Result()
	if err != nil {
		return false, storeError("read done marker", err)
	}
	return ok, nil
}

// recordScript finishes a meeting once: done marker, report row and
// counters in one step, so a crash never leaves one without the others.
// KEYS: done, rows, counts, intent. ARGV: meeting key ("" for a row that
// finishes no meeting), row JSON, TTL in ms, counter names...
var recordScript = redis.NewScript(`
if ARGV[1] ~= '' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('SREM', KEYS[4], ARGV[1])
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
for i = 4, #ARGV do redis.call('HINCRBY', KEYS[3], ARGV[i], 1) end
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`)

// Record finishes a meeting (or adds a mailbox-level row) exactly once.
func (s *Store) Record(ctx context.Context, id, key string, row scheduler.RefreshRow, ttl time.Duration) (bool, error) {
	if err := positive(ttl); err != nil {
		return false, err
	}
	v, err := json.Marshal(row)
	if err != nil {
		return false, err
	}
	args := []any{key, v, ms(ttl)}
	for _, c := range row.Counters() {
		args = append(args, c)
	}
	keys := []string{s.jobKey(id, "done"), s.jobKey(id, "rows"), s.jobKey(id, "counts"), s.jobKey(id, "intent")}
	n, err := recordScript.Run(ctx, s.c, keys, args...).Int()
	if err != nil {
		return false, storeError("record meeting", err)
	}
	return n == 1, nil
}

// Counts returns a job's counters.
func (s *Store) Counts(ctx context.Context, id string) (map[string]int64, error) {
	m, err := s.c.HGetAll(ctx, s.jobKey(id, "counts")).Result()
	if err != nil {
		return nil, storeError("read counts", err)
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errors.New("redisstore: counter is not a number")
		}
		out[k] = n
	}
	return out, nil
}

// Rows returns report rows [from, from+n).
func (s *Store) Rows(ctx context.Context, id string, from, n int) ([]scheduler.RefreshRow, error) {
	vals, err := s.c.LRange(ctx, s.jobKey(id, "rows"), int64(from), int64(from+n-1)).Result()
	if err != nil {
		return nil, storeError("read rows", err)
	}
	out := make([]scheduler.RefreshRow, 0, len(vals))
	for _, v := range vals {
		var r scheduler.RefreshRow
		if err := decode("row", []byte(v), &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
