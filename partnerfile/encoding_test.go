package partnerfile

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

func encodeWith(t *testing.T, e encoding.Encoding, s string) string {
	t.Helper()
	out, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The French example, saved as Excel saves it in each encoding, reads to
// the same rows; only the guessed Windows-1252 says so in a notice.
func TestEncodingsReadTheSameRows(t *testing.T) {
	data, err := os.ReadFile("../examples/microsoft-2004/partners.csv")
	if err != nil {
		t.Fatal(err)
	}
	utf8Text := strings.TrimPrefix(string(data), "\ufeff") // each case adds its own mark
	if !strings.Contains(utf8Text, "é") {
		t.Fatal("the example has no accented letter to garble")
	}
	want, errs := readAllWith(t, utf8Text, "f.csv", nil)
	if len(errs) > 0 || len(want) < 10 {
		t.Fatalf("UTF-8: %d rows, %v", len(want), RowErrors(errs))
	}
	cp1252 := encodeWith(t, charmap.Windows1252, utf8Text)
	cases := map[string]struct {
		src, enc string
		notice   bool
	}{
		"utf-8 with BOM":        {"\xef\xbb\xbf" + utf8Text, "", false},
		"utf-16le with BOM":     {encodeWith(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), utf8Text), "", false},
		"utf-16be with BOM":     {encodeWith(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), utf8Text), "", false},
		"windows-1252 guessed":  {cp1252, "", true},
		"windows-1252 told":     {cp1252, EncodingWindows1252, false},
		"utf-16 told, with BOM": {encodeWith(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), utf8Text), EncodingUTF16, false},
	}
	for name, c := range cases {
		rd, err := NewReaderWith(strings.NewReader(c.src), "f.csv", Options{Encoding: c.enc})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got := rd.Notice() != ""; got != c.notice {
			t.Errorf("%s: notice %q, want one: %v", name, rd.Notice(), c.notice)
		}
		if c.notice && !strings.Contains(rd.Notice(), "line 2 has the byte 0xE9") {
			t.Errorf("%s: notice %q does not name the first non-UTF-8 line", name, rd.Notice())
		}
		got, errs := drain(t, rd)
		if len(errs) > 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rows differ from the UTF-8 file (errors %v)", name, RowErrors(errs))
		}
	}
}

func drain(t *testing.T, rd *Reader) ([]Row, []*RowError) {
	t.Helper()
	var rows []Row
	var errs []*RowError
	for {
		row, err := rd.Next()
		if err != nil {
			if err.Error() == "EOF" {
				return rows, errs
			}
			re := Errors(err)
			if re == nil {
				t.Fatal(err)
			}
			errs = append(errs, re...)
			continue
		}
		rows = append(rows, row)
	}
}

// Files that cannot be read as they are say why, on line 1, with the fix.
func TestUnreadableFilesNameTheCause(t *testing.T) {
	utf8Row := "partner_id,name,email,tier\np1,Société,a@b.example,Gold\n"
	cases := map[string]struct {
		src, enc, want string
	}{
		"cr only":             {"partner_id,name,email,tier\rp1,N,a@b.example,Gold\r", "", "carriage return alone"},
		"utf-16 without BOM":  {encodeWith(t, unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), utf8Row), "", "looks like UTF-16 without a byte-order mark"},
		"mixed encodings":     {utf8Row + "p2,Soci\xe9t\xe9,c@d.example,Gold\n", "", "mixes encodings: line 2 is UTF-8 but line 3 has the byte 0xE9"},
		"utf-16 told, no BOM": {utf8Row, EncodingUTF16, "no UTF-16 byte-order mark"},
		"BOM contradicts":     {"\xef\xbb\xbf" + utf8Row, EncodingWindows1252, "UTF-8 byte-order mark but --encoding is windows-1252"},
	}
	for name, c := range cases {
		_, err := NewReaderWith(strings.NewReader(c.src), "x.csv", Options{Encoding: c.enc})
		if err == nil || !strings.HasPrefix(err.Error(), "x.csv:1: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want x.csv:1: ...%s", name, err, c.want)
		}
	}
	// Told UTF-8, a Windows-1252 byte is refused where it is, never decoded.
	_, errs := readAllWithOptions(t, "partner_id,name,email,tier\np1,Soci\xe9t\xe9,a@b.example,Gold\n", Options{Encoding: EncodingUTF8})
	if len(errs) != 1 || errs[0].Error() != `x.csv:2:4: name: has the byte 0xE9 at character 5, which is not UTF-8: the file is not UTF-8 from this line on; save it from the spreadsheet as "CSV UTF-8", or pass --encoding windows-1252 if it is a Windows (ANSI) file` {
		t.Errorf("errors: %v", RowErrors(errs))
	}
}

