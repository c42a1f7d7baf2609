package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Connecting to PostgreSQL is done here, for the worker and every starter
// command alike, so that there is one rule for what is ever shown of
// DATABASE_URL: never the string itself, nor an error of pgx that may quote
// it (ParseConfig's does, redacted only as well as it can guess), only the
// parsed user, host, port and database, and connection errors with every
// spelling of the password removed.

// ErrBadDatabaseURL marks a connection string that does not parse, or that
// parses ambiguously: bad input.
var ErrBadDatabaseURL = errors.New("not a valid PostgreSQL connection string")

// connectTimeout bounds the first connection, so a wrong host is reported
// instead of hanging.
const connectTimeout = 10 * time.Second

// PoolConfig parses a DATABASE_URL. Its error names what is wrong without
// repeating any part of the string.
func PoolConfig(databaseURL string) (*pgxpool.Config, error) {
	if why := ambiguousURL(databaseURL); why != "" {
		return nil, badURL(why)
	}
	pc, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, badURL(urlProblem(databaseURL))
	}
	return pc, nil
}

// OpenPool connects to the server of databaseURL and checks that it
// answers. maxConns 0 keeps pgx's default.
func OpenPool(ctx context.Context, databaseURL string, maxConns int32) (*pgxpool.Pool, error) {
	pc, err := PoolConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	if maxConns > 0 {
		pc.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, ConnectError(databaseURL, err)
	}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, ConnectError(databaseURL, err)
	}
	return pool, nil
}

// Connect opens one connection to the server of databaseURL (schema
// migrations take one).
func Connect(ctx context.Context, databaseURL string) (*pgx.Conn, error) {
	pc, err := PoolConfig(databaseURL)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, pc.ConnConfig)
	if err != nil {
		return nil, ConnectError(databaseURL, err)
	}
	return conn, nil
}

// DatabaseTarget names where databaseURL points, "user@host:port/database",
// for messages and logs; never its password.
func DatabaseTarget(databaseURL string) string {
	pc, err := PoolConfig(databaseURL)
	if err != nil {
		return "(an invalid DATABASE_URL, not shown)"
	}
	c := pc.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// ConnectError is the one redaction of an error met while connecting with
// databaseURL: it names the target and keeps the driver's reason, with the
// connection string and every spelling of its password replaced.
func ConnectError(databaseURL string, err error) error {
	// pgx's ConnectError repeats the user and database, which the target
	// already names: its cause alone is kept.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) && ce.Unwrap() != nil {
		err = ce.Unwrap()
	}
	msg := err.Error()
	for _, secret := range secretsOf(databaseURL) {
		msg = strings.ReplaceAll(msg, secret, "xxxxx")
	}
	return fmt.Errorf("connect to PostgreSQL at %s: %s", DatabaseTarget(databaseURL), msg)
}

// secretsOf lists the texts to hide: the whole string, then the password as
// parsed and percent-encoded.
func secretsOf(databaseURL string) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(databaseURL)
	if pc, err := pgxpool.ParseConfig(databaseURL); err == nil {
		add(pc.ConnConfig.Password)
		add(url.QueryEscape(pc.ConnConfig.Password))
		add(url.PathEscape(pc.ConnConfig.Password))
	}
	return out
}

func badURL(why string) error {
	return fmt.Errorf("DATABASE_URL is %w: %s (the value is not shown, as it may hold a password); "+
		"write postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable with every '@', '/', ':', '%%', '#', '?' "+
		"and space of the password percent-encoded (%%40 %%2F %%3A %%25 %%23 %%3F %%20), "+
		"or keyword=value pairs such as host=H user=U password='P' dbname=D", ErrBadDatabaseURL, why)
}

// ambiguousURL refuses a URL that pgx would parse, but not as meant: with
// an '@' of the password not encoded, the part after it becomes the host,
// or the part after a '/' of the password the database, and the
// connection error would then show a piece of the password.
func ambiguousURL(s string) string {
	rest, ok := cutScheme(s)
	if !ok {
		return ""
	}
	if strings.Count(rest, "@") > 1 {
		return "it has more than one '@'"
	}
	if _, path, _ := strings.Cut(rest, "/"); strings.Contains(path, "@") {
		return "it has an '@' after a '/'"
	}
	return ""
}

func cutScheme(s string) (string, bool) {
	for _, scheme := range []string{"postgres://", "postgresql://"} {
		if rest, ok := strings.CutPrefix(s, scheme); ok {
			return rest, true
		}
	}
	return "", false
}

// urlProblem says, from the string itself, why it does not parse; pgx's
// message is not used, as it may quote the string.
func urlProblem(s string) string {
	rest, isURL := cutScheme(s)
	switch {
	case strings.TrimSpace(s) == "":
		return "it is empty"
	case !isURL && !strings.Contains(s, "="):
		return "it is neither a postgres:// URL nor keyword=value pairs"
	case isURL && strings.ContainsAny(rest, " \t"):
		return "it has a space"
	case isURL && badPercent(rest):
		return "it has a '%' not followed by two hexadecimal digits"
	case isURL:
		return "the URL does not parse (a port that is not a number, or a password character not encoded)"
	}
	return "the keyword=value pairs do not parse (quote a value with spaces: password='...')"
}

func badPercent(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])) {
			return true
		}
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
