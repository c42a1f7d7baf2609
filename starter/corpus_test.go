package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/internal/pgtest"
)

// corpusDir holds the bad-input corpus: one partner file per case, its
// expectation in <name>.want beside it (the format is described in the
// directory's README.md), and the programs the cases are read against.
const corpusDir = "../testdata/partners"

// corpusCampaign is the campaign every case is imported into.
const corpusCampaign = "corpus"

// corpusWant is a case's expectation, read from its .want file.
type corpusWant struct {
	exit     int
	problems []corpusProblem // exit 2: every located message, in order
	program  string          // default program.yaml
	encoding string          // --encoding, if any
	partner  string          // the partner preview shows (default p1)
	notices  []string        // fragments of the one note every command prints
	sameAs   string          // another case whose outputs must be identical
	partners int             // exit 0: partners the import stores
}

// corpusProblem is one expected "file:loc: field: message" line.
type corpusProblem struct {
	loc      string // "3:9" or "3"
	field    string // "" for a message about the whole line or file
	fragment string
}

func (p corpusProblem) String() string {
	return fmt.Sprintf("%s %s: …%s…", p.loc, cmp.Or(p.field, "-"), p.fragment)
}

// readCorpusWant parses a .want file:
//
//	2 3:9 email: fragment     first line: exit code, then the first problem
//	+ 4:1 partner_id: frag    every further problem, in order
//	0 what the acceptance means
//	program tracks.yaml | encoding E | partner ID | notice fragment |
//	same-as other.csv | partners N | # comment
func readCorpusWant(path string) (corpusWant, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return corpusWant{}, err
	}
	w := corpusWant{program: "program.yaml", partner: "p1", partners: -1}
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, rest, _ := strings.Cut(line, " ")
		fail := func(msg string) error { return fmt.Errorf("%s:%d: %s", path, n, msg) }
		if first {
			first = false
			if w.exit, err = strconv.Atoi(key); err != nil || (w.exit != 0 && w.exit != 2) {
				return w, fail("the first line must start with the exit code, 0 or 2")
			}
			if w.exit == 2 {
				p, err := parseCorpusProblem(rest)
				if err != nil {
					return w, fail(err.Error())
				}
				w.problems = append(w.problems, p)
			} else if rest == "" {
				return w, fail("an acceptance (0) must say what it means")
			}
			continue
		}
		switch key {
		case "+":
			p, err := parseCorpusProblem(rest)
			if err != nil {
				return w, fail(err.Error())
			}
			w.problems = append(w.problems, p)
		case "program":
			w.program = rest
		case "encoding":
			w.encoding = rest
		case "partner":
			w.partner = rest
		case "notice":
			w.notices = append(w.notices, rest)
		case "same-as":
			w.sameAs = rest
		case "partners":
			if w.partners, err = strconv.Atoi(rest); err != nil {
				return w, fail("partners takes a number")
			}
		default:
			return w, fail(fmt.Sprintf("unknown directive %q", key))
		}
	}
	if first {
		return w, fmt.Errorf("%s: empty expectation", path)
	}
	if w.exit == 2 && len(w.problems) > 0 && w.partners >= 0 {
		return w, fmt.Errorf("%s: a refused file stores no partner; drop the partners line", path)
	}
	if w.exit == 0 && w.partners < 0 {
		return w, fmt.Errorf("%s: an accepted file must say how many partners it holds (partners N)", path)
	}
	return w, sc.Err()
}

// parseCorpusProblem reads "3:9 email: fragment" or "1 -: fragment".
func parseCorpusProblem(s string) (corpusProblem, error) {
	loc, rest, ok := strings.Cut(s, " ")
	field, frag, ok2 := strings.Cut(rest, ": ")
	if !ok || !ok2 || loc == "" || frag == "" {
		return corpusProblem{}, fmt.Errorf("%q: want LINE[:COL] FIELD: FRAGMENT (FIELD - for none)", s)
	}
	for _, part := range strings.Split(loc, ":") {
		if _, err := strconv.Atoi(part); err != nil {
			return corpusProblem{}, fmt.Errorf("%q: the location must be LINE or LINE:COL", s)
		}
	}
	if field == "-" {
		field = ""
	}
	return corpusProblem{loc: loc, field: field, fragment: frag}, nil
}

