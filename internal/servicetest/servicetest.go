// Package servicetest decides what a test does when a real service it needs
// is not there: under CI=true that is a failure, never a silent skip.
package servicetest

import (
	"os"
	"testing"
)

// Unavailable stops the test because service is missing. Under CI=true (and
// in `make test`, which sets TIERSHIFT_REQUIRE_SERVICES=1) it fails; on a
// developer's machine running a single package by hand it skips, loudly.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required but unavailable: %v (run `make test`, which starts it)", service, err)
	}
	t.Skipf("SKIPPED: %s unavailable: %v (run `make test` to start it)", service, err)
}

// Required reports whether missing services must fail tests.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("TIERSHIFT_REQUIRE_SERVICES") == "1"
}
