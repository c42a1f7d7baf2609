package zones

import (
	"strings"
	"testing"
)

func TestForCountry(t *testing.T) {
	for cc, want := range map[string]string{"FR": "Europe/Paris", "fr": "Europe/Paris", "BE": "Europe/Brussels", "JP": "Asia/Tokyo"} {
		if got, ok := ForCountry(cc); !ok || got != want {
			t.Errorf("ForCountry(%s) = %q, %v; want %s", cc, got, ok, want)
		}
	}
	// Several zones: the US (Eastern, Central, …), Germany (Berlin and
	// Busingen), Spain (Madrid, Ceuta, the Canaries). No code, no zone.
	for _, cc := range []string{"US", "DE", "ES", "", "ZZ"} {
		if got, ok := ForCountry(cc); ok {
			t.Errorf("ForCountry(%q) = %q, want none", cc, got)
		}
	}
}

func TestForPartner(t *testing.T) {
	cases := []struct{ partner, country, program, want string }{
		{"America/Chicago", "FR", "Europe/Paris", "America/Chicago"}, // the partner file's column wins
		{"", "FR", "America/New_York", "Europe/Paris"},               // a country with one zone
		{"", "US", "Europe/Paris", "Europe/Paris"},                   // several zones: the program's
		{"", "", "Europe/Paris", "Europe/Paris"},                     // no country: the program's
		{"", "US", "", "UTC"},                                        // a program without a zone
	}
	for _, c := range cases {
		if got := ForPartner(c.partner, c.country, c.program); got != c.want {
			t.Errorf("ForPartner(%q, %q, %q) = %q, want %q", c.partner, c.country, c.program, got, c.want)
		}
	}
}

func TestLoad(t *testing.T) {
	if loc, err := Load("Europe/Paris"); err != nil || loc.String() != "Europe/Paris" {
		t.Errorf("Load(Europe/Paris) = %v, %v", loc, err)
	}
	for _, bad := range []string{"", "Local", "Europe/Pariss", "../etc/passwd", "/usr/share/zoneinfo/UTC", "Europe Paris"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%q) accepted", bad)
		}
	}
}

// TestZoneTabZonesLoad holds the embedded table to the zone database: every
// zone a country can resolve to loads.
func TestZoneTabZonesLoad(t *testing.T) {
	n := 0
	for _, line := range strings.Split(zoneTab, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, "\t")
		if _, err := Load(f[2]); err != nil {
			t.Errorf("zone.tab names %s for %s: %v", f[2], f[0], err)
		}
		n++
	}
	if n < 300 {
		t.Errorf("zone.tab has %d zones; the tz database lists over 400", n)
	}
}

func TestCity(t *testing.T) {
	for name, want := range map[string]string{
		"Europe/Paris": "Paris", "America/New_York": "New York", "America/Argentina/Buenos_Aires": "Buenos Aires",
		"UTC": "", "Etc/GMT+5": "",
	} {
		if got := City(name); got != want {
			t.Errorf("City(%q) = %q, want %q", name, got, want)
		}
	}
}
