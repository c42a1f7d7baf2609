package store_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/secrettest"
	"github.com/tiershift/tiershift/store"
)

// TestConnectNeverShowsThePassword runs every form of DATABASE_URL through
// OpenPool, Connect and DatabaseTarget: each fails, as bad input exactly
// when it does not parse (or parses ambiguously), and no message holds the
// password or a piece of it.
func TestConnectNeverShowsThePassword(t *testing.T) {
	pgtest.New(t) // the refusing server must be up
	for _, c := range secrettest.DatabaseURLs(pgtest.DatabaseURL()) {
		t.Run(c.Name, func(t *testing.T) {
			ctx := context.Background()
			pool, perr := store.OpenPool(ctx, c.Value, 0)
			if pool != nil {
				pool.Close()
			}
			conn, cerr := store.Connect(ctx, c.Value)
			if conn != nil {
				_ = conn.Close(ctx)
			}
			t.Log(perr)
			for what, err := range map[string]error{"OpenPool": perr, "Connect": cerr} {
				if err == nil {
					t.Fatalf("%s succeeded", what)
				}
				if bad := errors.Is(err, store.ErrBadDatabaseURL); bad == c.Parses {
					t.Errorf("%s: bad input %v, want %v: %v", what, bad, !c.Parses, err)
				}
				if c.Parses && (!strings.Contains(err.Error(), "connect to PostgreSQL at ")) {
					t.Errorf("%s: the error does not say where it connected: %v", what, err)
				}
				if leaks := c.Leaks(err.Error()); len(leaks) > 0 {
					t.Errorf("%s shows %q: %v", what, leaks, err)
				}
			}
			if leaks := c.Leaks(store.DatabaseTarget(c.Value)); len(leaks) > 0 {
				t.Errorf("DatabaseTarget shows %q: %s", leaks, store.DatabaseTarget(c.Value))
			}
		})
	}
}

// TestConnectErrorHidesWhatADriverQuotes: should a driver's error quote the
// connection string or the password (raw or percent-encoded), ConnectError
// shows neither.
func TestConnectErrorHidesWhatADriverQuotes(t *testing.T) {
	for _, c := range secrettest.DatabaseURLs(pgtest.DatabaseURL()) {
		if !c.Parses {
			continue
		}
		pc, err := pgxpool.ParseConfig(c.Value)
		if err != nil {
			t.Fatal(err)
		}
		pw := pc.ConnConfig.Password
		quoted := errors.New("dial " + c.Value + " as " + pw + " (" + url.QueryEscape(pw) + ", " + url.PathEscape(pw) + ")")
		if leaks := c.Leaks(store.ConnectError(c.Value, quoted).Error()); len(leaks) > 0 || strings.Contains(store.ConnectError(c.Value, quoted).Error(), c.Value) {
			t.Errorf("%s: shows %q: %v", c.Name, leaks, store.ConnectError(c.Value, quoted))
		}
	}
}

// TestConnectErrorKeepsTheTargetReadable: with the local stack's password,
// which is also its user and database name, the error still reads as
// where it connected and why, not as "user=xxxxx database=xxxxx".
func TestConnectErrorKeepsTheTargetReadable(t *testing.T) {
	_, err := store.OpenPool(context.Background(), "postgres://tiershift:tiershift@127.0.0.1:1/tiershift?sslmode=disable", 0)
	if err == nil || !strings.HasPrefix(err.Error(), "connect to PostgreSQL at tiershift@127.0.0.1:1/tiershift: ") ||
		!strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("got %v", err)
	}
}
