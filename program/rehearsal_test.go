package program_test

import (
	"path/filepath"
	"testing"

	"github.com/tiershift/tiershift/internal/exampletest"
	"github.com/tiershift/tiershift/program"
)

// TestRehearsalCoversEveryOutcome evaluates every partner of the rehearsal
// (what `make demo` and the end-to-end test run) with the rules, as at the
// deadline with its facts unchanged, and checks that each outcome is
// reached by at least one partner, for each old tier's transition too: a
// demo that never demotes would never show a demotion email.
func TestRehearsalCoversEveryOutcome(t *testing.T) {
	dir := filepath.Join("..", "examples", "rehearsal")
	p := exampletest.Program(t, filepath.Join(dir, "program.yaml"))
	seen := map[program.Outcome]int{}
	byTier := map[string]map[program.Outcome]bool{}
	for _, row := range exampletest.Partners(t, filepath.Join(dir, "partners.csv")) {
		ev, err := p.Evaluate(row.Tier, row.Facts)
		if err != nil {
			t.Fatalf("%s: %v", row.PartnerID, err)
		}
		seen[ev.Outcome]++
		if byTier[row.Tier] == nil {
			byTier[row.Tier] = map[program.Outcome]bool{}
		}
		byTier[row.Tier][ev.Outcome] = true
	}
	for _, o := range []program.Outcome{program.OutcomePromoted, program.OutcomeKept, program.OutcomeDemoted} {
		if seen[o] == 0 {
			t.Errorf("no rehearsal partner is %s (outcomes: %v)", o, seen)
		}
	}
	for _, tr := range p.Transitions {
		if len(byTier[tr.From]) < 2 {
			t.Errorf("old tier %s: the rehearsal's partners reach only %v; want at least two outcomes", tr.From, byTier[tr.From])
		}
	}
}
