package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tiershift/tiershift/internal/partnergen"
)

// BenchmarkPlan measures `starter plan` in process, both passes over the
// file (validate, then evaluate and stream), per output format. The
// whole-process figure at 1,000,000 partners is in BENCHMARKS.md (make bench);
// this one is for comparing changes with benchstat:
//
//	go test -run '^$' -bench Plan -count 10 ./starter/ > new.txt
func BenchmarkPlan(b *testing.B) {
	benchPlan(b, vmwareProgram, time.Date(2009, 10, 14, 0, 0, 0, 0, time.UTC))
}

// BenchmarkPlanTracks is BenchmarkPlan for a program with three tracks
// (the Red Hat example): each partner is evaluated in every track it holds
// and gets one output line per track.
func BenchmarkPlanTracks(b *testing.B) {
	benchPlan(b, redhatProgram, time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC))
}

// benchPlan runs plan over 20,000 generated partners of programFile.
func benchPlan(b *testing.B, programFile string, when time.Time) {
	const n = 20_000
	prog, err := partnergen.LoadProgram(programFile)
	if err != nil {
		b.Fatal(err)
	}
	partners := filepath.Join(b.TempDir(), "partners-"+strconv.Itoa(n)+".csv")
	f, err := os.Create(partners)
	if err != nil {
		b.Fatal(err)
	}
	if err := partnergen.Write(f, prog, n, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	at := func() time.Time { return when }
	for _, format := range []string{"table", "csv", "json"} {
		b.Run(format, func(b *testing.B) {
			o := planOptions{program: programFile, partners: partners, format: format}
			b.ReportAllocs()
			for b.Loop() {
				if err := runPlan(io.Discard, io.Discard, o, at); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "partners/s")
		})
	}
}
