// Package exampletest reads a program file and a partner file for tests the
// way the starter does (program.Load, the partnerfile reader), so a test can
// derive what it expects from the rules instead of copying numbers.
package exampletest

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

// Program loads and validates a program file, failing the test on error.
func Program(t testing.TB, file string) *program.Program {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := program.Load(file, src)
	if err != nil {
		t.Fatalf("load %s:\n%v", file, err)
	}
	return p
}

// Partners reads every row of a partner file, failing the test on any
// problem: the examples are meant to be valid.
func Partners(t testing.TB, file string) []partnerfile.Row {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := partnerfile.NewReader(f, file)
	if err != nil {
		t.Fatal(err)
	}
	var rows []partnerfile.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
}
