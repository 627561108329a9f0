// Package qoe collects call-quality (QoE) reports and reports on them to
// admins. It is off unless the service is given a PostgreSQL URL.
//
// Reports arrive as RFC 6035 bodies (application/vq-rtcpxr) over SIP PUBLISH
// (ListenSIP) or an authenticated HTTP POST, and as Microsoft Teams call
// records fetched from Graph after a change notification. Each is stored as
// one call with its media streams, every stream classified as poor or not
// against documented thresholds (quality.go). Handler serves the reports
// (JSON, CSV, server-rendered SVG); the SQL views in migrations/ are the
// stable surface for admins' own tools. README.md documents both.
package qoe

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// ErrDisabled is returned by Open when no database URL is configured, and
// by a nil *Service's ListenSIP: QoE is off, nothing is received or stored.
var ErrDisabled = errors.New("qoe: disabled (no database URL)")

// Defaults for Options left zero.
const (
	DefaultRetention     = 90 * 24 * time.Hour
	DefaultPurgeInterval = time.Hour
	minIngestKey         = 16
)

// Options configure a Service. The zero value is valid: HTTP ingestion
// off, no Teams, IP addresses stored whole, 90 days of retention.
type Options struct {
	Logger *slog.Logger
	// IngestKey is the bearer key for POST {mount}/ingest; "" turns HTTP
	// ingestion off (the route answers 404).
	IngestKey string
	// Retention is how long calls are kept; older ones are purged.
	Retention time.Duration
	// PurgeInterval is how often the purge job runs.
	PurgeInterval time.Duration
	// TruncateIPs stores endpoint addresses cut to their subnet (/24 for
	// IPv4, /64 for IPv6), so no single host is identifiable.
	TruncateIPs bool
	// SIPAllow limits which source addresses may PUBLISH; empty allows all.
	SIPAllow []netip.Prefix
	// Thresholds classify streams as poor; zero means DefaultThresholds.
	Thresholds *Thresholds
	// Teams, when set, subscribes to Teams call records through Graph.
	Teams *TeamsOptions
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service receives, stores and reports call quality. A nil *Service is QoE
// turned off: its Handler answers 404 and its other methods do nothing.
type Service struct {
	db         *pgxpool.Pool
	log        *slog.Logger
	opts       Options
	thresholds Thresholds
	now        func() time.Time
	etags      *etagStore
	teams      *teams

	ctx    context.Context // lives until Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to PostgreSQL, applies the embedded migrations and starts
// the purge job (and the Teams subscription, when configured). An empty
// databaseURL returns ErrDisabled and a nil *Service.
func Open(ctx context.Context, databaseURL string, opts Options) (*Service, error) {
	if databaseURL == "" {
		return nil, ErrDisabled
	}
	if opts.IngestKey != "" && len(opts.IngestKey) < minIngestKey {
		return nil, fmt.Errorf("qoe: the ingestion key must be at least %d characters", minIngestKey)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.PurgeInterval <= 0 {
		opts.PurgeInterval = DefaultPurgeInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	th := DefaultThresholds
	if opts.Thresholds != nil {
		th = *opts.Thresholds
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("qoe: database URL: %w", err)
	}
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("qoe: connect: %w", err)
	}
	if err := migrate(ctx, db, opts.Logger); err != nil {
		db.Close()
		return nil, err
	}
	s := &Service{db: db, log: opts.Logger, opts: opts, thresholds: th, now: opts.Now, etags: newETagStore()}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.Teams != nil {
		t, err := newTeams(s, *opts.Teams)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.teams = t
		s.goRun(t.run)
	}
	s.goRun(s.purgeLoop)
	return s, nil
}

// migrate applies the embedded migrations under a PostgreSQL advisory lock,
// so replicas starting together do not race.
func migrate(ctx context.Context, db *pgxpool.Pool, log *slog.Logger) error {
	if _, err := db.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS qoe`); err != nil {
		return fmt.Errorf("qoe: create schema: %w", err)
	}
	migrationFS, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	sqlDB := stdlib.OpenDBFromPool(db)
	defer sqlDB.Close()
	store, err := database.NewStore(database.DialectPostgres, "qoe.schema_migrations")
	if err != nil {
		return fmt.Errorf("qoe: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("qoe: migrations: %w", err)
	}
	p, err := goose.NewProvider("", sqlDB, migrationFS,
		goose.WithStore(store), goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("qoe: migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("qoe: apply migrations: %w", err)
	}
	for _, r := range results {
		log.Info("qoe migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

func (s *Service) goRun(f func(context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.ctx)
	}()
}

// Close stops the background jobs and SIP listeners, removes the Teams
// subscription and closes the database pool. It is safe to call twice.
func (s *Service) Close() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.db.Close()
	})
}

// Ping checks the database (for /readyz).
func (s *Service) Ping(ctx context.Context) error {
	if s == nil {
		return nil
	}
	return s.db.Ping(ctx)
}

func (s *Service) purgeLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.PurgeInterval)
	defer t.Stop()
	for {
		if n, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("qoe purge failed", "err", err)
		} else if n > 0 {
			s.log.Info("qoe purge", "calls_deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Purge deletes the calls (and their streams) that ended before the
// retention period, in batches so that no lock is held for long.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	cutoff := s.now().Add(-s.opts.Retention)
	var total int64
	for {
		tag, err := s.db.Exec(ctx, `DELETE FROM qoe.calls WHERE id IN (
			SELECT id FROM qoe.calls WHERE end_time < $1 LIMIT 5000)`, cutoff)
		if err != nil {
			return total, fmt.Errorf("qoe: purge: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < 5000 {
			return total, nil
		}
	}
}

// ParseRetention reads a retention setting: a number of days ("90d") or a
// Go duration ("2160h").
func ParseRetention(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("qoe: retention %q: want a whole number of days, e.g. 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("qoe: retention %q: want days (90d) or a duration of at least 1h", s)
	}
	return d, nil
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
