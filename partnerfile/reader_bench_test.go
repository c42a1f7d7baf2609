package partnerfile_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/tiershift/tiershift/internal/partnergen"
	"github.com/tiershift/tiershift/partnerfile"
)

// BenchmarkReader measures reading and validating partner rows, the part of
// `starter import` and `starter plan` that runs in Go before anything is
// written or evaluated. Compare changes with benchstat:
//
//	go test -run '^$' -bench Reader -count 10 ./partnerfile/ > new.txt
func BenchmarkReader(b *testing.B) {
	const n = 10_000
	prog, err := partnergen.LoadProgram(filepath.Join("..", "examples", "vmware-2009", "program.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var csv bytes.Buffer
	if err := partnergen.Write(&csv, prog, n, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(csv.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := partnerfile.NewReader(bytes.NewReader(csv.Bytes()), "bench.csv")
		if err != nil {
			b.Fatal(err)
		}
		rd.CheckWith(prog)
		rows := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if rows != n {
			b.Fatalf("read %d rows, want %d", rows, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
