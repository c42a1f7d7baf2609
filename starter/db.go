package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
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
// URL or a stopped server is reported once, clearly, naming the URL without
// its password.
func openPool(ctx context.Context, cfg config.Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, badInputf("%s=%s is not a valid PostgreSQL URL: %v", config.EnvDatabaseURL, redactURL(cfg.DatabaseURL), redactErr(err, cfg.DatabaseURL))
	}
	if cfg.DBMaxConns > 0 {
		pc.MaxConns = cfg.DBMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %v", redactURL(cfg.DatabaseURL), redactErr(err, cfg.DatabaseURL))
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s (set %s): %v", redactURL(cfg.DatabaseURL), config.EnvDatabaseURL, redactErr(err, cfg.DatabaseURL))
	}
	return pool, nil
}

// openConn opens a single connection, for schema migrations.
func openConn(ctx context.Context, cfg config.Config) (*pgx.Conn, error) {
	if _, err := pgx.ParseConfig(cfg.DatabaseURL); err != nil {
		return nil, badInputf("%s=%s is not a valid PostgreSQL URL: %v", config.EnvDatabaseURL, redactURL(cfg.DatabaseURL), redactErr(err, cfg.DatabaseURL))
	}
	connCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(connCtx, cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s (set %s): %v", redactURL(cfg.DatabaseURL), config.EnvDatabaseURL, redactErr(err, cfg.DatabaseURL))
	}
	return conn, nil
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// redactURL hides the password of a URL ("postgres://u:xxxxx@h/db") or of a
// keyword/value connection string ("password=xxxxx").
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Scheme != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPassword.ReplaceAllString(raw, "${1}xxxxx")
}

// redactErr returns err's message with the URL, should a driver quote it,
// redacted.
func redactErr(err error, raw string) string {
	msg := err.Error()
	if raw == "" {
		return msg
	}
	if u, perr := url.Parse(raw); perr == nil {
		if pw, has := u.User.Password(); has && pw != "" {
			msg = regexp.MustCompile(regexp.QuoteMeta(pw)).ReplaceAllString(msg, "xxxxx")
		}
	}
	return dsnPassword.ReplaceAllString(msg, "${1}xxxxx")
}
