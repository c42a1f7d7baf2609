package main

import (
	"testing"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/secrettest"
)

// TestNoCommandPrintsTheDatabasePassword runs every form of DATABASE_URL
// through the commands' real connection paths (migrate: one connection;
// status: the pool every other command opens): each exits 2 when the URL
// does not parse, 1 when the server cannot be reached or refuses, and
// neither stdout nor stderr holds the password or a piece of it.
func TestNoCommandPrintsTheDatabasePassword(t *testing.T) {
	pgtest.New(t) // the refusing server must be up
	t.Setenv("LOG_FORMAT", "json")
	for _, c := range secrettest.DatabaseURLs(pgtest.DatabaseURL()) {
		t.Run(c.Name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", c.Value)
			want := exitInput
			if c.Parses {
				want = exitFailure
			}
			for _, args := range [][]string{{"migrate"}, {"status", "--campaign", "c1"}} {
				out, errOut, code := opsRun(t, args...)
				if code != want {
					t.Errorf("%s: exit %d, want %d\n%s", args[0], code, want, errOut)
				}
				if leaks := c.Leaks(out + errOut); len(leaks) > 0 {
					t.Errorf("%s shows %q:\n%s%s", args[0], leaks, out, errOut)
				}
			}
		})
	}
}
