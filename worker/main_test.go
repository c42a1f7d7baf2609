package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/logging"
)

// closedPort returns a local address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestWorkerExplainsAMissingService(t *testing.T) {
	db := pgtest.New(t)
	temporaltest.Client(t) // the dev server must be up for the second case
	for _, c := range []struct {
		name string
		edit func(*config.Config)
		want string
	}{
		{"postgres down", func(c *config.Config) {
			c.DatabaseURL = "postgres://tiershift:tiershift@" + closedPort(t) + "/tiershift?sslmode=disable&connect_timeout=2"
		}, "connect to PostgreSQL at tiershift@127.0.0.1:"},
		{"temporal down", func(c *config.Config) { c.TemporalAddress = closedPort(t) }, "connect to Temporal at"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.FromEnv()
			if err != nil {
				t.Fatal(err)
			}
			cfg.DatabaseURL = db.URL
			cfg.TemporalAddress = temporaltest.Address()
			c.edit(&cfg)
			var logs bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = run(ctx, cfg, logging.New(&logs, "json", "info"))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "make up") {
				t.Fatalf("run: %v; want an error saying %q and how to start it", err, c.want)
			}
		})
	}
}

func TestWorkerStartsAndStopsOnCancel(t *testing.T) {
	db := pgtest.New(t)
	temporaltest.Client(t)
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL, cfg.TemporalAddress = db.URL, temporaltest.Address()
	cfg.TaskQueue = temporaltest.TaskQueue(t)
	cfg.EmailTaskQueue = config.EmailQueueFor(cfg.TaskQueue)
	cfg.SendGridAPIKey = "SG.do-not-log-me"
	cfg.PprofAddr = "127.0.0.1:0"
	cfg.MetricsAddr = "127.0.0.1:0"
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, logging.New(&logs, "json", "info")) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "worker ready") {
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready in 30s; logs:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "do-not-log-me") {
		t.Fatalf("the SendGrid key appeared in the logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"capture_mode":false`) {
		t.Fatalf("the start line does not say mail is really sent:\n%s", logs.String())
	}
	pprofURL := "http://" + logField(t, logs.String(), "pprof_addr") + "/debug/pprof/cmdline"
	if resp, err := http.Get(pprofURL); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v; want the pprof handler TIERSHIFT_PPROF_ADDR asked for", pprofURL, resp, err)
	} else {
		resp.Body.Close()
	}
	// TIERSHIFT_METRICS_ADDR serves the SDK's metrics and tiershift's.
	metricsURL := "http://" + logField(t, logs.String(), "metrics_addr") + "/metrics"
	resp, err := http.Get(metricsURL)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %v; want the metrics TIERSHIFT_METRICS_ADDR asked for", metricsURL, resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"temporal_worker_start", "tiershift_email_queue_lag_seconds_count"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("%s has no %s", metricsURL, name)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop after cancel")
	}
	if _, err := http.Get(pprofURL); err == nil {
		t.Errorf("pprof still served after the worker stopped")
	}
}

// logField returns the first value of a string field in JSON log lines.
func logField(t *testing.T, logs, field string) string {
	t.Helper()
	for line := range strings.Lines(logs) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			if v, ok := m[field].(string); ok {
				return v
			}
		}
	}
	t.Fatalf("no %q in the logs:\n%s", field, logs)
	return ""
}
