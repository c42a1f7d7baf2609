package email

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tiershift/tiershift/zones"
)

// citiesFR are the French names of the zone cities whose French name is
// not the English one (CLDR's exemplar cities, which golang.org/x/text does
// not carry). A city not listed keeps the name of its IANA zone.
var citiesFR = map[string]string{
	"London": "Londres", "Brussels": "Bruxelles", "Warsaw": "Varsovie", "Moscow": "Moscou",
	"Lisbon": "Lisbonne", "Vienna": "Vienne", "Copenhagen": "Copenhague", "Athens": "Athènes",
	"Bucharest": "Bucarest", "Andorra": "Andorre", "Malta": "Malte", "Kyiv": "Kiev",
	"Mexico City": "Mexico", "Sao Paulo": "São Paulo", "Havana": "La Havane", "Bogota": "Bogota",
	"Singapore": "Singapour", "Kolkata": "Calcutta", "Dubai": "Dubaï", "Riyadh": "Riyad",
	"Tehran": "Téhéran", "Jerusalem": "Jérusalem", "Seoul": "Séoul", "Manila": "Manille",
	"Algiers": "Alger", "Cairo": "Le Caire", "Beirut": "Beyrouth", "Tripoli": "Tripoli",
}

// FormatDateIn writes t as the partner reads it in the IANA zone named
// zone, naming the zone: "October 14, 2026 at 23:59 Paris time",
// "14 octobre 2026 à 23 h 59, heure de Paris". A zone without a city (UTC,
// Etc/…) is named by its offset: "at 23:59 UTC", "à 23 h 59 UTC−05:00".
// The time is always shown, since the date alone would not say which day
// ends where. An empty zone writes FormatDate's UTC text, as emails did
// before zones.
func FormatDateIn(t time.Time, locale, zone string) string {
	if zone == "" {
		return FormatDate(t, locale)
	}
	loc, err := zones.Load(zone)
	if err != nil {
		// Zones are checked where they enter (program and partner files);
		// a zone the database lost still gets a true, named time.
		loc, zone = time.UTC, zones.UTC
	}
	lt := t.In(loc)
	city := zones.City(zone)
	label := "UTC"
	if _, off := lt.Zone(); off != 0 {
		label += strings.Replace(lt.Format("-07:00"), "-", "−", 1)
	}
	if baseLocale(locale) == "fr" {
		s := dateFR(lt) + fmt.Sprintf(" à %d"+nbsp+"h"+nbsp+"%02d", lt.Hour(), lt.Minute())
		if city == "" {
			return s + " " + label
		}
		return s + ", heure " + ofCityFR(city)
	}
	s := lt.Format("January 2, 2006 at 15:04")
	if city == "" {
		return s + " " + label
	}
	return s + " " + city + " time"
}

// dateFR is "14 octobre 2026", "1er octobre 2026", in t's own zone.
func dateFR(t time.Time) string {
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + nbsp + monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// ofCityFR is "de Paris", "d’Amsterdam", "du Caire", "de La Havane": the
// French name of the city after "heure", with elision before a vowel and
// "le" contracted.
func ofCityFR(city string) string {
	if fr, ok := citiesFR[city]; ok {
		city = fr
	}
	if rest, ok := strings.CutPrefix(city, "Le "); ok {
		return "du " + rest
	}
	if strings.ContainsRune("AEIOUÂÉÈÊÎÔÛ", []rune(city)[0]) {
		return "d’" + city
	}
	return "de " + city
}
