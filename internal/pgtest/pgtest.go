// Package pgtest gives each test its own freshly migrated schema in a real
// PostgreSQL, so tests run in parallel without seeing each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/servicetest"
	"github.com/tiershift/tiershift/schema"
)

// DatabaseURL is the server tests use: TIERSHIFT_TEST_DATABASE_URL, else
// DATABASE_URL, else the local stack's default.
func DatabaseURL() string {
	for _, name := range []string{"TIERSHIFT_TEST_DATABASE_URL", config.EnvDatabaseURL} {
		if v := os.Getenv(name); v != "" {
			return v
		}
	}
	return config.DefaultDatabaseURL
}

// DB is one test's isolated schema.
type DB struct {
	Pool   *pgxpool.Pool
	Schema string
	// URL connects to the same schema (search_path set), for child processes.
	URL string
}

// New creates a schema named after the test, applies every migration in it
// and returns a pool whose connections use it. The schema is dropped when the
// test ends.
func New(t testing.TB) *DB {
	t.Helper()
	return newIn(t, DatabaseURL())
}

func newIn(t testing.TB, base string) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		servicetest.Unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close(ctx)

	name := "t_" + sanitize(t.Name()) + "_" + randomSuffix()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("pgtest: drop schema %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Logf("pgtest: drop schema %s: %v", name, err)
		}
	})

	url := WithSearchPath(base, name)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: connect to schema %s: %v", name, err)
	}
	if _, _, err := schema.Migrate(ctx, conn); err != nil {
		conn.Close(ctx)
		t.Fatalf("pgtest: %v", err)
	}
	conn.Close(ctx)

	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatalf("pgtest: pool for schema %s: %v", name, err)
	}
	t.Cleanup(pool.Close)
	return &DB{Pool: pool, Schema: name, URL: url}
}

// WithSearchPath returns url with its search_path set to schema.
func WithSearchPath(url, schema string) string {
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Exec runs statements in the test's schema and fails the test on error.
func (db *DB) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := db.Pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// String names the schema, for test logs.
func (db *DB) String() string { return fmt.Sprintf("schema %s", db.Schema) }
