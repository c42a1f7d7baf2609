package partnerfile

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/program"
)

// MaxFieldLen is the longest value each column accepts, in bytes of UTF-8
// once surrounding spaces are trimmed: room for any real value, and a bound
// on what reaches memory, the database, terminals and emails. A column not
// listed (one added later) gets DefaultMaxFieldLen. Every column, listed or
// not, gets the same character hygiene (checkFields), so a new column is
// checked without code of its own.
var MaxFieldLen = map[string]int{
	ColPartnerID:      ids.MaxPartnerLen,
	ColName:           200,
	ColEmail:          program.MaxEmailLen,
	ColLocale:         35, // a BCP 47 tag such as fr-CA, with room to spare
	ColCountry:        8,  // room for "FRA" to get the message that names the rule
	ColTier:           100,
	ColRevenue:        40,
	ColPoints:         20,
	ColCertifications: 4000,
	ColCompetencies:   4000,
	ColModules:        4000,
}

// DefaultMaxFieldLen bounds a column MaxFieldLen does not list.
const DefaultMaxFieldLen = 1000

func maxFieldLen(column string) int {
	if n, ok := MaxFieldLen[column]; ok {
		return n
	}
	return DefaultMaxFieldLen
}

// checkFields trims every field of the record in place and checks it: no
// longer than its column allows, and only characters a single-line text
// field may hold. It reports whether all were fine; problems go to rd.errs.
func (rd *Reader) checkFields(rec []string) bool {
	ok := true
	for i, f := range rec {
		f = strings.TrimSpace(f)
		rec[i] = f
		if msg := checkField(f, rd.maxLen[i]); msg != "" {
			rd.failAt(i, "%s", msg)
			ok = false
		}
	}
	return ok
}

// checkField returns why s cannot be a field's value, or "". Every field is
// one line of text: no control characters (C0, DEL, C1: NUL, tab, line
// breaks, ESC...), no Unicode line or paragraph separators, no
// bidirectional-text controls (they reorder what a terminal or an email
// shows), and valid UTF-8 without U+FFFD (a sign of an earlier garbled
// conversion).
func checkField(s string, max int) string {
	if len(s) > max {
		return fmt.Sprintf("is %d bytes long (at most %d)", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			continue // the fast path: printable ASCII
		}
		at := func() int { return utf8.RuneCountInString(s[:i]) + 1 }
		if c < utf8.RuneSelf {
			return fmt.Sprintf("has %s at character %d (a field is one line of text)", describeControl(rune(c)), at())
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("has the byte 0x%02X at character %d, which is not UTF-8: the file is not UTF-8 from this line on; %s, or pass --encoding windows-1252 if it is a Windows (ANSI) file", c, at(), saveAsUTF8)
		case r == utf8.RuneError:
			return fmt.Sprintf("has U+FFFD, the replacement character, at character %d: the text was garbled by an earlier conversion", at())
		case r < 0xa0:
			return fmt.Sprintf("has %s at character %d (a field is one line of text)", describeControl(r), at())
		case r == '\u2028' || r == '\u2029':
			return fmt.Sprintf("has a line break (U+%04X) at character %d (a field is one line of text)", r, at())
		case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f', r == '\u061c':
			return fmt.Sprintf("has the bidirectional-text control U+%04X at character %d", r, at())
		case r == '\ufeff':
			return fmt.Sprintf("has a byte-order mark (U+FEFF) at character %d", at())
		}
		i += size - 1
	}
	return ""
}

func describeControl(r rune) string {
	switch r {
	case 0:
		return "a NUL byte"
	case '\n', '\r', '\v', '\f', 0x85:
		return fmt.Sprintf("a line break (U+%04X)", r)
	case '\t':
		return "a tab"
	case 0x1b:
		return "an escape character (ESC)"
	}
	return fmt.Sprintf("the control character U+%04X", r)
}

// country returns s as an upper-case ISO 3166-1 alpha-2 code, and whether
// it is one (golang.org/x/text's region table, not a list of our own).
func country(s string) (string, bool) {
	if len(s) != 2 {
		return s, false
	}
	up := strings.ToUpper(s)
	if up[0] < 'A' || up[0] > 'Z' || up[1] < 'A' || up[1] > 'Z' {
		return s, false
	}
	r, err := language.ParseRegion(up)
	if err != nil || !r.IsCountry() || r.String() != up {
		return s, false
	}
	return up, true
}
