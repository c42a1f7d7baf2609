// Package temporaltest connects tests to the real Temporal server that
// `make test` runs (the dev server from scripts/temporal.sh), and names task
// queues so tests never poll the queues a `make demo` worker serves on the
// same server.
package temporaltest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/servicetest"
	"github.com/tiershift/tiershift/temporalx"
)

// DialTimeout bounds connecting and the health check, so a missing server
// fails (or, outside CI and `make test`, skips) a test quickly.
const DialTimeout = 5 * time.Second

// Address is the server tests use: TEMPORAL_ADDRESS, else localhost:7233.
func Address() string {
	if v := strings.TrimSpace(os.Getenv(config.EnvTemporalAddress)); v != "" {
		return v
	}
	return config.DefaultTemporalAddress
}

// Namespace is the namespace tests use: TEMPORAL_NAMESPACE, else "default".
func Namespace() string {
	if v := strings.TrimSpace(os.Getenv(config.EnvTemporalNamespace)); v != "" {
		return v
	}
	return config.DefaultTemporalNamespace
}

// Client dials the Temporal server, checks its health and that the namespace
// exists, and closes the client when the test ends. A server that does not
// answer is servicetest.Unavailable: a failure under CI=true and in
// `make test`, a loud skip otherwise.
func Client(t testing.TB) client.Client {
	t.Helper()
	c, err := dial(Address(), Namespace())
	if err != nil {
		servicetest.Unavailable(t, "Temporal dev server", err)
	}
	t.Cleanup(c.Close)
	return c
}

func dial(addr, namespace string) (client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
	defer cancel()
	// The same connection settings (envconfig: TLS, API key) and payload
	// codec as the worker and the starter under test (TIERSHIFT_CODEC_KEY_FILE
	// or TIERSHIFT_CODEC_KEYS, which make test sets): a test's worker must
	// read what the starter encrypts, and make test-cluster dials with mTLS.
	cfg, err := config.FromEnv()
	if err != nil {
		return nil, err
	}
	cfg.TemporalAddress, cfg.TemporalNamespace = addr, namespace
	opts, err := temporalx.ClientOptions(cfg, zerolog.Nop())
	if err != nil {
		return nil, err
	}
	opts.Logger = quietLogger()
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		c.Close()
		return nil, fmt.Errorf("health check of %s: %w", addr, err)
	}
	if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace}); err != nil {
		c.Close()
		return nil, fmt.Errorf("namespace %q at %s: %w", namespace, addr, err)
	}
	return c, nil
}

// quietLogger keeps the SDK's per-poll INFO lines out of test output while
// still showing warnings. It writes to stderr, not t.Log, because workers may
// log after the test that started them has returned.
func quietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

// TaskQueue returns a task queue name unique to this test and run, e.g.
// "test-TestLaunch_happy_path-3f9a1c2e", so parallel tests, concurrent test
// packages and a demo worker on the same server never take each other's tasks.
func TaskQueue(t testing.TB) string {
	t.Helper()
	return "test-" + sanitize(t.Name(), 60) + "-" + randomHex(4)
}

func sanitize(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RawOptions connects like Client (address, namespace, TLS or API key from
// the environment) but without the payload codec, for tests that must see
// what the server stores: ciphertext, never a partner's name.
func RawOptions(t testing.TB) client.Options {
	t.Helper()
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	o, err := cfg.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		t.Fatalf("the Temporal connection to %s: %v", Address(), err)
	}
	o.HostPort, o.Namespace, o.Logger = Address(), Namespace(), quietLogger()
	return o
}
