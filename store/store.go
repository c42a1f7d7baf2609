// Package store is tiershift's Postgres system of record: every SQL statement
// the engine runs lives here. Functions take explicit contexts, wrap errors
// with what they were doing, and are safe to retry: each write is keyed by a
// business key that Postgres constraints enforce.
package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiershift/tiershift/program"
)

// ErrNotFound is returned (wrapped) when a campaign or partner does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalidInput is returned (wrapped) when a call lacks a required field:
// retrying it cannot help.
var ErrInvalidInput = errors.New("invalid input")

// DB is what the store needs from Postgres. *pgxpool.Pool, *pgx.Conn and
// pgx.Tx all satisfy it, so a Store can also run inside a caller's
// transaction (Begin then opens a savepoint).
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Begin(ctx context.Context) (pgx.Tx, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Store reads and writes tiershift's tables.
type Store struct {
	DB DB
}

// New returns a Store using db (usually a *pgxpool.Pool).
func New(db DB) *Store { return &Store{DB: db} }

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.DB, fn)
}

// Postgres error codes the store translates.
const (
	pgForeignKeyViolation = "23503"
	pgUniqueViolation     = "23505"
)

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// storedFacts returns f in the form the partners table keeps: canonical
// (program.Facts.Normalize: sorted, deduplicated lists, no zero counts) and
// with empty collections instead of nil, so that equal facts compare equal in
// SQL and the NOT NULL columns get '{}'.
func storedFacts(f program.Facts) program.Facts {
	out := f.Normalize()
	if out.Certifications == nil {
		out.Certifications = map[string]int{}
	}
	if out.Competencies == nil {
		out.Competencies = []string{}
	}
	if out.Modules == nil {
		out.Modules = []string{}
	}
	return out
}

// Fact field names, as recorded in partner_fact_changes.field.
const (
	FieldCertifications = "certifications"
	FieldCompetencies   = "competencies"
	FieldModules        = "modules"
	FieldRevenue        = "revenue_cents"
	FieldPoints         = "points"
)

// factDiff lists the fields that differ between two normalized facts, with
// their old and new values as JSON-encodable values.
type fieldChange struct {
	Field    string
	Old, New any
}

func diffFacts(before, after program.Facts) []fieldChange {
	var out []fieldChange
	if !mapsEqual(before.Certifications, after.Certifications) {
		out = append(out, fieldChange{FieldCertifications, before.Certifications, after.Certifications})
	}
	if !slices.Equal(before.Competencies, after.Competencies) {
		out = append(out, fieldChange{FieldCompetencies, before.Competencies, after.Competencies})
	}
	if !slices.Equal(before.Modules, after.Modules) {
		out = append(out, fieldChange{FieldModules, before.Modules, after.Modules})
	}
	if before.Revenue != after.Revenue {
		out = append(out, fieldChange{FieldRevenue, int64(before.Revenue), int64(after.Revenue)})
	}
	if before.Points != after.Points {
		out = append(out, fieldChange{FieldPoints, before.Points, after.Points})
	}
	return out
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// nullIfEmpty maps "" to SQL NULL.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func wrapNotFound(what string, err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}
