package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/store"
)

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
