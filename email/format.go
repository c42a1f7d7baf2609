package email

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tiershift/tiershift/program"
)

// Typography. French puts a no-break space before ":" and inside « »,
// and groups thousands with a no-break space; a plain space could wrap the
// colon or the currency onto its own line.
const (
	nbsp = "\u00a0"
)

var monthsFR = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// FormatDate writes t (in UTC) the way a partner reading locale expects:
// "October 14, 2009" and "14 octobre 2009" ("1er" on the first). When t is
// not midnight UTC — rehearsal campaigns count in minutes — the time is
// added: "October 14, 2009 at 15:04 UTC", "14 octobre 2009 à 15 h 04 UTC".
func FormatDate(t time.Time, locale string) string {
	t = t.UTC()
	midnight := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0
	switch baseLocale(locale) {
	case "fr":
		s := dateFR(t)
		if !midnight {
			s += fmt.Sprintf(" à %d"+nbsp+"h"+nbsp+"%02d UTC", t.Hour(), t.Minute())
		}
		return s
	default:
		s := t.Format("January 2, 2006")
		if !midnight {
			s += t.Format(" at 15:04 UTC")
		}
		return s
	}
}

// FormatTimeLeft says how long remains from now until deadline, in whole
// days when at least one day is left ("3 days", "1 jour"), else in hours or
// minutes, rounded up so "0 days" never appears while time remains.
func FormatTimeLeft(now, deadline time.Time, locale string) string {
	n, u := timeLeft(now, deadline)
	return u.format(n, locale)
}

// FormatOnlyLeft is the time left as the start of a reminder's subject:
// "Only 3 days left" / "Plus que 3 jours". French elides "que" before "un"
// and "une" ("Plus qu’une minute", "Plus qu’un jour"), and writes one as a
// word, as the subject is read, not computed with.
func FormatOnlyLeft(now, deadline time.Time, locale string) string {
	n, u := timeLeft(now, deadline)
	if baseLocale(locale) != "fr" {
		return "Only " + u.format(n, locale) + " left"
	}
	if n == 1 {
		if u.feminine {
			return "Plus qu’une " + u.frS
		}
		return "Plus qu’un " + u.frS
	}
	return "Plus que " + u.format(n, locale)
}

// timeUnit names a unit of time left in both languages.
type timeUnit struct {
	en, enPl, frS, frPl string
	feminine            bool // French gender, for "une heure", "un jour"
}

var (
	unitDay    = timeUnit{"day", "days", "jour", "jours", false}
	unitHour   = timeUnit{"hour", "hours", "heure", "heures", true}
	unitMinute = timeUnit{"minute", "minutes", "minute", "minutes", true}
)

func (u timeUnit) format(n int64, locale string) string {
	fr := baseLocale(locale) == "fr"
	switch {
	case fr && n > 1:
		return strconv.FormatInt(n, 10) + nbsp + u.frPl
	case fr:
		return strconv.FormatInt(n, 10) + nbsp + u.frS
	case n == 1:
		return "1 " + u.en
	default:
		return strconv.FormatInt(n, 10) + " " + u.enPl
	}
}

// timeLeft is the time from now to deadline in the largest whole unit,
// rounded up.
func timeLeft(now, deadline time.Time) (int64, timeUnit) {
	d := deadline.Sub(now)
	if d < 0 {
		d = 0
	}
	switch {
	case d >= 24*time.Hour:
		return int64(math.Ceil(d.Hours() / 24)), unitDay
	case d >= time.Hour:
		return int64(math.Ceil(d.Hours())), unitHour
	default:
		return int64(math.Ceil(d.Minutes())), unitMinute
	}
}

// DaysLeft is the number of started days between now and deadline (0 when past).
func DaysLeft(now, deadline time.Time) int {
	d := deadline.Sub(now)
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Hours() / 24))
}

