package partnerfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tiershift/tiershift/program"
)

// readAll reads every row, collecting row errors like a caller would.
func readAll(t *testing.T, src, name string) ([]Row, []*RowError) {
	t.Helper()
	return readAllWith(t, src, name, nil)
}

// readAllWith reads every row checked against p (when not nil).
func readAllWith(t *testing.T, src, name string, p *program.Program) ([]Row, []*RowError) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(src), name)
	if err != nil {
		errs := Errors(err)
		if errs == nil {
			t.Fatalf("NewReader: %v", err)
		}
		return nil, errs
	}
	if p != nil {
		rd.CheckWith(p)
	}
	var rows []Row
	var errs []*RowError
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			re := Errors(err)
			if re == nil {
				t.Fatalf("fatal error: %v", err)
			}
			errs = append(errs, re...)
			continue
		}
		rows = append(rows, row)
	}
	return rows, errs
}

func TestFrenchExcelFile(t *testing.T) {
	src := "\xef\xbb\xbfPartner_ID ; Nom_inutile_absent;Email;LOCALE;tier;revenue;certifications;competencies\r\n"
	// header has an unknown column: fix it and use a proper one.
	src = "\xef\xbb\xbfPartner_ID ;Name;Email;LOCALE;tier;revenue;certifications;competencies\r\n" +
		"SGI-1;\"Société Générale d'Intégration\";contact@sgi.example;fr-FR;Enterprise;\"10 000,50\";VTSP:2|VSP;Infrastructure Virtualization\r\n" +
		"\r\n" +
		"ACME;\"Acme; Ltd\";a@acme.example;;Professional;1.000.000,00;;\r\n" +
		"QC-3;Québec Numérique;q@qn.example;fr_CA;Professional;\u00a0;;\r\n"
	rows, errs := readAll(t, src, "fr.csv")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", RowErrors(errs))
	}
	want := []Row{
		{Line: 2, File: "fr.csv", PartnerID: "SGI-1", Name: "Société Générale d'Intégration", Email: "contact@sgi.example", Locale: "fr", Tier: "Enterprise",
			Facts: program.Facts{Certifications: map[string]int{"VTSP": 2, "VSP": 1}, Competencies: []string{"Infrastructure Virtualization"}, Revenue: 1000050}},
		{Line: 4, File: "fr.csv", PartnerID: "ACME", Name: "Acme; Ltd", Email: "a@acme.example", Locale: "en", Tier: "Professional",
			Facts: program.Facts{Revenue: 100000000}},
		{Line: 5, File: "fr.csv", PartnerID: "QC-3", Name: "Québec Numérique", Email: "q@qn.example", Locale: "fr", Tier: "Professional"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", rows, want)
	}
}