// corpusCases lists the corpus's cases (every file that is not a program,
// an expectation or the README) and fails the test for any case without an
// expectation or expectation without a case.
func corpusCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	wants := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch ext := filepath.Ext(name); {
		case e.IsDir():
			t.Errorf("%s/%s: the corpus is flat; a case is one file", corpusDir, name)
		case ext == ".want":
			wants[strings.TrimSuffix(name, ext)] = true
		case ext == ".yaml" || name == "README.md":
		default:
			cases = append(cases, name)
		}
	}
	for _, c := range cases {
		base := strings.TrimSuffix(c, filepath.Ext(c))
		if !wants[base] {
			t.Errorf("%s/%s has no expectation: add %s.want (see README.md there)", corpusDir, c, base)
		}
		delete(wants, base)
	}
	for w := range wants {
		t.Errorf("%s/%s.want expects a case that does not exist", corpusDir, w)
	}
	return cases
}

// corpusRun is what one command printed and returned for a case.
type corpusRun struct {
	cmd      string
	exit     int
	stdout   string
	messages []string // stderr lines about the file: its problems and notes
}

func runCorpusCommand(t *testing.T, file string, args ...string) corpusRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := runWith(args, &out, &errb)
	r := corpusRun{cmd: args[0], exit: code, stdout: out.String()}
	for line := range strings.SplitSeq(errb.String(), "\n") {
		if strings.HasPrefix(line, file+":") || strings.HasPrefix(line, "note: ") {
			r.messages = append(r.messages, line)
		}
	}
	if code != 0 && len(r.messages) == 0 {
		t.Logf("%s: exit %d with no located message; stderr:\n%s", args[0], code, errb.String())
	}
	return r
}

// TestBadInputCorpus runs every partner file of testdata/partners through
// plan, preview and import (against a real PostgreSQL) and checks that the
// three agree message for message, that each gives its expected exit code
// and problems, located, and that a refused import leaves every table as it
// was: empty. An accepted file must import its partners and, with same-as,
// read exactly as the case it names.
func TestBadInputCorpus(t *testing.T) {
	db := starterDB(t)
	cases := corpusCases(t)
	if len(cases) < 60 {
		t.Errorf("the corpus has %d cases; issue 13 asks for at least 60", len(cases))
	}
	results := map[string][]corpusRun{}
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(name, filepath.Ext(name))
			want, err := readCorpusWant(filepath.Join(corpusDir, base+".want"))
			if err != nil {
				t.Fatal(err)
			}
			runs := runCorpusCase(t, db, name, want)
			results[name] = runs
			checkCorpusCase(t, filepath.Join(corpusDir, name), want, runs)
		})
	}
	for _, name := range cases {
		base := strings.TrimSuffix(name, filepath.Ext(name))
		want, err := readCorpusWant(filepath.Join(corpusDir, base+".want"))
		if err != nil || want.sameAs == "" {
			continue
		}
		other, ok := results[want.sameAs]
		if !ok {
			t.Errorf("%s: same-as %s: no such case", name, want.sameAs)
			continue
		}
		for i, r := range results[name] {
			if r.stdout != other[i].stdout {
				t.Errorf("%s reads differently from %s: %s printed\n%s\nbut\n%s", name, want.sameAs, r.cmd, r.stdout, other[i].stdout)
			}
		}
	}
}

