package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/partnerfile"
)

type example struct{ dir, program, partners, partnerID, name string }

// findExamples lists examples/<name>/ with their program and partner file,
// and the first partner of each. An example without its partner file is an
// error, not a silent omission.
func findExamples() ([]example, error) {
	programs, err := filepath.Glob(filepath.Join("..", "examples", "*", "program.yaml"))
	if err != nil {
		return nil, err
	}
	var out []example
	for _, prog := range programs {
		dir := filepath.Dir(prog)
		ex := example{dir: dir, program: prog, partners: filepath.Join(dir, "partners.csv")}
		f, err := os.Open(ex.partners)
		if err != nil {
			return nil, err
		}
		r, err := partnerfile.NewReader(f, ex.partners)
		if err != nil {
			f.Close()
			return nil, err
		}
		row, err := r.Next()
		f.Close()
		if err != nil {
			return nil, err
		}
		ex.partnerID, ex.name = row.PartnerID, row.Name
		out = append(out, ex)
	}
	return out, nil
}

// examples are every example, and at least one: a test over none would
// check nothing.
func examples(t *testing.T) []example {
	t.Helper()
	out, err := findExamples()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no examples/<name>/program.yaml found")
	}
	return out
}

func execute(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestPreviewExamplesEveryKindAndLocale(t *testing.T) {
	for _, ex := range examples(t) {
		for _, loc := range email.Locales {
			for _, kind := range email.Kinds {
				t.Run(filepath.Base(ex.dir)+"/"+loc+"/"+string(kind), func(t *testing.T) {
					out, err := execute(t, "preview", "--program", ex.program, "--partners", ex.partners,
						"--partner", ex.partnerID, "--kind", string(kind), "--locale", loc, "--launch", "2009-04-14")
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(out, "Subject:") || !strings.Contains(out, ex.name) {
						t.Fatalf("preview lacks subject or partner name:\n%s", out)
					}
				})
			}
		}
	}
}

func TestPreviewWritesHTMLAndForcesOutcome(t *testing.T) {
	ex := examples(t)[0]
	for _, outcome := range []string{"promoted", "kept", "demoted"} {
		file := filepath.Join(t.TempDir(), "outcome.html")
		out, err := execute(t, "preview", "--program", ex.program, "--partners", ex.partners, "--partner", ex.partnerID,
			"--kind", "outcome", "--outcome", outcome, "--html", file, "--launch", "2009-04-14", "--locale", "fr")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "Forecast: "+outcome) {
			t.Errorf("%s: header does not say the outcome:\n%s", outcome, out)
		}
		html, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(html), `<html lang="fr">`) {
			t.Fatalf("%s: HTML file: %v\n%s", outcome, err, html)
		}
	}
}

func TestPreviewBadInputExitsTwo(t *testing.T) {
	// A real example, so that each case is refused for its own reason and
	// not because a file is missing.
	ex := examples(t)[0]
	base := []string{"preview", "--program", ex.program, "--partners", ex.partners}
	cases := map[string][]string{
		"unknown kind":    append(append([]string{}, base...), "--partner", ex.partnerID, "--kind", "newsletter"),
		"bad locale":      append(append([]string{}, base...), "--partner", ex.partnerID, "--kind", "reminder", "--locale", "de"),
		"bad outcome":     append(append([]string{}, base...), "--partner", ex.partnerID, "--kind", "outcome", "--outcome", "fired"),
		"outcome on kind": append(append([]string{}, base...), "--partner", ex.partnerID, "--kind", "reminder", "--outcome", "kept"),
		"bad date":        append(append([]string{}, base...), "--partner", ex.partnerID, "--kind", "reminder", "--at", "next week"),
		"missing flag":    {"preview", "--program", ex.program, "--kind", "reminder"},
		"no program file": {"preview", "--program", filepath.Join(t.TempDir(), "nope.yaml"), "--partners", ex.partners, "--partner", "X", "--kind", "reminder"},
		"unknown partner": append(append([]string{}, base...), "--partner", "no-such-partner-42", "--kind", "reminder"),
	}
	for name, args := range cases {
		if code := run(args); code != exitInput {
			t.Errorf("%s: exit %d, want %d", name, code, exitInput)
		}
	}
	_, err := execute(t, cases["bad locale"]...)
	var in inputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), `unsupported locale "de"`) {
		t.Errorf("bad locale: %v", err)
	}
}
