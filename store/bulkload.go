package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// keyDefinitions lists, for some tables, how to drop and how to rebuild
// every index they have: foreign keys elsewhere that reference their keys
// first (they depend on the key's index), then their primary key, unique and
// exclusion constraints, then their other indexes. The definitions come from
// the catalog, so they are whatever the migrations made.
const keyDefinitions = `
WITH t(rel) AS (SELECT unnest($1::regclass[]))
SELECT drop_sql, create_sql FROM (
    SELECT 1 AS step,
           format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname) AS drop_sql,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid)) AS create_sql
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.confrelid IN (SELECT rel FROM t)
    UNION ALL
    SELECT 2,
           format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
    FROM pg_constraint c
    WHERE c.contype IN ('p', 'u', 'x') AND c.conrelid IN (SELECT rel FROM t)
    UNION ALL
    SELECT 3,
           format('DROP INDEX %s', i.indexrelid::regclass),
           pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    WHERE i.indrelid IN (SELECT rel FROM t)
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                      WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
) d
ORDER BY step, drop_sql`

// withoutIndexes runs load with every index of tables dropped, and builds
// them again afterwards, all in tx: PostgreSQL's advice for populating a
// table ("Populating a Database": remove indexes and foreign keys, load,
// recreate them). Appending 100,000 partners and their enrollments to
// indexes row by row cost about twice what sorting the keys once does
// (EXPLAIN ANALYZE: 0.39 s against 0.24 + 0.05 s for partners, 0.28 against
// 0.11 + 0.07 s for enrollments), and the gap grows with the table.
//
// The caller must hold tables empty and locked against every other session
// (ACCESS EXCLUSIVE): the rebuild reads every row, and no query of another
// session may run without the indexes. A key the loaded rows violate fails
// the rebuild, and so the transaction, with PostgreSQL's message (for
// example "could not create unique index").
func withoutIndexes(ctx context.Context, tx pgx.Tx, tables []string, load func() error) error {
	type definition struct{ dropSQL, create string }
	rows, err := tx.Query(ctx, keyDefinitions, tables)
	if err != nil {
		return fmt.Errorf("read the indexes of %v: %w", tables, err)
	}
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (definition, error) {
		var d definition
		err := r.Scan(&d.dropSQL, &d.create)
		return d, err
	})
	if err != nil {
		return fmt.Errorf("read the indexes of %v: %w", tables, err)
	}
	for _, d := range defs {
		if _, err := tx.Exec(ctx, d.dropSQL); err != nil {
			return fmt.Errorf("before loading, %s: %w", d.dropSQL, err)
		}
	}
	if err := load(); err != nil {
		return err
	}
	// Sorting a million keys in memory instead of on disk.
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
		return fmt.Errorf("set maintenance_work_mem: %w", err)
	}
	for i := len(defs) - 1; i >= 0; i-- {
		if _, err := tx.Exec(ctx, defs[i].create); err != nil {
			return fmt.Errorf("after loading, %s: %w", defs[i].create, err)
		}
	}
	return nil
}
