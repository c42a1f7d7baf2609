// Command genpartners writes a deterministic pseudo-random partner file that
// is valid for a program, to measure `starter plan` and imports at scale:
//
//	go run ./tools/genpartners -n 1000000 -program examples/vmware-2009/program.yaml -seed 1 > /tmp/p.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/tiershift/tiershift/program"
)

var (
	prefixes  = []string{"Société Générale", "Groupe", "Atelier", "Informatique", "Nordic", "Pacific", "Bluewater", "Keystone", "Côte d'Azur", "Bretagne", "Harbor Point", "Québec", "Redwood", "Alsace", "Summit", "Lumière"}
	middles   = []string{"Intégration", "Systèmes", "Cloud", "Data", "Réseaux", "Consulting", "Virtualisation", "Networks", "Services", "Numérique"}
	suffixes  = []string{"SAS", "SARL", "Ltd", "Inc.", "GmbH", "& Associés", "Group", "Partners", "SA", "LLC"}
	countries = []string{"FR", "US", "GB", "CA", "BE", "CH", "DE", "AU", "IE", "SE"}
	locales   = []string{"en", "fr", "fr-FR", "en-US", "fr_CA", ""}
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
	data, err := os.ReadFile(*progFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p, err := program.Load(*progFile, data)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(*seed, 0x7469657273686966))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	w.WriteString("partner_id,name,email,locale,country,tier,revenue,points,certifications,competencies,modules\n")
	var b []byte
	for i := range *n {
		b = b[:0]
		b = append(b, "P"...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ',', '"')
		b = append(b, prefixes[rng.IntN(len(prefixes))]...)
		b = append(b, ' ')
		b = append(b, middles[rng.IntN(len(middles))]...)
		b = append(b, ' ')
		b = append(b, suffixes[rng.IntN(len(suffixes))]...)
		b = append(b, `",contact`...)
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, "@partner.example,"...)
		b = append(b, locales[rng.IntN(len(locales))]...)
		b = append(b, ',')
		b = append(b, countries[rng.IntN(len(countries))]...)
		b = append(b, ',')
		b = append(b, p.OldTiers[rng.IntN(len(p.OldTiers))]...)
		b = append(b, ',')
		// Revenue spans the usual thresholds: 0 to 2,000,000 with cents.
		if rng.IntN(10) > 0 {
			b = append(b, program.Money(rng.Int64N(200_000_000)).String()...)
		}
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(rng.IntN(500)), 10)
		b = append(b, ',')
		first := true
		for _, c := range p.Certifications {
			if rng.IntN(3) == 0 {
				continue
			}
			if !first {
				b = append(b, '|')
			}
			first = false
			b = append(b, c...)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(1+rng.IntN(5)), 10)
		}
		b = append(b, ',')
		b = appendSubset(b, rng, p.Competencies)
		b = append(b, ',')
		b = appendSubset(b, rng, p.Modules)
		b = append(b, '\n')
		w.Write(b)
	}
}

func appendSubset(b []byte, rng *rand.Rand, names []string) []byte {
	first := true
	for _, name := range names {
		if rng.IntN(2) == 0 {
			continue
		}
		if !first {
			b = append(b, '|')
		}
		first = false
		b = append(b, name...)
	}
	return b
}
