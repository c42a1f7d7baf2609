package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/secrettest"
	"github.com/tiershift/tiershift/logging"
)

// TestWorkerNeverPrintsASecret runs the worker's configuration and start
// with every form of DATABASE_URL (each fails) and of SENDGRID_API_KEY (the
// start then fails at a Temporal that is not there): neither the error nor
// the logs hold the password or key, or a piece of either.
func TestWorkerNeverPrintsASecret(t *testing.T) {
	db := pgtest.New(t)
	start := func(t *testing.T, edit func(*config.Config)) string {
		t.Helper()
		cfg, err := config.FromEnv()
		if err != nil {
			return err.Error() // main logs it and stops
		}
		cfg.TemporalAddress = closedPort(t)
		edit(&cfg)
		var logs bytes.Buffer
		log := logging.New(&logs, "json", "debug")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = run(ctx, cfg, log)
		if err == nil {
			t.Fatal("the worker started")
		}
		log.Error().Err(err).Msg("worker stopped") // as main does
		return logs.String()
	}
	for _, c := range secrettest.DatabaseURLs(pgtest.DatabaseURL()) {
		t.Run(c.Name, func(t *testing.T) {
			t.Setenv(config.EnvDatabaseURL, c.Value) // read by config.FromEnv
			if leaks := c.Leaks(start(t, func(*config.Config) {})); len(leaks) > 0 {
				t.Errorf("shows %q", leaks)
			}
		})
	}
	for _, c := range secrettest.SendGridKeys() {
		t.Run(c.Name, func(t *testing.T) {
			t.Setenv(config.EnvSendGridAPIKey, c.Value)
			logs := start(t, func(cfg *config.Config) { cfg.DatabaseURL = db.URL })
			if leaks := c.Leaks(logs); len(leaks) > 0 {
				t.Errorf("shows %q:\n%s", leaks, logs)
			}
		})
	}
}
