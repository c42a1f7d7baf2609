package program

import "testing"

// BenchmarkEvaluate measures one partner's evaluation, which the workflow
// runs at every facts change and `starter plan` once per partner: a
// partner that meets its expected tier, and one that misses items of it and
// falls to a lower tier (the costlier path: every requirement is checked and
// described). Compare changes with benchstat:
//
//	go test -run '^$' -bench Evaluate -count 10 ./program/ > new.txt
func BenchmarkEvaluate(b *testing.B) {
	p := loadExample(b, "vmware-2009")
	cases := []struct {
		name    string
		facts   Facts
		outcome Outcome
	}{
		{"kept", Facts{Certifications: certs("VTSP", 2), Competencies: []string{"Infrastructure Virtualization"}, Revenue: 1000000}, OutcomeKept},
		{"demoted", Facts{Certifications: certs("VTSP", 1)}, OutcomeDemoted},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ev, err := p.Evaluate("Enterprise", c.facts)
				if err != nil {
					b.Fatal(err)
				}
				if ev.Outcome != c.outcome {
					b.Fatalf("outcome %s, want %s", ev.Outcome, c.outcome)
				}
			}
		})
	}
}
