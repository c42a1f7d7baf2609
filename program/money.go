package program

import (
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxMoneyDigits bounds the whole part of an amount (up to 10^15 units) so the
// amount in cents always fits in an int64.
const maxMoneyDigits = 15

// ParseMoney reads an amount as vendors and spreadsheets write it and returns
// it in cents. Partner files come from English and French Excel alike, so the
// rules are chosen to be unambiguous for money, which never has more than two
// decimals:
//
//   - An optional currency marker ($, €, USD, EUR, case-insensitive) may come
//     before or after the number. A minus sign is refused: amounts are never
//     negative.
//   - Spaces, no-break spaces (U+00A0) and narrow no-break spaces (U+202F)
//     are thousands separators ("10 000", "1 000 000").
//   - When both '.' and ',' appear, the last one is the decimal separator and
//     the other the thousands separator ("1,000,000.50", "1.000.000,50").
//   - When only one kind appears: if it appears more than once, or is
//     followed by exactly three digits, it separates thousands ("10,000",
//     "10.000", "1.000.000"); otherwise it is the decimal separator and must
//     be followed by one or two digits ("10000.5", "10 000,50").
//   - Thousands groups must have exactly three digits after the first group.
func ParseMoney(s string) (Money, error) {
	if m, ok := plainMoney(s); ok {
		return m, nil
	}
	return parseNumber(s, true)
}

// maxPoints keeps points inside the 32-bit column they are stored in.
const maxPoints = 999_999_999

// ParsePoints reads a number of points with the grammar of ParseMoney (so
// "1 000", "1,000" and "1.000" are a thousand, as "10 000" is ten thousand
// of revenue) minus the currency, and refuses decimals: partner files state
// revenue and points in one number grammar.
func ParsePoints(s string) (int, error) {
	if n, ok := plainPoints(s); ok {
		return n, nil
	}
	m, err := parseNumber(s, false)
	if err != nil {
		return 0, err
	}
	if m%100 != 0 {
		return 0, fmt.Errorf("number %q must be a whole number", s)
	}
	if m/100 > maxPoints {
		return 0, fmt.Errorf("number %q is too large (at most %d)", s, maxPoints)
	}
	return int(m / 100), nil
}

// plainPoints is the fast path for plain digits.
func plainPoints(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseNumber is ParseMoney's grammar; currency says whether a currency
// marker is allowed. Error messages call the value an amount when it is
// money and a number otherwise.
func parseNumber(s string, currency bool) (Money, error) {
	what := "number"
	if currency {
		what = "amount"
	}
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("%s is empty", what)
	}
	if currency {
		in = stripCurrency(in)
	}
	if strings.HasPrefix(in, "-") || strings.HasSuffix(in, "-") || strings.HasPrefix(in, "−") {
		return 0, fmt.Errorf("%s %q must not be negative", what, s)
	}
	in = strings.TrimPrefix(in, "+")
	// Normalise every space-like thousands separator to ' '.
	in = strings.Map(func(r rune) rune {
		switch r {
		case '\u00a0', '\u202f', '\u2009', '\t':
			return ' '
		}
		return r
	}, in)
	in = strings.TrimSpace(in)
	if in == "" {
		return 0, fmt.Errorf("%s %q has no digits", what, s)
	}
	for _, r := range in {
		if !(r >= '0' && r <= '9') && r != ' ' && r != '.' && r != ',' {
			return 0, fmt.Errorf("%s %q: unexpected character %q; write e.g. %s", what, s, r, examples(currency))
		}
	}

	lastDot, lastComma := strings.LastIndexByte(in, '.'), strings.LastIndexByte(in, ',')
	dec := -1 // index of the decimal separator, if any
	var thousands byte
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastDot > lastComma {
			dec, thousands = lastDot, ','
		} else {
			dec, thousands = lastComma, '.'
		}
	case lastDot >= 0 || lastComma >= 0:
		sep := byte('.')
		idx := lastDot
		if lastComma >= 0 {
			sep, idx = ',', lastComma
		}
		if strings.Count(in, string(sep)) > 1 || len(in)-idx-1 == 3 {
			thousands = sep
		} else {
			dec = idx
		}
	}
	whole, frac := in, ""
	if dec >= 0 {
		whole, frac = in[:dec], in[dec+1:]
		if len(frac) == 0 || len(frac) > 2 || strings.ContainsAny(frac, " .,") {
			return 0, fmt.Errorf("%s %q: decimals must be one or two digits after the decimal separator", what, s)
		}
	}
	digits, err := groupedDigits(whole, thousands)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", what, s, err)
	}
	if len(digits) > maxMoneyDigits {
		return 0, fmt.Errorf("%s %q is too large", what, s)
	}
	units, _ := strconv.ParseInt(digits, 10, 64)
	cents := int64(0)
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		cents, _ = strconv.ParseInt(frac, 10, 64)
	}
	return Money(units*100 + cents), nil
}

