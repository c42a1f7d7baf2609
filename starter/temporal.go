package main

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/temporalx"
)

// opsEnv is what the operating commands (launch, status, signal, extend,
// exempt, withdraw, report) work with: the configuration, a logger, the
// store and, when the command needs it, a Temporal client.
type opsEnv struct {
	cfg  config.Config
	log  zerolog.Logger
	tell teller
	pool *pgxpool.Pool
	st   *store.Store
	tc   client.Client

	acceptWait time.Duration // how long update waits for the workflow to accept; 0: updateTimeout
	updateWait time.Duration // how long update then waits for its answer; 0: updateTimeout
}

// openOps reads the configuration, connects to Postgres and, if withTemporal,
// to Temporal. Close releases both.
func openOps(ctx context.Context, errOut io.Writer, withTemporal bool) (*opsEnv, error) {
	cfg, err := loadConfig(ctx)
	if err != nil {
		return nil, err
	}
	e := &opsEnv{cfg: cfg}
	e.log, e.tell = newLogger(errOut, cfg)
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return nil, err
	}
	e.pool, e.st = pool, store.New(pool)
	if withTemporal {
		if e.tc, err = dialTemporal(ctx, cfg, e.log); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return e, nil
}

func (e *opsEnv) Close() {
	if e.tc != nil {
		e.tc.Close()
	}
	if e.pool != nil {
		e.pool.Close()
	}
}

// dialTemporal connects to the Temporal server the configuration names.
func dialTemporal(ctx context.Context, cfg config.Config, log zerolog.Logger) (client.Client, error) {
	return temporalx.Dial(ctx, cfg, log)
}

// loadCampaign returns a launched campaign, or an input error naming what is
// wrong (unknown campaign, not launched yet).
func (e *opsEnv) loadCampaign(ctx context.Context, campaignID string) (store.Campaign, error) {
	if strings.TrimSpace(campaignID) == "" {
		return store.Campaign{}, badInputf("--campaign is required")
	}
	c, err := e.st.GetCampaign(ctx, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return c, badInputf("campaign %q does not exist (import its partners with `starter import --campaign %s ...`)", campaignID, campaignID)
	}
	if err != nil {
		return c, err
	}
	if c.Program == nil {
		return c, badInputf("campaign %q has not been launched yet (state %s): run `starter launch --campaign %s --program P.yaml`", campaignID, c.State, campaignID)
	}
	return c, nil
}

// isNotFound reports whether Temporal said the workflow does not exist or has
// already completed.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// isTerminalWriter reports whether w is a terminal (progress bars, screen
// redraws) rather than a file or pipe (log lines).
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isStoreNotFound reports whether the store found no such row.
func isStoreNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
