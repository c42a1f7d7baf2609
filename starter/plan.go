package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
)

func init() { commands = append(commands, newPlanCmd) }

type planOptions struct {
	program     string
	partners    string
	at          string
	format      string
	skipInvalid bool
}

func newPlanCmd() *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan --program PROGRAM.yaml --partners PARTNERS.csv",
		Short: "Forecast every partner's new tier, without Temporal or a database",
		Long: `plan evaluates every partner of the partner file against the program's
rules as if its deadline were --at, and prints, per partner, the old, expected
and new tiers, the outcome (promoted, kept or demoted) and what is missing for
the expected tier, then totals per outcome and per new tier.

Every problem in the program and the partner file is listed on stderr and
nothing is forecast (exit 2), unless --skip-invalid is given: then invalid
partner rows are listed on stderr and the others are forecast.

The output streams: a million partners need little memory. The csv format
writes "#" comment lines for the date and totals (csv readers can skip them
with their comment option).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPlan(cmd.OutOrStdout(), cmd.ErrOrStderr(), o, time.Now)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.program, "program", "", "program file (YAML)")
	f.StringVar(&o.partners, "partners", "", "partner file (CSV)")
	f.StringVar(&o.at, "at", "", "forecast date, RFC3339 or 2006-01-02 (default now); echoed in the output")
	f.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "forecast the valid partners and list the invalid ones on stderr")
	_ = cmd.MarkFlagRequired("program")
	_ = cmd.MarkFlagRequired("partners")
	return cmd
}

// parseAt reads --at as RFC3339 or a plain date (midnight UTC).
func planParseAt(s string, now func() time.Time) (time.Time, error) {
	if s == "" {
		return now().UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q must be a date such as 2009-10-14 or 2009-10-14T09:00:00Z", s)
}

func runPlan(stdout, stderr io.Writer, o planOptions, now func() time.Time) error {
	errw := bufio.NewWriter(stderr)
	defer errw.Flush()

	var flagErrs []string
	switch o.format {
	case "table", "json", "csv":
	default:
		flagErrs = append(flagErrs, fmt.Sprintf("--format %q must be table, json or csv", o.format))
	}
	at, err := planParseAt(o.at, now)
	if err != nil {
		flagErrs = append(flagErrs, err.Error())
	}
	if len(flagErrs) > 0 {
		return badInputf("%s", strings.Join(flagErrs, "\n"))
	}

	// Program: every problem is listed, and the partner file is still
	// checked so that one run shows everything to fix.
	nProblems := 0
	var prog *program.Program
	data, err := os.ReadFile(o.program)
	if err != nil {
		fmt.Fprintln(errw, err)
		nProblems++
	} else if prog, err = program.Load(o.program, data); err != nil {
		var probs program.Problems
		if errors.As(err, &probs) {
			for _, p := range probs {
				fmt.Fprintln(errw, p.Error())
			}
			nProblems += len(probs)
		} else {
			fmt.Fprintln(errw, err)
			nProblems++
		}
	}

	// Pass 1: validate every row; nothing goes to stdout yet.
	idWidth := len("PARTNER_ID")
	nInvalid, nHeader, err := scanPartners(o.partners, prog, func(row partnerfile.Row, errs []*partnerfile.RowError) {
		if len(errs) > 0 {
			for _, e := range errs {
				if o.skipInvalid {
					errw.WriteString("skipped: ")
				}
				errw.WriteString(e.Error())
				errw.WriteByte('\n')
			}
			return
		}
		idWidth = max(idWidth, utf8.RuneCountInString(row.PartnerID))
	})
	if err != nil {
		fmt.Fprintln(errw, err)
		nProblems++
	}
	nProblems += nHeader
	if prog == nil && nHeader == 0 {
		fmt.Fprintln(errw, "note: partner rows were not checked against the program (tiers, certifications, competencies, modules) because the program has problems")
	}
	if nProblems > 0 || (nInvalid > 0 && !o.skipInvalid) {
		return badInputf("%d problem(s) in the program or the partner file's header and %d invalid partner row(s); nothing was forecast", nProblems, nInvalid)
	}
	if nInvalid > 0 {
		fmt.Fprintf(errw, "skipped %d invalid partner row(s)\n", nInvalid)
	}
	if err := errw.Flush(); err != nil {
		return err
	}

	// Pass 2: evaluate and stream the forecast.
	out := bufio.NewWriterSize(stdout, 256<<10)
	var w planWriter
	switch o.format {
	case "json":
		w = &planJSON{out: out}
	case "csv":
		w = &planCSV{out: out, currency: prog.Currency}
	default:
		w = newTableForecast(out, prog, idWidth)
	}
	tot := newPlanTotals(prog)
	if err := w.begin(prog, at); err != nil {
		return err
	}
	var evalErr error
	_, _, err = scanPartners(o.partners, prog, func(row partnerfile.Row, errs []*partnerfile.RowError) {
		if len(errs) > 0 || evalErr != nil {
			return
		}
		ev, err := prog.Evaluate(row.Tier, row.Facts)
		if err != nil {
			evalErr = err
			return
		}
		tot.add(ev)
		if err := w.row(row, ev); err != nil {
			evalErr = err
		}
	})
	if err == nil {
		err = evalErr
	}
	if err != nil {
		return err
	}
	if err := w.end(tot); err != nil {
		return err
	}
	return out.Flush()
}

// scanPartners reads the partner file through a partnerfile.Reader checked
// against prog (when known) and calls fn with each row and all its
// problems; header problems come in one call with an empty row. It returns
// the number of invalid rows, the number of header problems, and any fatal
// error. plan and preview both read through it, and import through the same
// Reader, so the three refuse the same rows with the same messages.
func scanPartners(path string, prog *program.Program, fn func(partnerfile.Row, []*partnerfile.RowError)) (invalid, header int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rd, err := partnerfile.NewReader(f, path)
	if err != nil {
		if errs := partnerfile.Errors(err); errs != nil {
			fn(partnerfile.Row{}, errs)
			return 0, len(errs), nil
		}
		return 0, 0, err
	}
	if prog != nil {
		rd.CheckWith(prog)
	}
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return invalid, 0, nil
		}
		var errs []*partnerfile.RowError
		if err != nil {
			if errs = partnerfile.Errors(err); errs == nil {
				return invalid, 0, err
			}
			invalid++
		}
		fn(row, errs)
	}
}

// totals counts outcomes and new tiers in a fixed order.
type planTotals struct {
	outcomes map[program.Outcome]int
	tiers    []string
	perTier  []int
	partners int
	prog     *program.Program
}

var planOutcomes = []program.Outcome{program.OutcomePromoted, program.OutcomeKept, program.OutcomeDemoted}

func newPlanTotals(p *program.Program) *planTotals {
	t := &planTotals{outcomes: map[program.Outcome]int{}, prog: p, tiers: []string{p.Fallback}}
	for _, tier := range p.Tiers {
		t.tiers = append(t.tiers, tier.Name)
	}
	t.perTier = make([]int, len(t.tiers))
	return t
}

func (t *planTotals) add(ev program.Evaluation) {
	t.partners++
	t.outcomes[ev.Outcome]++
	if r := t.prog.TierRank(ev.NewTier); r >= 0 {
		t.perTier[r]++
	}
}

type planWriter interface {
	begin(p *program.Program, at time.Time) error
	row(r partnerfile.Row, ev program.Evaluation) error
	end(t *planTotals) error
}

// planAppendMissing renders missing items for people: "VTSP certification 1/2",
// "revenue 5000/10000 USD", "2 of [A, B, C] (have 1)", joined by "; ".
func planAppendMissing(b []byte, ms []program.Missing, currency string) []byte {
	for i, m := range ms {
		if i > 0 {
			b = append(b, "; "...)
		}
		switch m.Kind {
		case program.MissingCertification:
			b = append(b, m.Name...)
			b = append(b, " certification "...)
			b = strconv.AppendInt(b, m.Have, 10)
			b = append(b, '/')
			b = strconv.AppendInt(b, m.Need, 10)
		case program.MissingCompetency, program.MissingModule:
			b = append(b, m.Name...)
			b = append(b, ' ')
			b = append(b, m.Kind...)
		case program.MissingRevenue:
			b = append(b, "revenue "...)
			b = append(b, program.Money(m.Have).String()...)
			b = append(b, '/')
			b = append(b, program.Money(m.Need).String()...)
			if currency != "" {
				b = append(b, ' ')
				b = append(b, currency...)
			}
		case program.MissingPoints:
			b = append(b, "points "...)
			b = strconv.AppendInt(b, m.Have, 10)
			b = append(b, '/')
			b = strconv.AppendInt(b, m.Need, 10)
		case program.MissingChoice:
			b = strconv.AppendInt(b, m.Need, 10)
			b = append(b, " of ["...)
			b = append(b, strings.Join(m.Options, ", ")...)
			b = append(b, "] (have "...)
			b = strconv.AppendInt(b, m.Have, 10)
			b = append(b, ')')
		default:
			b = append(b, m.Name...)
		}
	}
	return b
}

// planTable aligns columns with text/tabwriter. The tabwriter is flushed
// every few thousand rows to keep memory flat, so cells are padded to widths
// known in advance (from the program and the first pass) and every chunk
// aligns the same way.
type planTable struct {
	out      *bufio.Writer
	tw       *tabwriter.Writer
	widths   [5]int
	buf      []byte
	n        int
	currency string
}

func newTableForecast(out *bufio.Writer, p *program.Program, idWidth int) *planTable {
	t := &planTable{out: out, tw: tabwriter.NewWriter(out, 0, 0, 2, ' ', 0), currency: p.Currency}
	tierW := len("EXPECTED_TIER")
	for _, n := range p.OldTiers {
		tierW = max(tierW, utf8.RuneCountInString(n))
	}
	tierW = max(tierW, utf8.RuneCountInString(p.Fallback))
	for _, tier := range p.Tiers {
		tierW = max(tierW, utf8.RuneCountInString(tier.Name))
	}
	t.widths = [5]int{idWidth, tierW, tierW, tierW, len("PROMOTED")}
	return t
}

func (t *planTable) cells(b []byte, cells ...string) []byte {
	for i, c := range cells {
		b = append(b, c...)
		if i < len(t.widths) {
			for n := utf8.RuneCountInString(c); n < t.widths[i]; n++ {
				b = append(b, ' ')
			}
		}
		b = append(b, '\t')
	}
	return b
}

func (t *planTable) begin(p *program.Program, at time.Time) error {
	fmt.Fprintf(t.out, "Forecast for %s (%s) at %s\n\n", p.Name, p.ID, at.Format(time.RFC3339))
	b := t.cells(nil, "PARTNER_ID", "OLD_TIER", "EXPECTED_TIER", "NEW_TIER", "OUTCOME")
	b = append(b, "MISSING\n"...)
	_, err := t.tw.Write(b)
	return err
}

func (t *planTable) row(r partnerfile.Row, ev program.Evaluation) error {
	b := t.cells(t.buf[:0], r.PartnerID, ev.OldTier, ev.ExpectedTier, ev.NewTier, string(ev.Outcome))
	if len(ev.Missing) == 0 {
		b = append(b, '-')
	} else {
		b = planAppendMissing(b, ev.Missing, t.currency)
	}
	b = append(b, '\n')
	t.buf = b
	if _, err := t.tw.Write(b); err != nil {
		return err
	}
	t.n++
	if t.n%4096 == 0 {
		return t.tw.Flush()
	}
	return nil
}

func (t *planTable) end(tot *planTotals) error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(t.out, "\nTotals (%d partners)\n", tot.partners)
	for _, o := range planOutcomes {
		fmt.Fprintf(tw, "outcome\t%s\t%d\t\n", o, tot.outcomes[o])
	}
	for i, name := range tot.tiers {
		fmt.Fprintf(tw, "new tier\t%s\t%d\t\n", name, tot.perTier[i])
	}
	return tw.Flush()
}

// planCSV writes RFC 4180 rows with "#" comment lines around them.
type planCSV struct {
	out      *bufio.Writer
	currency string
	buf      []byte
	miss     []byte
}

func (c *planCSV) begin(p *program.Program, at time.Time) error {
	fmt.Fprintf(c.out, "# forecast for %s at %s\n", p.ID, at.Format(time.RFC3339))
	_, err := c.out.WriteString("partner_id,old_tier,expected_tier,new_tier,outcome,missing\n")
	return err
}

// planAppendCSVField quotes a field when it needs to, like encoding/csv.
func planAppendCSVField(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '#' {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func (c *planCSV) row(r partnerfile.Row, ev program.Evaluation) error {
	b := c.buf[:0]
	for _, s := range []string{r.PartnerID, ev.OldTier, ev.ExpectedTier, ev.NewTier, string(ev.Outcome)} {
		b = planAppendCSVField(b, s)
		b = append(b, ',')
	}
	c.miss = planAppendMissing(c.miss[:0], ev.Missing, c.currency)
	b = planAppendCSVField(b, string(c.miss))
	b = append(b, '\n')
	c.buf = b
	_, err := c.out.Write(b)
	return err
}

func (c *planCSV) end(tot *planTotals) error {
	fmt.Fprintf(c.out, "# total partners: %d\n", tot.partners)
	for _, o := range planOutcomes {
		fmt.Fprintf(c.out, "# total outcome %s: %d\n", o, tot.outcomes[o])
	}
	for i, name := range tot.tiers {
		fmt.Fprintf(c.out, "# total new tier %s: %d\n", name, tot.perTier[i])
	}
	return nil
}

// planJSON streams one JSON object: the partners array is written one
// element at a time.
type planJSON struct {
	out *bufio.Writer
	enc *json.Encoder
	n   int
}

type planJSONPartner struct {
	PartnerID     string            `json:"partner_id"`
	OldTier       string            `json:"old_tier"`
	ExpectedTier  string            `json:"expected_tier"`
	NewTier       string            `json:"new_tier"`
	Outcome       program.Outcome   `json:"outcome"`
	MeetsExpected bool              `json:"meets_expected"`
	Missing       []program.Missing `json:"missing"`
}

func planJSONString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func (j *planJSON) begin(p *program.Program, at time.Time) error {
	j.enc = json.NewEncoder(j.out)
	j.out.WriteString(`{"at":`)
	j.out.Write(planJSONString(at.Format(time.RFC3339)))
	j.out.WriteString(`,"program":`)
	j.out.Write(planJSONString(p.ID))
	_, err := j.out.WriteString(`,"partners":[` + "\n")
	return err
}

func (j *planJSON) row(r partnerfile.Row, ev program.Evaluation) error {
	if j.n > 0 {
		j.out.WriteByte(',')
	}
	j.n++
	missing := ev.Missing
	if missing == nil {
		missing = []program.Missing{}
	}
	return j.enc.Encode(planJSONPartner{PartnerID: r.PartnerID, OldTier: ev.OldTier, ExpectedTier: ev.ExpectedTier,
		NewTier: ev.NewTier, Outcome: ev.Outcome, MeetsExpected: ev.MeetsExpected, Missing: missing})
}

func (j *planJSON) end(tot *planTotals) error {
	j.out.WriteString(`],"totals":{"outcome":{`)
	for i, o := range planOutcomes {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.Write(planJSONString(string(o)))
		j.out.WriteByte(':')
		j.out.WriteString(strconv.Itoa(tot.outcomes[o]))
	}
	j.out.WriteString(`},"new_tier":{`)
	for i, name := range tot.tiers {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.Write(planJSONString(name))
		j.out.WriteByte(':')
		j.out.WriteString(strconv.Itoa(tot.perTier[i]))
	}
	j.out.WriteString(`},"partners":` + strconv.Itoa(tot.partners) + "}}\n")
	return nil
}
