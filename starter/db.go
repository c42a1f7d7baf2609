package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/store"
)

// loadConfig reads the environment; a malformed variable is bad input.
func loadConfig() (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, badInput(err)
	}
	return cfg, nil
}

// cmdLogger logs to the command's stderr in the configured format.
func cmdLogger(cmd *cobra.Command, cfg config.Config) zerolog.Logger {
	return logging.New(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
}

// openPool connects to cfg.DatabaseURL and checks the connection, so a wrong
// URL or a stopped server is reported once, clearly, through store's one
// redaction: a URL that does not parse is bad input, and nothing of it is
// shown.
func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	return pool, dbError(err)
}

// openConn opens a single connection, for schema migrations.
func openConn(ctx context.Context, cfg config.Config) (*pgx.Conn, error) {
	conn, err := store.Connect(ctx, cfg.DatabaseURL)
	return conn, dbError(err)
}

func dbError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrBadDatabaseURL):
		return badInput(err)
	}
	return fmt.Errorf("%w (set %s)", err, config.EnvDatabaseURL)
}
