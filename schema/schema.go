// Package schema holds tiershift's SQL migrations and applies them. The files
// are embedded so the worker and the starter carry the schema they expect.
package schema

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var migrations embed.FS

// versionTable records which migrations ran, in the connection's schema.
const versionTable = "tiershift_schema_version"

// Migrate brings the database to the newest schema. It is safe to run from
// several processes at once (tern takes an advisory lock) and is a no-op when
// the schema is current, so the worker runs it at every start.
func Migrate(ctx context.Context, conn *pgx.Conn) (from, to int32, err error) {
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: prepare: %w", err)
	}
	if err := m.LoadMigrations(migrations); err != nil {
		return 0, 0, fmt.Errorf("migrate: load embedded migrations: %w", err)
	}
	from, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("migrate: read current version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return from, 0, fmt.Errorf("migrate: read new version: %w", err)
	}
	return from, to, nil
}