// examples shows the accepted forms in an error message.
func examples(currency bool) string {
	if currency {
		return "10000, 10 000,50 or 10,000.50"
	}
	return "1000, 1 000 or 1,000"
}

// plainMoney is the fast path for the common "1234" and "1234.5[0]".
func plainMoney(s string) (Money, bool) {
	var units, cents int64
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		units = units*10 + int64(s[i]-'0')
		i++
	}
	if i == 0 || i > maxMoneyDigits {
		return 0, false
	}
	if i < len(s) {
		frac := s[i:]
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 3 {
			return 0, false
		}
		for j := 1; j < len(frac); j++ {
			c := frac[j]
			if c < '0' || c > '9' {
				return 0, false
			}
			cents = cents*10 + int64(c-'0')
		}
		if len(frac) == 2 {
			cents *= 10
		}
	}
	return Money(units*100 + cents), true
}

// groupedDigits checks the thousands grouping of the whole part and returns
// its bare digits. Spaces and the thousands separator may be used, each group
// after the first being exactly three digits.
func groupedDigits(whole string, thousands byte) (string, error) {
	if whole == "" {
		return "", fmt.Errorf("no digits before the decimal separator")
	}
	groups := strings.FieldsFunc(whole, func(r rune) bool {
		return r == ' ' || (thousands != 0 && r == rune(thousands))
	})
	// Every separator must sit between two groups: no "10,,000" or "1 ,000".
	seps := 0
	for i := 0; i < len(whole); i++ {
		c := whole[i]
		if c == ' ' || (thousands != 0 && c == thousands) {
			if i == 0 || i == len(whole)-1 {
				return "", fmt.Errorf("misplaced thousands separator")
			}
			prev, next := whole[i-1], whole[i+1]
			if prev < '0' || prev > '9' || next < '0' || next > '9' {
				return "", fmt.Errorf("misplaced thousands separator")
			}
			seps++
		} else if c < '0' || c > '9' {
			return "", fmt.Errorf("unexpected %q in the whole part", c)
		}
	}
	if seps != len(groups)-1 {
		return "", fmt.Errorf("misplaced thousands separator")
	}
	if len(groups) > 1 && groups[0][0] == '0' {
		return "", fmt.Errorf("a grouped amount cannot start with 0")
	}
	for i, g := range groups {
		if (i == 0 && len(g) > 3 && len(groups) > 1) || (i > 0 && len(g) != 3) {
			return "", fmt.Errorf("thousands groups must have three digits")
		}
	}
	return strings.Join(groups, ""), nil
}

// stripCurrency removes one currency marker at either end of s.
func stripCurrency(s string) string {
	for _, c := range []string{"US$", "$", "€", "USD", "EUR"} {
		if len(s) >= len(c) && strings.EqualFold(s[:len(c)], c) {
			return strings.TrimSpace(s[len(c):])
		}
		if len(s) >= len(c) && strings.EqualFold(s[len(s)-len(c):], c) {
			return strings.TrimSpace(s[:len(s)-len(c)])
		}
	}
	return s
}

// String writes m plainly, "10000" or "10000.50", without separators or
// currency, so it reads back with ParseMoney in any locale.
func (m Money) String() string {
	neg := m < 0
	v := int64(m)
	if neg {
		v = -v
	}
	var buf [24]byte
	b := buf[:0]
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, v/100, 10)
	if c := v % 100; c != 0 {
		b = append(b, '.', byte('0'+c/10), byte('0'+c%10))
	}
	return string(b)
}

// UnmarshalYAML lets Money be written as a YAML number or string ("10 000").
func (m *Money) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: an amount must be a scalar such as 10000", n.Line)
	}
	v, err := ParseMoney(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*m = v
	return nil
}