func TestDelimiters(t *testing.T) {
	for _, d := range []string{",", ";", "\t"} {
		src := strings.Join([]string{"partner_id", "name", "email", "tier"}, d) + "\n" + strings.Join([]string{"p1", `"A, B; C"`, "a@b.example", "Gold"}, d) + "\n"
		rows, errs := readAll(t, src, "x.csv")
		if len(errs) > 0 || len(rows) != 1 || rows[0].Name != "A, B; C" || rows[0].Tier != "Gold" {
			t.Errorf("delimiter %q: rows %+v errs %v", d, rows, errs)
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	_, errs := readAll(t, "partner_id,Name,e-mail,tier,NAME,revenu\n", "h.csv")
	got := RowErrors(errs).Error()
	for _, w := range []string{
		`h.csv:1:17: e-mail: unknown column "e-mail"`,
		`h.csv:1:29: name: column "name" appears twice (columns 2 and 5)`,
		`h.csv:1:34: revenu: unknown column "revenu"`,
		`h.csv:1: email: required column "email" is missing`,
	} {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if _, errs := readAll(t, "", "e.csv"); len(errs) != 1 || !strings.Contains(errs[0].Message, "empty") {
		t.Errorf("empty file: %v", errs)
	}
}

func TestRowErrorsAllCollected(t *testing.T) {
	src := `partner_id,name,email,locale,tier,revenue,points,certifications,competencies
p1,Good One,good@x.example,en,Gold,100,5,A:2|B,C
,No Id,noid@x.example,en,Gold,,,,
p1,Dup,dup@x.example,en,Gold,,,,
p3,Bad Email,not-an-email,en,Gold,,,,
p4,Bad Locale,l@x.example,de-DE,Gold,,,,
p5,Bad Revenue,r@x.example,en,Gold,-5,,,
p6,Bad Points,pt@x.example,en,Gold,,-1,,
p7,Bad Cert,c@x.example,en,Gold,,,A:0|:3,
p8,,n@x.example,en,,,,,
p9,Many,"Name <m@x.example>",xx,Gold,abc,1.5,A:x,
p10,Too few fields,f@x.example
p11,"Bad "quote",q@x.example,en,Gold,,,,
p12,Last Good,last@x.example,fr,Gold,,,,C|C
`
	rows, errs := readAll(t, src, "p.csv")
	want := []string{
		"p.csv:3:1: partner_id: is empty",
		`p.csv:4:1: partner_id: "p1" is already used on line 2`,
		`p.csv:5:14: email: "not-an-email" is not an email address`,
		`p.csv:6:27: locale: "de-DE" is not supported`,
		`p.csv:7:36: revenue: amount "-5" must not be negative`,
		`p.csv:8:37: points: number "-1" must not be negative`,
		`p.csv:9:35: certifications: count "0" of "A" must be a whole number, 1 or more`,
		`p.csv:9:35: certifications: ":3" has no certification name`,
		"p.csv:10:4: name: is empty",
		"p.csv:10:20: tier: is empty",
		`p.csv:11:9: email: "Name <m@x.example>" is not an email address`,
		`p.csv:11:30: locale: "xx" is not supported`,
		`p.csv:11:38: revenue: amount "abc"`,
		`p.csv:11:42: points: number "1.5" must be a whole number`,
		`p.csv:11:46: certifications: count "x" of "A"`,
		"p.csv:12: has 3 fields but the header has 9",
		"p.csv:13:10: cannot read the line",
		"p.csv:14:41: competencies: lists the same name twice",
	}
	wantErrors(t, errs, want)
	if len(rows) != 1 || rows[0].PartnerID != "p1" || !reflect.DeepEqual(rows[0].Facts, program.Facts{Certifications: map[string]int{"A": 2, "B": 1}, Competencies: []string{"C"}, Revenue: 10000, Points: 5}) {
		t.Errorf("rows = %+v", rows)
	}
	var one *RowError
	if err := (RowErrors{{Line: 1, Message: "x"}, {Line: 2, Message: "y"}}); !errors.As(err, &one) || one.Message != "x" {
		t.Error("errors.As on RowErrors")
	}
}

func TestCheckAgainst(t *testing.T) {
	data, err := os.ReadFile("../examples/vmware-2009/program.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := program.Load("vmware.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	src := "partner_id,tier,name,email,certifications,competencies,modules\n" +
		"p1,Gold,N,n@x.example,VTSP:1|VCP|ABC:2,Infrastructure Virtualization|Cooking,Resell\n" +
		"p2,Premier,N,m@x.example,VTSP:4,,\n"
	rows, errs := readAllWith(t, src, "p.csv", p)
	got := RowErrors(errs).Error()
	// Columns: tier starts at byte 4 of "p1,Gold,...", certifications at
	// 4+5+2+12 = 23, competencies after "VTSP:1|VCP|ABC:2," (17) at 40,
	// modules after "Infrastructure Virtualization|Cooking," (38) at 78.
	want := strings.Join([]string{
		`p.csv:2:4: tier: "Gold" is not a tier of the old program (old tiers: Professional, Enterprise, Premier)`,
		`p.csv:2:23: certifications: "ABC" is not declared by program vmware-2009 (declared: VSP, VTSP)`,
		`p.csv:2:23: certifications: "VCP" is not declared by program vmware-2009 (declared: VSP, VTSP)`,
		`p.csv:2:40: competencies: "Cooking" is not declared by program vmware-2009 (declared: Infrastructure Virtualization, Business Continuity, Desktop Virtualization, Virtualization Management)`,
		`p.csv:2:78: modules: "Resell" is not declared by program vmware-2009 (declared: none)`,
	}, "\n")
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if len(rows) != 1 || rows[0].PartnerID != "p2" {
		t.Errorf("valid rows: %+v", rows)
	}
}

func TestExamplesAreValid(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*/partners.csv")
	if len(dirs) < 5 {
		t.Fatalf("found %d example partner files", len(dirs))
	}
	for _, file := range dirs {
		pdata, err := os.ReadFile(filepath.Join(filepath.Dir(file), "program.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := program.Load(file, pdata)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rows, errs := readAllWith(t, string(data), file, p)
		tps := p.TrackPrograms()
		for _, r := range rows {
			evs, err := program.EvaluateTracks(nil, tps, r.Tier, r.Tracks, r.Facts)
			if err != nil {
				t.Error(err)
			}
			if p.HasTracks() != (len(r.Tracks) > 0) || len(evs) == 0 {
				t.Errorf("%s:%d: %d track levels, %d evaluations, for a program with tracks %v", file, r.Line, len(r.Tracks), len(evs), p.Tracks != nil)
			}
		}
		if len(errs) > 0 {
			t.Errorf("%s:\n%v", file, RowErrors(errs))
		}
		if len(rows) < 10 || len(rows) > 30 {
			t.Errorf("%s has %d partners, want 10-30", file, len(rows))
		}
	}
}

// TestStreaming reads a large generated file and checks that memory does
// not grow with the number of rows beyond the duplicate-id index.
func TestStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	const n = 100000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintln(pw, "partner_id;name;email;tier;certifications")
		for i := range n {
			fmt.Fprintf(pw, "P%07d;Société n°%d;p%d@x.example;Gold;VTSP:%d\n", i, i, i, i%5+1)
		}
		pw.Close()
	}()
	rd, err := NewReader(pr, "big.csv")
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		count++
		if row.Line != count+1 {
			t.Fatalf("row %d on line %d", count, row.Line)
		}
	}
	if count != n {
		t.Errorf("read %d rows, want %d", count, n)
	}
}

// A cell of separators and blanks reads as an empty cell: no names, and nil
// like an empty cell, so that the stored facts and the forecast do not tell
// the two apart.
func TestBlankListsReadAsEmptyCells(t *testing.T) {
	src := "partner_id,name,email,tier,certifications,competencies,modules\n" +
		"P1,Acme,a@acme.example,Enterprise, | ,| |,|\n" +
		"P2,Acme,b@acme.example,Enterprise,,,\n"
	rows, errs := readAll(t, src, "blank.csv")
	if len(errs) != 0 {
		t.Fatalf("errors: %v", RowErrors(errs))
	}
	if len(rows) != 2 {
		t.Fatalf("read %d rows, want 2", len(rows))
	}
	for _, r := range rows {
		if r.Facts.Certifications != nil || r.Facts.Competencies != nil || r.Facts.Modules != nil {
			t.Errorf("line %d: facts %+v, want no certifications, competencies or modules (nil)", r.Line, r.Facts)
		}
	}
	if !reflect.DeepEqual(rows[0].Facts, rows[1].Facts) {
		t.Errorf("blank lists %+v differ from empty cells %+v", rows[0].Facts, rows[1].Facts)
	}
}

func TestTracksColumn(t *testing.T) {
	src := "partner_id;name;email;tier;tracks\r\n" +
		"p1;One;a@x.example;Advanced; Sell With : Ready | Resell:Advanced \r\n" +
		"p2;Two;b@x.example;Ready;\r\n" +
		"p3;Three;c@x.example;Ready;Resell|:Ready|Sell With:|Resell:Ready|Resell:Premier\r\n"
	rows, errs := readAll(t, src, "t.csv")
	// The tracks field of line 4 starts after "p3;Three;c@x.example;Ready;" (27 bytes).
	want := []string{
		`t.csv:4:28: tracks: "Resell" must be track:tier, such as Resell:Advanced`,
		`t.csv:4:28: tracks: ":Ready" has no track name`,
		`t.csv:4:28: tracks: "Sell With:" has no tier after the ':'`,
		`t.csv:4:28: tracks: track "Resell" is listed twice`,
	}
	wantErrors(t, errs, want)
	wantLevels := []program.TrackLevel{{Track: "Resell", Tier: "Advanced"}, {Track: "Sell With", Tier: "Ready"}}
	if len(rows) != 2 || !reflect.DeepEqual(rows[0].Tracks, wantLevels) || rows[1].Tracks != nil {
		t.Errorf("rows = %+v", rows)
	}

	// Checked against a program: tracks and their old tiers must exist.
	data, err := os.ReadFile("../examples/redhat-pex/program.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := program.Load("redhat.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	// The tracks field of line 2 starts after "q1,Q,q@x.example,Ready," (23 bytes).
	_, errs = readAllWith(t, "partner_id,name,email,tier,tracks\nq1,Q,q@x.example,Ready,Resale:Ready|Resell:Gold\n", "t.csv", p)
	wantCheck := `t.csv:2:24: tracks: "Resale" is not a track of program redhat-pex (tracks: Distribution, Resell, Sell With)` + "\n" +
		`t.csv:2:24: tracks: "Gold" is not an old tier of track "Resell" (old tiers: Ready, Advanced, Premier)`
	if got := RowErrors(errs).Error(); got != wantCheck {
		t.Errorf("checked against the program:\n%s\nwant:\n%s", got, wantCheck)
	}
}

// wantErrors fails the test unless errs are exactly one per wanted text,
// each wanted text in one of them.
func wantErrors(t *testing.T, errs []*RowError, want []string) {
	t.Helper()
	got := RowErrors(errs).Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("got %d errors, want %d:\n%s", len(errs), len(want), got)
	}
}

func TestTimeZoneColumn(t *testing.T) {
	src := "partner_id;name;email;tier;country;timezone\r\n" +
		"p1;One;a@x.example;Gold;US; America/Chicago \r\n" +
		"p2;Two;b@x.example;Gold;FR;\r\n" +
		"p3;Three;c@x.example;Gold;FR;Europe/Pariss\r\n" +
		"p4;Four;d@x.example;Gold;FR;Local\r\n"
	rows, errs := readAll(t, src, "z.csv")
	// The timezone field of line 4 starts after "p3;Three;c@x.example;Gold;FR;" (29 bytes),
	// that of line 5 after "p4;Four;d@x.example;Gold;FR;" (28 bytes).
	wantErrors(t, errs, []string{
		`z.csv:4:30: timezone: "Europe/Pariss" is not an IANA time zone name`,
		`z.csv:5:29: timezone: "Local" is not an IANA time zone name`,
	})
	if len(rows) != 2 || rows[0].TimeZone != "America/Chicago" || rows[1].TimeZone != "" {
		t.Errorf("rows = %+v", rows)
	}
}
