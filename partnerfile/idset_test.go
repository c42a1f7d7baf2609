package partnerfile

import (
	"fmt"
	"testing"
)

func TestIDSetFindsDuplicatesWithTheirFirstLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash func(string) uint64
	}{
		{"maphash", nil},
		// Every ID in one chain: told apart by bytes alone.
		{"all hashes collide", func(string) uint64 { return 7 }},
		// Prefixes and the empty ID share a hash with a longer ID.
		{"hash by length", func(s string) uint64 { return uint64(len(s) / 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := IDSet{hash: tc.hash}
			ids := []string{"P1", "P10", "P100", "", "P", "p1", "P1 ", "Pé", "P\x00"}
			for i, id := range ids {
				if first, dup := s.Add(id, i+2); dup {
					t.Fatalf("%q reported as a duplicate of line %d on first sight", id, first)
				}
			}
			for i, id := range ids {
				first, dup := s.Add(id, 100+i)
				if !dup || first != i+2 {
					t.Fatalf("second %q: got (%d, %v), want (%d, true)", id, first, dup, i+2)
				}
			}
			if s.Len() != len(ids) {
				t.Fatalf("Len = %d, want %d: a duplicate was recorded", s.Len(), len(ids))
			}
		})
	}
}

func TestIDSetAgreesWithAMap(t *testing.T) {
	var s IDSet
	want := map[string]int{}
	for i := range 200_000 {
		id := fmt.Sprintf("VMW-%d", (i*7919)%150_000) // 50,000 IDs come back
		first, dup := s.Add(id, i)
		wantFirst, wantDup := want[id]
		if dup != wantDup || (dup && first != wantFirst) {
			t.Fatalf("row %d, %q: got (%d, %v), want (%d, %v)", i, id, first, dup, wantFirst, wantDup)
		}
		if !wantDup {
			want[id] = i
		}
	}
	if s.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", s.Len(), len(want))
	}
}

func BenchmarkIDSet(b *testing.B) {
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("P%d", i+1)
	}
	b.Run("IDSet", func(b *testing.B) {
		for b.Loop() {
			var s IDSet
			for i, id := range ids {
				s.Add(id, i)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			m := map[string]int{}
			for i, id := range ids {
				if _, dup := m[id]; !dup {
					m[id] = i
				}
			}
		}
	})
}
