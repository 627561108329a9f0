package conferencing_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// redisClient connects to the Redis the tests run against, failing (never
// skipping) when none answers; the client is closed when t ends.
func redisClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	raw := cmp.Or(os.Getenv("WEBSCHEDULER_TEST_REDIS_URL"), "redis://127.0.0.1:6379/0")
	shown := raw
	if u, err := url.Parse(raw); err == nil {
		shown = u.Redacted()
	}
	c, err := redisstore.ParseURL(raw)
	if err != nil {
		t.Fatalf("WEBSCHEDULER_TEST_REDIS_URL: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis answers at %s (%v): run `make test`, which starts one, "+
			"or point WEBSCHEDULER_TEST_REDIS_URL at a Redis you may write to", shown, err)
	}
	return c
}

// scanKeys lists the keys matching pattern, on every master in Cluster.
func scanKeys(ctx context.Context, c redis.UniversalClient, pattern string) ([]string, error) {
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		var keys []string
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			got, err := scanKeys(ctx, n, pattern)
			mu.Lock()
			defer mu.Unlock()
			keys = append(keys, got...)
			return err
		})
		return keys, err
	}
	var keys []string
	it := c.Scan(ctx, 0, pattern, 500).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	return keys, it.Err()
}

// TestTemplateReplicasRedis has two replicas, each with its own provider,
// Redis client and Store, create 500 conferences at once in an ID space
// of 1,000 (5 digits starting "12"), retrying on conflict as the caller
// does. Every conference must be stored once with an ID of its own.
func TestTemplateReplicasRedis(t *testing.T) {
	t.Parallel()
	const (
		meetings = 500
		workers  = 8 // per replica
		attempts = 200
	)
	prefix := "wstest:" + rand.Text()[:12] + ":"
	type replica struct {
		p     *conferencing.Template
		store *redisstore.Store
	}
	s := conferencing.SandboxSettings("http://localhost:8080")
	s.Template.ConferenceIDLength = 5
	box := newBox(t)
	var replicas [2]replica
	clients := make([]redis.UniversalClient, len(replicas))
	for i := range replicas {
		clients[i] = redisClient(t)
		p := conferencing.NewTemplate(s, box)
		conferencing.SetIDPrefix(p, "12")
		replicas[i] = replica{p: p, store: redisstore.New(clients[i], redisstore.Options{Prefix: prefix})}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, clients[0], prefix+"*")
		for _, k := range keys { // one DEL per key: Cluster may spread them
			if err == nil {
				err = clients[0].Del(ctx, k).Err()
			}
		}
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range meetings {
			jobs <- i
		}
	}()
	var conflicts atomic.Int64
	errs := make(chan error, meetings)
	var wg sync.WaitGroup
	for _, r := range replicas {
		for range workers {
			wg.Go(func() {
				for i := range jobs {
					errs <- create(ctx, r.p, r.store, "meeting-"+strconv.Itoa(i), attempts, &conflicts)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d conflicts retried", conflicts.Load())
	if conflicts.Load() == 0 {
		t.Error("no conflicts: the ID space is not small enough to test retries")
	}

	// Read back through the other replica: every meeting is there, with an
	// ID of its own that leads back to it.
	ids := map[string]string{}
	for i := range meetings {
		meeting := "meeting-" + strconv.Itoa(i)
		c, err := replicas[i%2].store.ConferenceByMeeting(ctx, meeting)
		if err != nil {
			t.Fatalf("%s: %v", meeting, err)
		}
		if other, dup := ids[c.ConferenceID]; dup {
			t.Errorf("conference ID %s given to %s and %s", c.ConferenceID, other, meeting)
		}
		ids[c.ConferenceID] = meeting
		byID, err := replicas[(i+1)%2].store.ConferenceByID(ctx, c.ConferenceID)
		if err != nil || byID.MeetingID != meeting {
			t.Errorf("ConferenceByID(%s) = %s, %v; want %s", c.ConferenceID, byID.MeetingID, err, meeting)
		}
		byRoom, err := replicas[(i+1)%2].store.ConferenceByRoom(ctx, c.Room)
		if err != nil || byRoom.MeetingID != meeting {
			t.Errorf("ConferenceByRoom(%s) = %s, %v; want %s", c.Room, byRoom.MeetingID, err, meeting)
		}
	}
	// A conflict leaves nothing behind: exactly one record and two indexes
	// per meeting (key layout of redisstore's package doc).
	keys, err := scanKeys(ctx, clients[0], prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3*meetings {
		t.Errorf("%d keys under %s, want %d", len(keys), prefix, 3*meetings)
	}
}

// create does what the API does for a new meeting: ask the provider for a
// conference and store it, asking again while the store reports a conflict.
func create(ctx context.Context, p scheduler.Provider, store scheduler.ConferenceStore, meeting string, attempts int, conflicts *atomic.Int64) error {
	for range attempts {
		c, err := p.NewConference(ctx, request(meeting))
		if err != nil {
			return err
		}
		err = store.CreateConference(ctx, c, time.Hour)
		if scheduler.ErrorCode(err) != scheduler.ECodeConflict {
			return err
		}
		conflicts.Add(1)
	}
	return errors.New(meeting + ": every attempt conflicted")
}
