// Command genpartners writes a deterministic pseudo-random partner file that
// is valid for a program, to measure `starter plan` and imports at scale:
//
//	go run ./tools/genpartners -n 1000000 -program examples/vmware-2009/program.yaml -seed 1 > /tmp/p.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/tiershift/tiershift/internal/partnergen"
)

func main() {
	n := flag.Int("n", 1000, "number of partners")
	progFile := flag.String("program", "", "program file the partners must be valid for")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same file)")
	flag.Parse()
	if *progFile == "" || *n < 0 {
		fmt.Fprintln(os.Stderr, "usage: genpartners -n N -program PROGRAM.yaml [-seed S]")
		os.Exit(2)
	}
	p, err := partnergen.LoadProgram(*progFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := partnergen.Write(os.Stdout, p, *n, *seed); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
