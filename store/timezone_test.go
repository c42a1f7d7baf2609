package store_test

import (
	"context"
	"testing"

	"github.com/tiershift/tiershift/program"
)

// TestImportStoresTimeZone: the partner file's timezone column is stored on
// a first import (into an empty table) and on a later one (through the
// comparison), where a changed zone is a contact change, not a fact change.
func TestImportStoresTimeZone(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	first := baseRows()
	first[0].TimeZone = "Europe/Paris"
	if _, err := s.ImportPartners(ctx, "c1", rows(first...), "import:a.csv"); err != nil {
		t.Fatal(err)
	}
	p1, err := s.LoadPartner(ctx, "p1")
	if err != nil || p1.TimeZone != "Europe/Paris" {
		t.Fatalf("p1 after the first import: zone %q, %v", p1.TimeZone, err)
	}
	p2, err := s.LoadPartner(ctx, "p2")
	if err != nil || p2.TimeZone != "" {
		t.Fatalf("p2 without a zone: %q, %v", p2.TimeZone, err)
	}

	second := baseRows()
	second[0].TimeZone = "Europe/Paris"
	second[1].TimeZone = "America/Chicago"
	second = append(second, row(5, "p4", "Premier", program.Facts{}))
	second[3].TimeZone = "Asia/Tokyo"
	res, err := s.ImportPartners(ctx, "c1", rows(second...), "import:b.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Inserted != 1 || res.Updated != 1 || res.FactsChanged != 0 {
		t.Fatalf("second import: %+v; want p4 new and p2 updated", res)
	}
	for id, want := range map[string]string{"p1": "Europe/Paris", "p2": "America/Chicago", "p3": "", "p4": "Asia/Tokyo"} {
		if p, err := s.LoadPartner(ctx, id); err != nil || p.TimeZone != want {
			t.Errorf("%s: zone %q (%v), want %q", id, p.TimeZone, err, want)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes`); n != 0 {
		t.Errorf("a zone change wrote %d fact changes", n)
	}
}
