package program

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxDurationAmount bounds each number in a duration so that calendar
// arithmetic can never overflow, whatever a program file says.
const maxDurationAmount = 100000

// durationUnits maps every accepted unit spelling to how it is stored.
// Bare "m" is deliberately absent: it is ambiguous between months and
// minutes, and guessing wrong would shift a deadline by orders of magnitude.
var durationUnits = map[string]struct {
	months, days, minutes int
}{
	"month": {months: 1}, "months": {months: 1}, "mo": {months: 1}, "mos": {months: 1},
	"week": {days: 7}, "weeks": {days: 7}, "w": {days: 7}, "wk": {days: 7}, "wks": {days: 7},
	"day": {days: 1}, "days": {days: 1}, "d": {days: 1},
	"hour": {minutes: 60}, "hours": {minutes: 60}, "h": {minutes: 60}, "hr": {minutes: 60}, "hrs": {minutes: 60},
	"minute": {minutes: 1}, "minutes": {minutes: 1}, "min": {minutes: 1}, "mins": {minutes: 1},
}

// ParseDuration reads a human duration such as "6 months", "30d", "2 weeks",
// "10 min" or "1 month 2 days". Program files are written by channel teams,
// so the accepted spellings are generous, but anything ambiguous ("5m") or
// not positive is refused rather than guessed.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	in := strings.ToLower(strings.TrimSpace(s))
	if in == "" {
		return d, fmt.Errorf("duration is empty; write e.g. \"6 months\", \"30 days\" or \"10 minutes\"")
	}
	rest := in
	parts := 0
	for {
		rest = strings.TrimLeft(rest, " \t,")
		rest = strings.TrimPrefix(rest, "and ")
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		neg := false
		if rest[0] == '-' || rest[0] == '+' {
			neg = rest[0] == '-'
			rest = rest[1:]
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Duration{}, fmt.Errorf("duration %q: expected a number before %q", s, rest)
		}
		if i > 9 {
			return Duration{}, fmt.Errorf("duration %q: number %s is too large", s, rest[:i])
		}
		n, _ := strconv.Atoi(rest[:i])
		rest = strings.TrimLeft(rest[i:], " \t")
		j := 0
		for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
			j++
		}
		unit := rest[:j]
		rest = rest[j:]
		if neg || n == 0 {
			return Duration{}, fmt.Errorf("duration %q must be positive", s)
		}
		if n > maxDurationAmount {
			return Duration{}, fmt.Errorf("duration %q: %d is too large (at most %d)", s, n, maxDurationAmount)
		}
		switch unit {
		case "":
			return Duration{}, fmt.Errorf("duration %q: missing unit after %d; use months, weeks, days, hours or minutes", s, n)
		case "m":
			return Duration{}, fmt.Errorf("duration %q: unit \"m\" is ambiguous; use mo for months or min for minutes", s)
		}
		u, ok := durationUnits[unit]
		if !ok {
			return Duration{}, fmt.Errorf("duration %q: unknown unit %q; use months, weeks, days, hours or minutes", s, unit)
		}
		d.Months += n * u.months
		d.Days += n * u.days
		d.Minutes += n * u.minutes
		parts++
		if parts > 8 {
			return Duration{}, fmt.Errorf("duration %q has too many parts", s)
		}
	}
	if d.Months > maxDurationAmount || d.Days > maxDurationAmount || d.Minutes > maxDurationAmount*60 {
		return Duration{}, fmt.Errorf("duration %q is too large", s)
	}
	return d, nil
}

// String writes d the way ParseDuration reads it ("6 months", "1 month 2
// days", "10 minutes"), so a duration can be shown to operators and read back.
func (d Duration) String() string {
	if d.IsZero() {
		return "0 days"
	}
	var b strings.Builder
	add := func(n int, one, many string) {
		if n == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if n < 0 {
			// Not produced by ParseDuration; shown honestly for debugging.
			b.WriteByte('-')
			n = -n
		}
		b.WriteString(strconv.Itoa(n))
		b.WriteByte(' ')
		if n == 1 {
			b.WriteString(one)
		} else {
			b.WriteString(many)
		}
	}
	add(d.Months, "month", "months")
	add(d.Days, "day", "days")
	add(d.Minutes, "minute", "minutes")
	return b.String()
}

// UnmarshalYAML lets a Duration be written as a plain scalar ("9 months") in
// any YAML document, not only in program files read by Load.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be a scalar such as \"6 months\"", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = v
	return nil
}
