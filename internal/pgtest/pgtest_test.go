package pgtest

import (
	"context"
	"testing"
)

func TestNewGivesAMigratedIsolatedSchema(t *testing.T) {
	a, b := New(t), New(t)
	a.Exec(t, `INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ('p1','A','a@example.com','en','Gold')`)
	var n int
	if err := b.Pool.QueryRow(context.Background(), `SELECT count(*) FROM partners`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("schema %s sees %d partners written to %s", b.Schema, n, a.Schema)
	}
	if err := a.Pool.QueryRow(context.Background(), `SELECT count(*) FROM partners`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("count in own schema = %d, %v; want 1", n, err)
	}
}
