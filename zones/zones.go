// Package zones is tiershift's one place for time zones: it loads IANA zone
// names from the zone database compiled into every binary (time/tzdata), so
// a machine without tzdata (a scratch container, Windows) reads deadlines
// the same way, names the zone a partner reads dates in, and finds the zone
// of a country that has only one.
//
// The package has no state and does no I/O of its own: the country table is
// compiled in (zone.tab below), and Load asks the time package, which reads
// the system's zone database when there is one and the embedded copy
// otherwise. Workflows call Load only inside a SideEffect, so a worker whose
// system database differs can never replay a deadline differently.
package zones

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
	// The zone database, embedded so that Load works on every machine.
	_ "time/tzdata"
)

// zoneTab is the tz database's zone.tab (public domain; version in its last
// line), copied from the tzdata package. It is the database's only table
// with exactly one country per row, which is what ForCountry needs:
// zone1970.tab merges the countries whose clocks agreed since 1970, so it
// would give a Norwegian partner "Berlin time". Refresh it with
// cp /usr/share/zoneinfo/zone.tab zones/ when tzdata is upgraded.
//
//go:embed zone.tab
var zoneTab string

// UTC is the zone of a program that names none.
const UTC = "UTC"

// Load returns the location named by an IANA zone name ("Europe/Paris",
// "UTC"). It refuses what time.LoadLocation would accept but that names no
// fixed zone: the empty name and "Local" (the machine's own zone).
func Load(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("time zone is empty; give an IANA name such as Europe/Paris")
	case name == "Local" || strings.ContainsAny(name, " \t\\") || strings.HasPrefix(name, "/") || strings.Contains(name, ".."):
		return nil, fmt.Errorf("%q is not an IANA time zone name (such as Europe/Paris or America/New_York)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name (such as Europe/Paris or America/New_York)", name)
	}
	return loc, nil
}

var (
	countryOnce  sync.Once
	countryZones map[string][]string
)

// zonesOf lists the zones zone.tab gives a country (upper-case ISO code).
func zonesOf(country string) []string {
	countryOnce.Do(func() {
		countryZones = map[string][]string{}
		for _, line := range strings.Split(zoneTab, "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			f := strings.Split(line, "\t")
			if len(f) >= 3 {
				countryZones[f[0]] = append(countryZones[f[0]], f[2])
			}
		}
	})
	return countryZones[strings.ToUpper(country)]
}

// ForCountry returns the zone of a country (ISO 3166-1 alpha-2) that has
// exactly one, FR → Europe/Paris; ok is false for a country with several
// (US, DE with Busingen, ES with the Canaries) or none known.
func ForCountry(country string) (name string, ok bool) {
	zs := zonesOf(country)
	if len(zs) != 1 {
		return "", false
	}
	return zs[0], true
}

// ForPartner is the zone a partner reads its dates in: its own zone when the
// partner file gave one, else its country's when that country has exactly
// one, else the program's (UTC when the program names none).
func ForPartner(partnerZone, country, programZone string) string {
	if partnerZone != "" {
		return partnerZone
	}
	if z, ok := ForCountry(country); ok {
		return z
	}
	if programZone != "" {
		return programZone
	}
	return UTC
}

// City is the place an IANA name is named after, as an email names the
// zone: "Europe/Paris" → "Paris", "America/Argentina/Buenos_Aires" →
// "Buenos Aires". Names without a place (UTC, Etc/GMT+5) return "".
func City(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 || strings.HasPrefix(name, "Etc/") {
		return ""
	}
	return strings.ReplaceAll(name[i+1:], "_", " ")
}
