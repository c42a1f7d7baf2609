package email

import (
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

// TestLocalesAndKindsHaveOneSource ties the copies together: the locales a
// program file may name (program.SupportedLocales) are exactly the template
// directories, each renders every kind a program may override
// (program.EmailKinds), and the partner file reader accepts each, so a
// locale or kind added in one place and not the others fails here.
func TestLocalesAndKindsHaveOneSource(t *testing.T) {
	dirs, err := fs.ReadDir(templateFS, "templates")
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, d := range dirs {
		have = append(have, d.Name())
	}
	want := slices.Sorted(slices.Values(program.SupportedLocales))
	if !slices.Equal(have, want) {
		t.Errorf("template directories %v, program.SupportedLocales %v", have, want)
	}
	if !slices.Equal(Kinds, kindsOf(program.EmailKinds)) || len(Kinds) == 0 {
		t.Errorf("Kinds %v, program.EmailKinds %v", Kinds, program.EmailKinds)
	}
	for _, loc := range program.SupportedLocales {
		r, err := partnerfile.NewReader(strings.NewReader("partner_id,name,email,locale,tier\np1,Acme,a@acme.example,"+
			strings.ToUpper(loc)+"-ZZ,Gold\n"), "p.csv")
		if err != nil {
			t.Fatal(err)
		}
		if row, err := r.Next(); err != nil || row.Locale != loc {
			t.Errorf("partner file locale %s-ZZ: read as %q, %v; want %s", loc, row.Locale, err, loc)
		}
		for _, name := range program.EmailKinds {
			m, err := Render(Kind(name), loc, sample(Kind(name)), program.Emails{})
			if err != nil || m.Locale != loc {
				t.Errorf("%s/%s: %v (locale %q)", loc, name, err, m.Locale)
			}
		}
	}
}
