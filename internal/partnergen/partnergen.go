// Package partnergen writes deterministic pseudo-random partner files that
// are valid for a program. The benchmarks (tools/genpartners for `make
// bench`, and the Go benchmarks of the packages that read partner files)
// share it so that every figure is measured over the same kind of rows.
package partnergen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/tiershift/tiershift/program"
)

// header is the partner file's header line, in the order appendPartner
// writes the fields; programs with tracks get a tracks column after them.
const header = "partner_id,name,email,locale,country,tier,revenue,points,certifications,competencies,modules"

var (
	prefixes  = []string{"Société Générale", "Groupe", "Atelier", "Informatique", "Nordic", "Pacific", "Bluewater", "Keystone", "Côte d'Azur", "Bretagne", "Harbor Point", "Québec", "Redwood", "Alsace", "Summit", "Lumière"}
	middles   = []string{"Intégration", "Systèmes", "Cloud", "Data", "Réseaux", "Consulting", "Virtualisation", "Networks", "Services", "Numérique"}
	suffixes  = []string{"SAS", "SARL", "Ltd", "Inc.", "GmbH", "& Associés", "Group", "Partners", "SA", "LLC"}
	countries = []string{"FR", "US", "GB", "CA", "BE", "CH", "DE", "AU", "IE", "SE"}
	locales   = []string{"en", "fr", "fr-FR", "en-US", "fr_CA", ""}
)

// LoadProgram reads and validates the program file the partners are
// generated for.
func LoadProgram(path string) (*program.Program, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return program.Load(path, data)
}

// Write writes a header and n partners P1..Pn for p. The same seed gives the
// same file. Old tiers, certifications, competencies, modules and (for a
// program with tracks) track levels are drawn from the program, and revenue spans the usual thresholds (0 to 2,000,000
// with cents, one partner in ten with none), so that every outcome occurs.
func Write(w io.Writer, p *program.Program, n int, seed uint64) error {
	if n < 0 {
		return fmt.Errorf("generate partners: n is %d, must be 0 or more", n)
	}
	if len(p.OldTiers) == 0 {
		return fmt.Errorf("generate partners: the program has no old tiers")
	}
	rng := rand.New(rand.NewPCG(seed, 0x7469657273686966))
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(header)
	if p.HasTracks() {
		bw.WriteString(",tracks")
	}
	bw.WriteByte('\n')
	var b []byte
	for i := range n {
		b = appendPartner(b[:0], rng, p, i+1)
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("generate partners: row %d: %w", i+1, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("generate partners: %w", err)
	}
	return nil
}

func appendPartner(b []byte, rng *rand.Rand, p *program.Program, id int) []byte {
	b = append(b, "P"...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ',', '"')
	b = append(b, prefixes[rng.IntN(len(prefixes))]...)
	b = append(b, ' ')
	b = append(b, middles[rng.IntN(len(middles))]...)
	b = append(b, ' ')
	b = append(b, suffixes[rng.IntN(len(suffixes))]...)
	b = append(b, `",contact`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, "@partner.example,"...)
	b = append(b, locales[rng.IntN(len(locales))]...)
	b = append(b, ',')
	b = append(b, countries[rng.IntN(len(countries))]...)
	b = append(b, ',')
	b = append(b, p.OldTiers[rng.IntN(len(p.OldTiers))]...)
	b = append(b, ',')
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
	if p.HasTracks() {
		b = append(b, ',', '"')
		b = appendLevels(b, rng, p.Tracks)
		b = append(b, '"')
	}
	return append(b, '\n')
}

// appendLevels writes "Track:Tier|..." for a random non-empty subset of the
// tracks, each at one of its old tiers. Programs without tracks draw
// nothing here, so their files stay the same for the same seed.
func appendLevels(b []byte, rng *rand.Rand, tracks []program.Track) []byte {
	first := rng.IntN(len(tracks)) // always held, so every partner is evaluated somewhere
	sep := false
	for i, t := range tracks {
		if i != first && rng.IntN(3) == 0 {
			continue
		}
		if sep {
			b = append(b, '|')
		}
		sep = true
		b = append(b, t.Name...)
		b = append(b, ':')
		b = append(b, t.OldTiers[rng.IntN(len(t.OldTiers))]...)
	}
	return b
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
