package email

import (
	"strings"
	"testing"

	"github.com/tiershift/tiershift/program"
)

// BenchmarkRender measures rendering one email (subject, text and HTML) with
// the built-in templates, as the mailer does once per message: at a deadline
// wave, once per partner. Compare changes with benchstat:
//
//	go test -run '^$' -bench Render -count 10 ./email/ > new.txt
func BenchmarkRender(b *testing.B) {
	for _, kind := range []Kind{KindReminder, KindOutcome} {
		for _, loc := range Locales {
			b.Run(string(kind)+"/"+loc, func(b *testing.B) {
				d := sample(kind)
				b.ReportAllocs()
				for b.Loop() {
					m, err := Render(kind, loc, d, program.Emails{})
					if err != nil {
						b.Fatal(err)
					}
					if !strings.Contains(m.Text, "VTSP") {
						b.Fatalf("%s/%s: the text does not list what is missing:\n%s", kind, loc, m.Text)
					}
				}
			})
		}
	}
}
