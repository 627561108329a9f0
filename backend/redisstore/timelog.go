package redisstore

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// maxLogEntries bounds a time-ordered log (audit, change flags) whatever
// its retention.
const maxLogEntries = 10000

// appendLog adds v to the sorted set key, scored by at, and in the same
// transaction drops entries older than retention and beyond the bound.
func appendLog(ctx context.Context, s *Store, key, what string, at time.Time, v any, retention time.Duration) error {
	if err := positive(retention); err != nil {
		return err
	}
	member, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(at.UnixMilli()), Member: member})
		p.ZRemRangeByScore(ctx, key, "-inf", "("+strconv.FormatInt(at.Add(-retention).UnixMilli(), 10))
		p.ZRemRangeByRank(ctx, key, 0, -maxLogEntries-1)
		p.PExpire(ctx, key, retention)
		return nil
	})
	if err != nil {
		return storeError("append "+what, err)
	}
	return nil
}

// newestLog returns up to limit entries of a log written by appendLog,
// newest first.
func newestLog[T any](ctx context.Context, s *Store, key, what string, limit int) ([]T, error) {
	vals, err := s.c.ZRevRange(ctx, key, 0, int64(limit)-1).Result()
	if err != nil {
		return nil, storeError("read "+what, err)
	}
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		var e T
		if err := decode(what, []byte(v), &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
