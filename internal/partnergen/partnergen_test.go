package partnergen_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/tiershift/tiershift/internal/partnergen"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

func loadProgram(t *testing.T, name string) *program.Program {
	t.Helper()
	p, err := partnergen.LoadProgram(filepath.Join("..", "..", "examples", name, "program.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Every generated row must read cleanly and be valid for its program: the
// benchmarks that import or plan these files would otherwise measure the
// error path.
func TestWriteIsValidForEveryExample(t *testing.T) {
	for _, name := range []string{"vmware-2009", "puppet-2022", "redhat-pex", "microsoft-2004", "rehearsal"} {
		t.Run(name, func(t *testing.T) {
			p := loadProgram(t, name)
			var buf bytes.Buffer
			if err := partnergen.Write(&buf, p, 500, 1); err != nil {
				t.Fatal(err)
			}
			rd, err := partnerfile.NewReader(&buf, name+".csv")
			if err != nil {
				t.Fatal(err)
			}
			rd.CheckWith(p)
			outcomes := map[program.Outcome]int{}
			tracks := map[string]int{}
			tps := p.TrackPrograms()
			n := 0
			for {
				row, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("row %d: %v", n+1, err)
				}
				evs, err := program.EvaluateTracks(nil, tps, row.Tier, row.Tracks, row.Facts)
				if err != nil || len(evs) == 0 {
					t.Fatalf("row %d: %d evaluations, %v", n+1, len(evs), err)
				}
				for _, ev := range evs {
					outcomes[ev.Outcome]++
					tracks[ev.Track]++
				}
				n++
			}
			if n != 500 {
				t.Fatalf("read %d rows, want 500", n)
			}
			if outcomes[program.OutcomeDemoted] == 0 || outcomes[program.OutcomeDemoted] == n {
				t.Errorf("outcomes %v: want a mix that includes demotions", outcomes)
			}
			for _, tr := range p.TrackNames() {
				if tracks[tr] == 0 {
					t.Errorf("no partner holds a level in track %q: %v", tr, tracks)
				}
			}
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	p := loadProgram(t, "vmware-2009")
	gen := func(seed uint64) []byte {
		var buf bytes.Buffer
		if err := partnergen.Write(&buf, p, 200, seed); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(gen(3), gen(3)) {
		t.Error("the same seed gave two different files")
	}
	if bytes.Equal(gen(3), gen(4)) {
		t.Error("two seeds gave the same file")
	}
}

func TestWriteRejectsANegativeCount(t *testing.T) {
	if err := partnergen.Write(io.Discard, loadProgram(t, "vmware-2009"), -1, 1); err == nil {
		t.Fatal("n = -1 was accepted")
	}
}
