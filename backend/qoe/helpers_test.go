package qoe

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultTestPostgres is where `make test` (scripts/test-postgres.sh) makes
// sure a PostgreSQL answers.
const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDatabase creates a database of its own for one test and drops it
// afterwards. The tests need a real PostgreSQL: without one they fail.
func testDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("WEBSCHEDULER_TEST_POSTGRES_URL")
	if admin == "" {
		admin = defaultTestPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s does not answer (%v): run `make test`, which starts one (scripts/test-postgres.sh), or set WEBSCHEDULER_TEST_POSTGRES_URL", redact(admin), err)
	}
	defer conn.Close(context.Background())
	name := "qoe_test_" + randomToken(6)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// testLogger logs through t, so a failing test shows what the service said.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// openService opens a Service on a fresh database.
func openService(t testing.TB, o Options) *Service {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	s, err := Open(context.Background(), testDatabase(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// get fetches a path from h and returns status, content type and body.
func get(t testing.TB, h http.Handler, path string) (int, string, []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Header().Get("Content-Type"), body
}

// eventually retries f until it returns nil or the deadline passes.
func eventually(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