func readAllWithOptions(t *testing.T, src string, o Options) ([]Row, []*RowError) {
	t.Helper()
	rd, err := NewReaderWith(strings.NewReader(src), "x.csv", o)
	if err != nil {
		return nil, Errors(err)
	}
	return drain(t, rd)
}

func TestFieldHygiene(t *testing.T) {
	head := "partner_id,name,email,tier,country,points,revenue,modules\n"
	cases := map[string]string{
		"p1,A\x00B,a@b.example,Gold,,,,":                           "name: has a NUL byte at character 2",
		"p1,A\x1b[31mB,a@b.example,Gold,,,,":                       "name: has an escape character (ESC) at character 2",
		"p1,\"A\nB\",a@b.example,Gold,,,,":                         "name: has a line break (U+000A) at character 2",
		"p1,A\u2028B,a@b.example,Gold,,,,":                         "name: has a line break (U+2028) at character 2",
		"p1,A\u202eB,a@b.example,Gold,,,,":                         "name: has the bidirectional-text control U+202E at character 2",
		"p1,A\u0085B,a@b.example,Gold,,,,":                         "name: has a line break (U+0085) at character 2",
		"p1,A\ufffdB,a@b.example,Gold,,,,":                         "name: has U+FFFD",
		"p1,A\tB,a@b.example,Gold,,,,":                             "name: has a tab at character 2",
		"p1," + strings.Repeat("n", 201) + ",a@b.example,Gold,,,,": "name: is 201 bytes long (at most 200)",
		"p1,N,a@b.example,Gold,,,,Resell\x07":                      "modules: has the control character U+0007",
		"p1,N,a@b.example,Gold,,,," + strings.Repeat("z", 4001):    "modules: is 4001 bytes long (at most 4000)",
		"p1,N,a@b.example,Gold,FRA,,,":                             `country: "FRA" is not an ISO 3166-1 alpha-2 country code`,
		"p1,N,a@b.example,Gold,ZZ,,,":                              `country: "ZZ" is not an ISO 3166-1 alpha-2`,
		"p1,N,a@b.example,Gold,,1 0000,,":                          `points: number "1 0000": thousands groups must have three digits`,
		"p1,N,a@localhost,Gold,,,,":                                `email: "a@localhost" is not an email address: the domain has no dot`,
		"p1,N,a@b.example,Gold,,1000000000,,":                      `points: number "1000000000" is too large`,
	}
	for line, want := range cases {
		_, errs := readAllWithOptions(t, head+line+"\n", Options{})
		got := RowErrors(errs).Error()
		if len(errs) != 1 || !strings.Contains(got, want) {
			t.Errorf("%q: %s\nwant %s", line, got, want)
		}
	}
	rows, errs := readAllWithOptions(t, head+"p1,N,a@b.example,Gold,fr,1 000,\"10 000\",\n", Options{})
	if len(errs) > 0 || len(rows) != 1 || rows[0].Country != "FR" || rows[0].Facts.Points != 1000 || rows[0].Facts.Revenue != 1000000 {
		t.Errorf("rows %+v, errors %v", rows, RowErrors(errs))
	}
}

func TestHeaderOnlyFileHoldsNoPartner(t *testing.T) {
	_, errs := readAllWithOptions(t, "partner_id,name,email,tier\r\n", Options{})
	if len(errs) != 1 || errs[0].Error() != "x.csv:1: the file holds no partner: it has a header but no rows" {
		t.Errorf("errors: %v", RowErrors(errs))
	}
}
