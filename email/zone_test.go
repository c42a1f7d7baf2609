package email

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
)

// TestFormatDateIn checks dates written in the partner's zone, each local
// time worked out by hand: Paris is UTC+2 and New York UTC−4 on 14 October
// 2026 (summer time in both); London is UTC+0 and Paris UTC+1 on 14 January.
func TestFormatDateIn(t *testing.T) {
	oct := time.Date(2026, 10, 14, 21, 59, 59, 0, time.UTC)
	jan := time.Date(2027, 1, 14, 22, 59, 59, 0, time.UTC)
	cases := []struct {
		t          time.Time
		locale, tz string
		want       string
	}{
		{oct, "en", "Europe/Paris", "October 14, 2026 at 23:59 Paris time"},
		{oct, "fr", "Europe/Paris", "14\u00a0octobre 2026 à 23\u00a0h\u00a059, heure de Paris"},
		{oct, "fr-CA", "Europe/Paris", "14\u00a0octobre 2026 à 23\u00a0h\u00a059, heure de Paris"},
		{jan, "fr", "Europe/Paris", "14\u00a0janvier 2027 à 23\u00a0h\u00a059, heure de Paris"},
		// 21:59:59Z is 17:59:59 in New York (EDT).
		{oct, "en", "America/New_York", "October 14, 2026 at 17:59 New York time"},
		{oct, "fr", "America/New_York", "14\u00a0octobre 2026 à 17\u00a0h\u00a059, heure de New York"},
		// 22:59:59Z on 14 January is 22:59 in London (GMT).
		{jan, "en", "Europe/London", "January 14, 2027 at 22:59 London time"},
		{jan, "fr", "Europe/London", "14\u00a0janvier 2027 à 22\u00a0h\u00a059, heure de Londres"},
		{jan, "fr", "Europe/Amsterdam", "14\u00a0janvier 2027 à 23\u00a0h\u00a059, heure d’Amsterdam"},
		// Cairo is UTC+2 in January: 00:59 on the 15th.
		{jan, "fr", "Africa/Cairo", "15\u00a0janvier 2027 à 0\u00a0h\u00a059, heure du Caire"},
		{oct, "en", "UTC", "October 14, 2026 at 21:59 UTC"},
		{oct, "fr", "UTC", "14\u00a0octobre 2026 à 21\u00a0h\u00a059 UTC"},
		// Etc/GMT+5 is UTC−5 (POSIX signs are inverted).
		{oct, "en", "Etc/GMT+5", "October 14, 2026 at 16:59 UTC−05:00"},
		// No zone: the UTC text of transitions begun before zones.
		{oct, "en", "", "October 14, 2026 at 21:59 UTC"},
	}
	for _, c := range cases {
		if got := FormatDateIn(c.t, c.locale, c.tz); got != c.want {
			t.Errorf("FormatDateIn(%s, %s, %q) = %q, want %q", c.t, c.locale, c.tz, got, c.want)
		}
	}
}

// TestEveryDateNamesTheZone renders every kind in every locale for a
// partner in Paris: wherever the email shows a date, it is Paris time and
// says so, in the subject, the text and the HTML, never UTC.
func TestEveryDateNamesTheZone(t *testing.T) {
	phrase := map[string]string{"en": "Paris time", "fr": "heure de Paris"}
	for _, loc := range Locales {
		for _, kind := range Kinds {
			d := sample(kind)
			d.TimeZone = "Europe/Paris"
			m, err := Render(kind, loc, d, program.Emails{})
			if err != nil {
				t.Fatal(err)
			}
			year := d.Deadline.Format("2006")
			shown := false
			for part, s := range map[string]string{"subject": m.Subject, "text": m.Text, "html": html.UnescapeString(m.HTML)} {
				if !strings.Contains(s, year) {
					continue
				}
				shown = true
				if strings.Count(s, year) > strings.Count(s, phrase[loc]) || strings.Contains(s, "UTC") {
					t.Errorf("%s/%s %s: a date without %q:\n%s", loc, kind, part, phrase[loc], s)
				}
			}
			if !shown {
				t.Errorf("%s/%s shows no date", loc, kind)
			}
		}
	}
}
