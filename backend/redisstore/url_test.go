package redisstore_test

import (
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/redisstore"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url   string
		check func(t *testing.T, c redis.UniversalClient)
	}{
		{"redis://user:pw@cache:6380/2?dial_timeout=3s", func(t *testing.T, c redis.UniversalClient) {
			o := standalone(t, c)
			if o.Addr != "cache:6380" || o.DB != 2 || o.Username != "user" || o.Password != "pw" || o.TLSConfig != nil {
				t.Errorf("options = %+v", o)
			}
		}},
		{"rediss://cache", func(t *testing.T, c redis.UniversalClient) {
			o := standalone(t, c)
			if o.Addr != "cache:6379" || o.TLSConfig == nil || o.TLSConfig.ServerName != "cache" {
				t.Errorf("options = %+v", o)
			}
		}},
		{"unix:///run/redis.sock?db=3", func(t *testing.T, c redis.UniversalClient) {
			o := standalone(t, c)
			if o.Network != "unix" || o.Addr != "/run/redis.sock" || o.DB != 3 {
				t.Errorf("options = %+v", o)
			}
		}},
		{"redis+sentinel://s1:26379/1?master_name=main&addr=s2:26379", sentinel(1)},
		{"rediss+sentinel://s1:26379?master_name=main", sentinel(0)},
		{"redis://s1:26379/4?master_name=main", sentinel(4)},
		{"redis+cluster://n1:7000?addr=n2:7001", cluster("n1:7000", "n2:7001", false)},
		{"rediss+cluster://n1:7000/0", cluster("n1:7000", "", true)},
		{"redis://n1:7000?addr=n2:7001&read_only=true", cluster("n1:7000", "n2:7001", false)},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			c, err := redisstore.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			tc.check(t, c)
		})
	}
}

func standalone(t *testing.T, c redis.UniversalClient) *redis.Options {
	t.Helper()
	rc, ok := c.(*redis.Client)
	if !ok {
		t.Fatalf("client is %T, want *redis.Client", c)
	}
	return rc.Options()
}

func sentinel(db int) func(t *testing.T, c redis.UniversalClient) {
	return func(t *testing.T, c redis.UniversalClient) {
		// go-redis names a failover client's address this way.
		if o := standalone(t, c); o.Addr != "FailoverClient" || o.DB != db {
			t.Errorf("options = %+v, want a failover client on db %d", o, db)
		}
	}
}

func cluster(first, second string, tls bool) func(t *testing.T, c redis.UniversalClient) {
	return func(t *testing.T, c redis.UniversalClient) {
		cc, ok := c.(*redis.ClusterClient)
		if !ok {
			t.Fatalf("client is %T, want *redis.ClusterClient", c)
		}
		o := cc.Options()
		want := []string{first}
		if second != "" {
			want = append(want, second)
		}
		if strings.Join(o.Addrs, ",") != strings.Join(want, ",") || (o.TLSConfig != nil) != tls {
			t.Errorf("options = %+v, want addrs %q, TLS %v", o, want, tls)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://cache:6379",
		"redis+ring://cache",
		"redis://cache?no_such_option=1",
		"redis://cache/notanumber",
		"redis+sentinel://s1:26379",
		"redis+cluster://n1:7000/3",
		"redis+cluster://n1:7000?addr=bad",
		"unix://",
		"redis://user:hunter2@cache:port",
	} {
		c, err := redisstore.ParseURL(raw)
		if err == nil {
			c.Close()
			t.Errorf("ParseURL(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q) error repeats the password: %v", raw, err)
		}
	}
}