// runCorpusCase runs plan, preview and import on one case. The import
// goes into an empty database; it must stay empty when the file is
// refused, and is emptied again after an accepted file.
func runCorpusCase(t *testing.T, db *pgtest.DB, name string, want corpusWant) []corpusRun {
	file := filepath.Join(corpusDir, name)
	prog := filepath.Join(corpusDir, want.program)
	var enc []string
	if want.encoding != "" {
		enc = []string{"--encoding", want.encoding}
	}
	plan := runCorpusCommand(t, file, slices.Concat([]string{"plan", "--program", prog, "--partners", file, "--at", "2025-01-01"}, enc)...)
	preview := runCorpusCommand(t, file, slices.Concat([]string{"preview", "--program", prog, "--partners", file, "--partner", want.partner,
		"--kind", "announcement", "--launch", "2025-01-01"}, enc)...)
	imp := runCorpusCommand(t, file, slices.Concat([]string{"import", "--campaign", corpusCampaign, "--program", prog}, enc, []string{file})...)
	stored := corpusStored(t, db)
	if imp.exit != 0 && stored != "" {
		t.Errorf("a refused import wrote rows:\n%s", stored)
	}
	if imp.exit == 0 {
		if n := countRows(t, db, `SELECT count(*) FROM partners`); n != want.partners {
			t.Errorf("import stored %d partners, want %d", n, want.partners)
		}
		imp.stdout = corpusPartners(t, db)
	}
	if stored != "" { // the next case starts from an empty database again
		db.Exec(t, `TRUNCATE `+strings.Join(corpusTables(t, db), ", ")+` CASCADE`)
	}
	return []corpusRun{plan, preview, imp}
}

// checkCorpusCase compares the three runs with each other and with want.
func checkCorpusCase(t *testing.T, file string, want corpusWant, runs []corpusRun) {
	t.Helper()
	plan := runs[0]
	for _, r := range runs[1:] {
		if !slices.Equal(r.messages, plan.messages) {
			t.Errorf("%s and plan disagree:\n%s:\n  %s\nplan:\n  %s", r.cmd, r.cmd, strings.Join(r.messages, "\n  "), strings.Join(plan.messages, "\n  "))
		}
	}
	for _, r := range runs {
		if r.exit != want.exit {
			t.Errorf("%s exited %d, want %d; messages:\n  %s", r.cmd, r.exit, want.exit, strings.Join(r.messages, "\n  "))
		}
	}
	var problems, notes []string
	for _, m := range plan.messages {
		if strings.HasPrefix(m, "note: ") {
			notes = append(notes, m)
		} else {
			problems = append(problems, strings.TrimPrefix(m, file+":"))
		}
	}
	if len(problems) != len(want.problems) {
		t.Errorf("%d problems, want %d:\n  got  %s\n  want %v", len(problems), len(want.problems), strings.Join(problems, "\n       "), want.problems)
	}
	for i := range min(len(problems), len(want.problems)) {
		if !matchProblem(problems[i], want.problems[i]) {
			t.Errorf("problem %d is\n  %s\nwant\n  %v", i+1, problems[i], want.problems[i])
		}
	}
	switch {
	case len(want.notices) == 0 && len(notes) > 0:
		t.Errorf("unexpected notes: %q", notes)
	case len(want.notices) > 0 && len(notes) != 1:
		t.Errorf("notes %q, want one containing each of %q", notes, want.notices)
	case len(want.notices) > 0:
		for _, frag := range want.notices {
			if !strings.Contains(notes[0], frag) {
				t.Errorf("note %q lacks %q", notes[0], frag)
			}
		}
	}
}

// matchProblem reports whether msg ("3:9: email: ...") is at p's location,
// names p's field and contains p's fragment.
func matchProblem(msg string, p corpusProblem) bool {
	rest, ok := strings.CutPrefix(msg, p.loc+": ")
	if !ok {
		return false
	}
	if p.field != "" {
		if rest, ok = strings.CutPrefix(rest, p.field+": "); !ok {
			return false
		}
	}
	return strings.Contains(rest, p.fragment)
}

// corpusTables lists the tables of the test's schema but the migrations'.
func corpusTables(t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'tiershift_schema_version' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = pgx.Identifier{n}.Sanitize()
	}
	return names
}

// corpusStored describes every row of every table ("" when all are empty).
func corpusStored(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range corpusTables(t, db) {
		if n := countRows(t, db, `SELECT count(*) FROM `+table); n > 0 {
			fmt.Fprintf(&b, "%s: %d rows\n", table, n)
		}
	}
	return b.String()
}

// corpusPartners is what an accepted import stored, for same-as.
func corpusPartners(t *testing.T, db *pgtest.DB) string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT to_jsonb(p) - 'created_at' - 'updated_at' - 'facts_changed_at' FROM partners p ORDER BY partner_id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(got, "\n")
}
