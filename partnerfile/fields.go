package partnerfile

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
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
	ColTimeZone:       64, // the longest IANA name is 32 bytes
}

// DefaultMaxFieldLen bounds a column MaxFieldLen does not list.
const DefaultMaxFieldLen = 1000

func maxFieldLen(column string) int {
	if n, ok := MaxFieldLen[column]; ok {
		return n
	}
	return DefaultMaxFieldLen
}

// checkFields trims the spaces around every field of the record in place
// (trimSpaces) and checks it: no longer than its column allows, and only
// characters a single-line text field may hold. It reports whether all
// were fine; problems go to rd.errs.
func (rd *Reader) checkFields(rec []string) bool {
	ok := true
	for i, f := range rec {
		if t := trimSpaces(f); len(t) != len(f) {
			f = t
			rec[i] = t // only when trimmed: a store into rec costs a write barrier
		}
		if msg := checkField(f, rd.maxLen[i], rd.windows1252); msg != "" {
			rd.failAt(i, "%s", msg)
			ok = false
		}
	}
	return ok
}

// trimSpaces trims the spaces around a field: ' ', the no-break spaces
// spreadsheets write, and the other Unicode spaces. Tabs, line breaks and
// other control characters are not trimmed: at either end of a field (a
// cell that spilled over two lines) they are refused as they are inside
// it, not silently dropped.
func trimSpaces(s string) string {
	if s == "" || (s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf) {
		return s // the fast path: printable ASCII at both ends
	}
	return strings.TrimFunc(s, isFieldSpace)
}

func isFieldSpace(r rune) bool {
	return r == ' ' || (r >= 0xa0 && r != '\u2028' && r != '\u2029' && unicode.IsSpace(r))
}

// checkField returns why s cannot be a field's value, or "". Every field is
// one line of text: no control characters (C0, DEL, C1: NUL, tab, line
// breaks, ESC...), no Unicode line or paragraph separators, no
// bidirectional-text controls (they reorder what a terminal or an email
// shows), and valid UTF-8 without U+FFFD (a sign of an earlier garbled
// conversion or, when the file was read as Windows-1252, of a byte that
// encoding leaves undefined).
func checkField(s string, max int, windows1252 bool) string {
	if len(s) > max {
		return fmt.Sprintf("is %d bytes long (at most %d)", len(s), max)
	}
	start := printableASCIIPrefix(s)
	if start == len(s) {
		return "" // the fast path: printable ASCII
	}
	for i := start; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			continue // printable ASCII
		}
		at := func() int { return utf8.RuneCountInString(s[:i]) + 1 }
		if c < utf8.RuneSelf {
			return fmt.Sprintf("has %s at character %d (a field is one line of text)", describeControl(rune(c)), at())
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Sprintf("has the byte 0x%02X at character %d, which is not UTF-8: the file is not UTF-8 from this line on; %s, or pass --encoding windows-1252 if it is a Windows (ANSI) file", c, at(), saveAsUTF8)
		case r == utf8.RuneError && windows1252:
			return fmt.Sprintf("has a byte Windows-1252 does not define (0x81, 0x8D, 0x8F, 0x90 or 0x9D) at character %d: the file is not Windows-1252 either; %s", at(), saveAsUTF8)
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

// printableASCIIPrefix returns how many of s's first bytes are printable
// ASCII (0x20 to 0x7E), eight at a time (or, where a word holds another
// byte, up to that word): most fields are nothing else, and
// checkField runs on every field of every row (a byte-at-a-time loop made
// it 6% of reading a row). The words are the classic SWAR tests: a byte
// with its top bit set, a byte below 0x20, a byte equal to 0x7F.
func printableASCIIPrefix(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8])) // one load: the conversion is not a copy
		del := w ^ (0x7f * ones)
		if (w|((w-0x20*ones)&^w)|((del-ones)&^del))&highs != 0 {
			return i
		}
	}
	for ; i < len(s) && s[i]-0x20 < 0x7f-0x20; i++ { // one unsigned comparison
	}
	return i
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

// country is the function country, remembering the codes it found valid:
// a file names few countries, and x/text's lookup was 4% of reading a row.
func (rd *Reader) country(s string) (code, suggestion string, ok bool) {
	if len(s) != 2 {
		return country(s)
	}
	a, b := s[0]|0x20, s[1]|0x20 // ASCII letters in lower case; nothing else lands in a-z
	if a < 'a' || a > 'z' || b < 'a' || b > 'z' {
		return country(s)
	}
	k := int(a-'a')*26 + int(b-'a')
	if !rd.validCountry[k] {
		code, suggestion, ok = country(s)
		rd.validCountry[k] = ok
		return code, suggestion, ok
	}
	if s[0] <= 'Z' && s[1] <= 'Z' {
		return s, "", true
	}
	return strings.ToUpper(s), "", true
}

// country returns s as an upper-case ISO 3166-1 alpha-2 code, and whether
// it is one (golang.org/x/text's region table, not a list of our own). The
// table also holds codes ISO only reserves, which are refused: those with
// no UN M49 number (EU, UN, the exceptional reservations AC, IC...) and
// deprecated ones x/text replaces by the code now assigned, returned as
// the suggestion (UK: GB, ZR: CD).
func country(s string) (code, suggestion string, ok bool) {
	if len(s) != 2 {
		return s, "", false
	}
	up := strings.ToUpper(s)
	if up[0] < 'A' || up[0] > 'Z' || up[1] < 'A' || up[1] > 'Z' {
		return s, "", false
	}
	r, err := language.ParseRegion(up)
	if err != nil || !r.IsCountry() || r.String() != up || r.M49() == 0 {
		return s, "", false
	}
	if c := r.Canonicalize(); c != r {
		return s, c.String(), false
	}
	return up, "", true
}
