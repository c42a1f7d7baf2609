package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tiershift/tiershift/internal/pgtest"
)

// TestCompletionCheckDoesNotReadFinishedEnrollments guards the cost of
// completeIfDone, which runs at the end of every transition: it must find an
// unfinished transition without reading the campaign's finished ones, or a
// deadline wave costs PostgreSQL O(partners²) (migration 011). The campaign
// below has 3,000 finished enrollments and one unfinished, the last in
// partner order, so a scan of the campaign reads every page of the table; the
// check must read a handful.
func TestCompletionCheckDoesNotReadFinishedEnrollments(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	const finished = 3000
	setup := []string{
		`INSERT INTO campaigns (campaign_id, state) VALUES ('c', 'running')`,
		`INSERT INTO partners (partner_id, name, email, locale, tier)
		 SELECT 'p' || lpad(i::text, 5, '0'), 'n', 'p@example.com', 'en', 'Gold' FROM generate_series(1, 3001) i`,
		`INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier, stage)
		 SELECT 'c', partner_id, 'transition/c/' || partner_id, 'Gold',
		        CASE WHEN partner_id = 'p03001' THEN 'notified' ELSE 'done' END
		 FROM partners ORDER BY partner_id`,
		`ANALYZE enrollments`,
	}
	for _, q := range setup {
		if _, err := db.Pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var pages int
	if err := db.Pool.QueryRow(ctx, `SELECT pg_relation_size('enrollments') / current_setting('block_size')::int`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages < 40 {
		t.Fatalf("the premise: %d finished enrollments take %d pages, want at least 40", finished, pages)
	}

	read, plan := completionCheckBuffers(ctx, t, db)
	if read > 12 {
		t.Errorf("the completion check read %d buffers of a campaign whose enrollments take %d pages: it walks the finished enrollments; its plan:\n%s", read, pages, plan)
	}

	// Finishing the last one completes the campaign, through the same query.
	if _, err := db.Pool.Exec(ctx, `UPDATE enrollments SET stage = 'done' WHERE partner_id = 'p03001'`); err != nil {
		t.Fatal(err)
	}
	s := New(db.Pool)
	if completed, err := s.CompleteCampaignIfDone(ctx, "c"); err != nil || !completed {
		t.Fatalf("last transition done: completed %v, %v", completed, err)
	}
}

// completionCheckBuffers runs completeIfDone for campaign c under EXPLAIN
// ANALYZE, in a transaction it rolls back, and returns the buffers it read
// or found in cache, with the plan as EXPLAIN gave it.
func completionCheckBuffers(ctx context.Context, t *testing.T, db *pgtest.DB) (buffers int, plan []byte) {
	t.Helper()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var out []byte
	if err := tx.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+completeIfDone, "c").Scan(&out); err != nil {
		t.Fatalf("explain completeIfDone: %v", err)
	}
	var plans []struct {
		Plan struct {
			Hit  int `json:"Shared Hit Blocks"`
			Read int `json:"Shared Read Blocks"`
		}
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("explain output %s: %v", out, err)
	}
	return plans[0].Plan.Hit + plans[0].Plan.Read, out
}
