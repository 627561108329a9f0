package redisstore_test

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/scheduler/schedulertest"
)

// testClient connects once to the Redis the tests run against. These tests
// need a real Redis and fail, never skip, without one.
var testClient = sync.OnceValues(func() (redis.UniversalClient, error) {
	raw := cmp.Or(os.Getenv("WEBSCHEDULER_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	shown := raw
	if u, err := url.Parse(raw); err == nil {
		shown = u.Redacted()
	}
	c, err := redisstore.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("WEBSCHEDULER_TEST_REDIS_URL: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("no Redis answers at %s (%v): run `make test`, which starts one, "+
			"or point WEBSCHEDULER_TEST_REDIS_URL at a Redis you may write to", shown, err)
	}
	return c, nil
})

// newStore returns a Store under a fresh random prefix whose keys are
// deleted when t ends, the client, and the prefix.
func newStore(t *testing.T) (*redisstore.Store, redis.UniversalClient, string) {
	t.Helper()
	c, err := testClient()
	if err != nil {
		t.Fatal(err)
	}
	prefix := "wstest:" + rand.Text()[:12] + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, c, prefix+"*")
		if err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		// One DEL per key: in Cluster the keys may live in different slots.
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return redisstore.New(c, redisstore.Options{Prefix: prefix}), c, prefix
}

// scanKeys lists the keys matching pattern, on every master in Cluster.
func scanKeys(ctx context.Context, c redis.UniversalClient, pattern string) ([]string, error) {
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		var keys []string
		it := c.Scan(ctx, 0, pattern, 100).Iterator()
		for it.Next(ctx) {
			keys = append(keys, it.Val())
		}
		return keys, it.Err()
	}
	var (
		mu   sync.Mutex
		keys []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		got, err := scanKeys(ctx, n, pattern)
		mu.Lock()
		defer mu.Unlock()
		keys = append(keys, got...)
		return err
	})
	return keys, err
}

func TestStores(t *testing.T) {
	schedulertest.TestStores(t, func(t *testing.T) schedulertest.Stores {
		s, _, _ := newStore(t)
		return schedulertest.Stores{
			Sessions:    s,
			Tokens:      s,
			Conferences: s,
			Idempotency: s,
			Pinger:      s,
			Advance:     time.Sleep,
		}
	})
}

