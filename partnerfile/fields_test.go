package partnerfile

import "testing"

// Every byte value at every position of two words and a tail:
// printableASCIIPrefix must stop at the word holding a byte that is not
// printable ASCII (in the tail: at the byte), and only there.
func TestPrintableASCIIPrefix(t *testing.T) {
	for pos := 0; pos < 18; pos++ {
		for c := 0; c < 256; c++ {
			b := []byte("abcdefghABCDEFGH~ ")
			b[pos] = byte(c)
			want := len(b)
			if c < 0x20 || c >= 0x7f {
				want = pos - pos%8 // the start of the word that holds it
				if pos >= len(b)-len(b)%8 {
					want = pos // the tail goes byte by byte
				}
			}
			if got := printableASCIIPrefix(string(b)); got != want {
				t.Fatalf("byte %#x at %d: prefix %d, want %d", c, pos, got, want)
			}
		}
	}
}

// The remembered country codes read as the first lookup did, in either
// case, and a refused code is never remembered as valid.
func TestReaderCountryRemembers(t *testing.T) {
	var rd Reader
	for range 2 {
		for _, c := range []struct{ in, code, suggestion string }{
			{"FR", "FR", ""}, {"fr", "FR", ""}, {"Fr", "FR", ""}, {"UK", "UK", "GB"}, {"uk", "uk", "GB"}, {"EU", "EU", ""}, {"F1", "F1", ""},
		} {
			code, suggestion, ok := rd.country(c.in)
			if code != c.code || suggestion != c.suggestion || ok != (c.code == "FR") {
				t.Errorf("country(%q) = %q, %q, %v", c.in, code, suggestion, ok)
			}
		}
	}
}
