package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

// keysOf lists every constraint and index of the tables a first import loads
// without their indexes, and of the tables whose foreign keys reference
// them, as their definitions: what the migrations made.
func keysOf(t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	const q = `
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ': ' || pg_get_constraintdef(oid) || ' ' || convalidated
FROM pg_constraint
WHERE conrelid IN ('partners'::regclass, 'enrollments'::regclass, 'partner_fact_changes'::regclass, 'tier_changes'::regclass)
UNION ALL
SELECT 'index ' || pg_get_indexdef(indexrelid) || ' ' || indisvalid
FROM pg_index
WHERE indrelid IN ('partners'::regclass, 'enrollments'::regclass, 'partner_fact_changes'::regclass, 'tier_changes'::regclass)
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text
FROM pg_trigger
WHERE tgrelid IN ('partners'::regclass, 'enrollments'::regclass) AND NOT tgisinternal`
	rs, err := db.Pool.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rs, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// A first import loads partners and enrollments without their indexes and
// builds them afterwards: every key, index and trigger must be back exactly
// as the migrations made it, and enforce what it did.
func TestFirstImportRebuildsEveryKey(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	before := keysOf(t, db)
	if len(before) < 10 {
		t.Fatalf("catalog query found only %d keys: %v", len(before), before)
	}
	var rs []partnerfile.Row
	for i := range 2000 {
		rs = append(rs, row(i+2, fmt.Sprintf("b%05d", i), "Premier", program.Facts{Points: i}))
	}
	res, err := s.ImportPartners(ctx, "c1", rows(rs...), "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 2000 || res.Enrolled != 2000 {
		t.Fatalf("first import: %+v", res)
	}
	if after := keysOf(t, db); !slices.Equal(before, after) {
		t.Fatalf("keys changed by a first import:\nbefore %s\nafter  %s", strings.Join(before, "\n       "), strings.Join(after, "\n       "))
	}
	for _, tc := range []struct{ what, sql, code string }{
		{"a partner again", `INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ('b00007', 'X', 'x@x', 'en', 'Premier')`, "23505"},
		{"an enrollment again", `INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('c1', 'b00007', 'w', 'Premier')`, "23505"},
		{"a fact change of nobody", `INSERT INTO partner_fact_changes (partner_id, field, source) VALUES ('nobody', 'points', 'test')`, "23503"},
		{"a tier change of nobody", `INSERT INTO tier_changes (workflow_id, step, campaign_id, partner_id, from_tier, to_tier, outcome, reason, actor)
			VALUES ('w', 's', 'c1', 'nobody', 'a', 'b', 'kept', 'r', 'test')`, "23503"},
		{"an enrollment of nobody", `INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ('c1', 'nobody', 'w', 'Premier')`, "23503"},
	} {
		_, err := db.Pool.Exec(ctx, tc.sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != tc.code {
			t.Errorf("%s: want SQLSTATE %s, got %v", tc.what, tc.code, err)
		}
	}
	// The rebuilt indexes serve lookups.
	var plan string
	if err := db.Pool.QueryRow(ctx, `EXPLAIN (COSTS OFF) SELECT * FROM partners WHERE partner_id = 'b00042'`).Scan(&plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "partners_pkey") {
		t.Errorf("a lookup by partner ID does not use the rebuilt key: %s", plan)
	}
}

// lyingRows claims unique partner IDs but has a duplicate: the rebuilt
// primary key must refuse it, and the failed import must leave every table
// and every key as it was.
type lyingRows struct{ sliceRows }

func (*lyingRows) UniquePartnerIDs() bool { return true }

func TestFirstImportWithADuplicateChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	before := keysOf(t, db)
	rs := []partnerfile.Row{
		row(2, "d1", "Premier", program.Facts{}),
		row(3, "d2", "Premier", program.Facts{}),
		row(4, "d1", "Premier", program.Facts{}),
	}
	_, err := s.ImportPartners(ctx, "c1", &lyingRows{sliceRows{rows: rs}}, "test")
	if err == nil || !strings.Contains(err.Error(), "partners_pkey") {
		t.Fatalf("want the primary key's refusal, got %v", err)
	}
	if n := count(t, db, `SELECT (SELECT count(*) FROM partners) + (SELECT count(*) FROM enrollments) + (SELECT count(*) FROM campaigns)`); n != 0 {
		t.Fatalf("a failed first import left %d rows", n)
	}
	if after := keysOf(t, db); !slices.Equal(before, after) {
		t.Fatalf("keys changed by a failed first import:\nbefore %s\nafter  %s", strings.Join(before, "\n       "), strings.Join(after, "\n       "))
	}
	// Rows that make no such claim are checked on the way in, with lines.
	_, err = s.ImportPartners(ctx, "c1", rows(rs...), "test")
	if err == nil || !strings.Contains(err.Error(), `line 4: duplicate partner ID "d1" (first on line 2)`) {
		t.Fatalf("want the duplicate named with its lines, got %v", err)
	}
}