// TestKeyLayout checks the raw keys against DESIGN §5: only the listed
// families, every key with a TTL, and values holding nothing but the JSON
// of the scheduler types (opened options never reach Redis).
func TestKeyLayout(t *testing.T) {
	t.Parallel()
	s, c, prefix := newStore(t)
	ctx := t.Context()
	sess := scheduler.Session{OID: "oid", TID: "tid", Profile: []byte("sealed-profile"), CSRF: "csrf"}
	conf := scheduler.Conference{
		MeetingID:      "m1",
		ConferenceID:   "123456",
		Room:           "room-1",
		SealedPasscode: []byte("sealed-passcode"),
		SealedOptions:  []byte("sealed-options"),
		Options:        scheduler.MeetingOptions{Presenters: scheduler.PresentersNamed, PresenterList: []string{"alice@example.com"}},
	}
	steps := []error{
		s.SaveSession(ctx, "s1", sess, time.Hour),
		s.SaveToken(ctx, "t1", []byte("sealed-token"), time.Hour),
		s.CreateConference(ctx, conf, 24*time.Hour),
	}
	_, _, err := s.ClaimIdempotency(ctx, "k1", 24*time.Hour)
	steps = append(steps, err, s.CompleteIdempotency(ctx, "k1", "m1", 24*time.Hour))
	_, _, err = s.ClaimIdempotency(ctx, "k2", 24*time.Hour)
	steps = append(steps, err)
	if err := errors.Join(steps...); err != nil {
		t.Fatal(err)
	}

	sessJSON, _ := json.Marshal(sess)
	confJSON, _ := json.Marshal(conf)
	want := map[string]struct {
		value  string
		maxTTL time.Duration
	}{
		"sess:s1":                 {string(sessJSON), time.Hour},
		"tok:t1":                  {"sealed-token", time.Hour},
		"conf:{conf}:meeting:m1":  {string(confJSON), 24 * time.Hour},
		"conf:{conf}:id:123456":   {"m1", 24 * time.Hour},
		"conf:{conf}:room:room-1": {"m1", 24 * time.Hour},
		"idem:k1":                 {"m1", 24 * time.Hour},
		"idem:k2":                 {"", 24 * time.Hour},
	}
	keys, err := scanKeys(ctx, c, prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	if len(keys) != len(want) {
		t.Errorf("keys = %q, want the %d of the layout", keys, len(want))
	}
	for _, key := range keys {
		name := strings.TrimPrefix(key, prefix)
		if !slices.ContainsFunc([]string{"sess:", "tok:", "conf:", "idem:"}, func(family string) bool {
			return strings.HasPrefix(name, family)
		}) {
			t.Errorf("key %q is in none of the families sess:, tok:, conf:, idem:", key)
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected key %q", key)
			continue
		}
		if v, err := c.Get(ctx, key).Result(); err != nil || v != w.value {
			t.Errorf("GET %s = %q, %v; want %q", key, v, err, w.value)
		}
		if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= 0 || ttl > w.maxTTL {
			t.Errorf("PTTL %s = %v, %v; want in (0, %v]", key, ttl, err, w.maxTTL)
		}
		if strings.HasPrefix(name, "conf:") && hashTag(key) != "conf" {
			t.Errorf("conference key %q has hash tag %q, want conf", key, hashTag(key))
		}
	}
	if v := c.Get(ctx, prefix+"conf:{conf}:meeting:m1").Val(); strings.Contains(v, "alice@example.com") {
		t.Errorf("conference record holds an opened presenter address: %s", v)
	}

	// A read extends the idle timeout in Redis itself.
	if err := c.PExpire(ctx, prefix+"sess:s1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "s1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ttl := c.PTTL(ctx, prefix+"sess:s1").Val(); ttl < 59*time.Minute {
		t.Errorf("PTTL after Session(idle 1h) = %v, want about 1h", ttl)
	}
}

// hashTag is the part of key that Redis Cluster hashes.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	length := strings.IndexByte(key[open+1:], '}')
	if length <= 0 {
		return key
	}
	return key[open+1 : open+1+length]
}

// callAll calls every method of s and returns the errors by method name.
func callAll(ctx context.Context, s *redisstore.Store) map[string]error {
	c := scheduler.Conference{MeetingID: "m", ConferenceID: "1", Room: "r"}
	errs := map[string]error{
		"Ping":                s.Ping(ctx),
		"SaveSession":         s.SaveSession(ctx, "s", scheduler.Session{}, time.Hour),
		"DeleteSession":       s.DeleteSession(ctx, "s"),
		"SaveToken":           s.SaveToken(ctx, "t", []byte("x"), time.Hour),
		"CreateConference":    s.CreateConference(ctx, c, time.Hour),
		"UpdateConference":    s.UpdateConference(ctx, c, time.Hour),
		"DeleteConference":    s.DeleteConference(ctx, "m"),
		"CompleteIdempotency": s.CompleteIdempotency(ctx, "k", "m", time.Hour),
		"ReleaseIdempotency":  s.ReleaseIdempotency(ctx, "k"),
	}
	_, errs["Session"] = s.Session(ctx, "s", time.Hour)
	_, errs["Token"] = s.Token(ctx, "t")
	_, errs["ConferenceByMeeting"] = s.ConferenceByMeeting(ctx, "m")
	_, errs["ConferenceByID"] = s.ConferenceByID(ctx, "1")
	_, errs["ConferenceByRoom"] = s.ConferenceByRoom(ctx, "r")
	_, _, errs["ClaimIdempotency"] = s.ClaimIdempotency(ctx, "k", time.Hour)
	return errs
}

func wantUnavailable(t *testing.T, errs map[string]error) {
	t.Helper()
	for name, err := range errs {
		var e *scheduler.Error
		if !errors.As(err, &e) || e.Code != scheduler.ECodeStoreUnavailable {
			t.Errorf("%s: %v, want code %s", name, err, scheduler.ECodeStoreUnavailable)
			continue
		}
		if e.Message != "The session store is unavailable. Try again shortly." || e.Err == nil {
			t.Errorf("%s: message %q, cause %v; want the fixed sentence and the cause", name, e.Message, e.Err)
		}
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { c.Close() })
	start := time.Now()
	wantUnavailable(t, callAll(t.Context(), redisstore.New(c, redisstore.Options{})))
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("failing calls took %v, want them to fail fast", took)
	}

	// A closed client is unavailable too, not a panic.
	c.Close()
	wantUnavailable(t, callAll(t.Context(), redisstore.New(c, redisstore.Options{})))
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		reply string
		code  string
	}{
		{"-LOADING Redis is loading the dataset in memory", scheduler.ECodeStoreUnavailable},
		{"-READONLY You can't write against a read only replica.", scheduler.ECodeStoreUnavailable},
		{"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", scheduler.ECodeStoreUnavailable},
		{"-CLUSTERDOWN The cluster is down", scheduler.ECodeStoreUnavailable},
		{"-TRYAGAIN Multiple keys request during rehashing of slot", scheduler.ECodeStoreUnavailable},
		{"-NOAUTH Authentication required.", scheduler.ECodeStoreUnavailable},
		// A reply that is our bug, not an outage, stays internal.
		{"-WRONGTYPE Operation against a key holding the wrong kind of value", scheduler.ECodeInternal},
	} {
		t.Run(strings.Fields(tc.reply)[0][1:], func(t *testing.T) {
			t.Parallel()
			c := redis.NewClient(&redis.Options{Addr: fakeRedis(t, tc.reply+"\r\n"), MaxRetries: -1})
			t.Cleanup(func() { c.Close() })
			for name, err := range callAll(t.Context(), redisstore.New(c, redisstore.Options{})) {
				if code := scheduler.ErrorCode(err); code != tc.code {
					t.Errorf("%s: %v, want code %s", name, err, tc.code)
				}
			}
		})
	}
}

// fakeRedis serves a Redis that answers every command with reply and
// returns its address.
func fakeRedis(t *testing.T, reply string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go answer(conn, reply)
		}
	}()
	return ln.Addr().String()
}

// answer reads commands (RESP arrays of bulk strings) from conn and replies
// to each with reply.
func answer(conn net.Conn, reply string) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		header, err := r.ReadString('\n')
		if err != nil || len(header) < 3 {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(header[1:]))
		for range n {
			bulk, err := r.ReadString('\n')
			if err != nil || len(bulk) < 3 {
				return
			}
			size, _ := strconv.Atoi(strings.TrimSpace(bulk[1:]))
			if _, err := io.CopyN(io.Discard, r, int64(size)+2); err != nil {
				return
			}
		}
		if _, err := io.WriteString(conn, reply); err != nil {
			return
		}
	}
}