// FormatInt groups thousands the locale's way: "10,000" / "10 000".
func FormatInt(n int64, locale string) string {
	sep := ","
	if baseLocale(locale) == "fr" {
		sep = nbsp
	}
	neg := n < 0
	if neg {
		n = -n
	}
	digits := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// FormatMoney writes an amount in cents in currency (an ISO code) for
// locale: en "$10,000", "€2,500.50", "10,000 CHF"; fr "10 000 $",
// "2 500,50 €", "10 000 CHF". Cents are shown only when not zero.
func FormatMoney(cents program.Money, currency, locale string) string {
	c := int64(cents)
	neg := c < 0
	if neg {
		c = -c
	}
	fr := baseLocale(locale) == "fr"
	num := FormatInt(c/100, locale)
	if rest := c % 100; rest != 0 {
		dec := "."
		if fr {
			dec = ","
		}
		num += fmt.Sprintf("%s%02d", dec, rest)
	}
	if neg {
		num = "-" + num
	}
	code := strings.ToUpper(strings.TrimSpace(currency))
	sym, known := currencySymbols[code]
	switch {
	case code == "":
		return num
	case fr && known:
		return num + nbsp + sym
	case fr:
		return num + nbsp + code
	case known:
		if neg {
			return "-" + sym + num[1:]
		}
		return sym + num
	default:
		return num + " " + code
	}
}

// DescribeMissing spells out one missing item in locale, e.g.
// "2 VTSP certifications: you have 1" or "2 certifications VTSP : vous en avez 1".
// currency is the program's ISO currency code, for revenue items.
func DescribeMissing(m program.Missing, currency, locale string) string {
	if baseLocale(locale) == "fr" {
		return describeFR(m, currency)
	}
	return describeEN(m, currency)
}

func describeEN(m program.Missing, currency string) string {
	have := func(n string) string { return "you have " + n }
	switch m.Kind {
	case program.MissingCertification:
		noun := "certifications"
		if m.Need == 1 {
			noun = "certification"
		}
		h := strconv.FormatInt(m.Have, 10)
		if m.Have == 0 {
			h = "none"
		}
		return fmt.Sprintf("%s %s %s: %s", FormatInt(m.Need, "en"), m.Name, noun, have(h))
	case program.MissingCompetency:
		return fmt.Sprintf("the %s competency", m.Name)
	case program.MissingModule:
		return fmt.Sprintf("the %s training module", m.Name)
	case program.MissingRevenue:
		return fmt.Sprintf("%s in revenue: %s", FormatMoney(program.Money(m.Need), currency, "en"), have(FormatMoney(program.Money(m.Have), currency, "en")))
	case program.MissingPoints:
		return fmt.Sprintf("%s points: %s", FormatInt(m.Need, "en"), have(FormatInt(m.Have, "en")))
	case program.MissingChoice:
		return fmt.Sprintf("%d of: %s (you have %d)", m.Need, strings.Join(m.Options, ", "), m.Have)
	default:
		return strings.TrimSpace(fmt.Sprintf("%s %s (%d of %d)", m.Kind, m.Name, m.Have, m.Need))
	}
}

func describeFR(m program.Missing, currency string) string {
	colon := nbsp + ": "
	switch m.Kind {
	case program.MissingCertification:
		noun := "certifications"
		if m.Need == 1 {
			noun = "certification"
		}
		h := "vous en avez " + strconv.FormatInt(m.Have, 10)
		if m.Have == 0 {
			h = "vous n’en avez aucune"
		}
		return FormatInt(m.Need, "fr") + nbsp + noun + " " + m.Name + colon + h
	case program.MissingCompetency:
		return "la compétence " + m.Name
	case program.MissingModule:
		return "le module de formation " + m.Name
	case program.MissingRevenue:
		return FormatMoney(program.Money(m.Need), currency, "fr") + " de chiffre d’affaires" + colon +
			"vous en avez " + FormatMoney(program.Money(m.Have), currency, "fr")
	case program.MissingPoints:
		return FormatInt(m.Need, "fr") + nbsp + "points" + colon + "vous en avez " + FormatInt(m.Have, "fr")
	case program.MissingChoice:
		return fmt.Sprintf("%d parmi"+colon+"%s (vous en avez %d)", m.Need, strings.Join(m.Options, ", "), m.Have)
	default:
		return strings.TrimSpace(fmt.Sprintf("%s %s (%d sur %d)", m.Kind, m.Name, m.Have, m.Need))
	}
}
