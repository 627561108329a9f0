package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL returns a client for a Redis URL such as WEBSCHEDULER_REDIS_URL:
//
//	redis://[user:password@]host[:port][/db][?option=value&...]
//	rediss://...                   the same over TLS
//	unix://[user:password@]/path/to/redis.sock[?db=n&...]
//	redis+sentinel://[user:password@]sentinel[:port][/db]?master_name=name[&addr=sentinel2:port...]
//	rediss+sentinel://...          Sentinel over TLS
//	redis+cluster://[user:password@]node[:port][?addr=node2:port...]
//	rediss+cluster://...           Cluster over TLS
//
// A redis:// or rediss:// URL with a master_name parameter is Sentinel too,
// and one with addr parameters but no master_name is Cluster, as go-redis's
// ParseFailoverURL and ParseClusterURL read them. Options are go-redis's
// snake_case field names (dial_timeout=3s, pool_size=20, ...) and unknown
// ones are errors. For Sentinel, the URL's user and password authenticate to
// the sentinels and the username and password parameters to the master, as
// in go-redis. Cluster has only database 0.
//
// Errors never repeat the URL, which may hold a password.
func ParseURL(rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fmt.Errorf("redisstore: invalid Redis URL: %w", err)
	}
	scheme, topology, _ := strings.Cut(u.Scheme, "+")
	if topology == "" && (scheme == "redis" || scheme == "rediss") {
		switch q := u.Query(); {
		case q.Has("master_name"):
			topology = "sentinel"
		case q.Has("addr"):
			topology = "cluster"
		}
	}
	u.Scheme = scheme
	switch topology {
	case "":
		o, err := redis.ParseURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: invalid Redis URL: %w", err)
		}
		return redis.NewClient(o), nil
	case "sentinel":
		o, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: invalid Redis Sentinel URL: %w", err)
		}
		if o.MasterName == "" {
			return nil, errors.New("redisstore: invalid Redis Sentinel URL: master_name is missing")
		}
		return redis.NewFailoverClient(o), nil
	case "cluster":
		// ParseClusterURL ignores the path; say so rather than silently
		// using database 0 when another was asked for.
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return nil, fmt.Errorf("redisstore: invalid Redis Cluster URL: database %q requested, Cluster has only 0", db)
		}
		o, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("redisstore: invalid Redis Cluster URL: %w", err)
		}
		return redis.NewClusterClient(o), nil
	default:
		return nil, fmt.Errorf("redisstore: invalid Redis URL: unknown scheme %q", u.Scheme+"+"+topology)
	}
}
