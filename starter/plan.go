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
	"github.com/tiershift/tiershift/zones"
)

type planOptions struct {
	program     string
	partners    string
	at          string
	launch      string
	format      string
	encoding    string
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
the expected tier, and its deadline for a launch on --launch (default
--at): the end of the grace period's last day in the program's zone,
written in the partner's zone and naming it; then totals per outcome and
per new tier.

For a program with tracks, each partner has one line per track it holds a
level in (the partner file's tracks column), with a TRACK column, and the
totals are given per track.

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
	f.StringVar(&o.launch, "launch", "", "launch date the deadlines are counted from, RFC3339 or 2006-01-02 (default --at)")
	f.StringVar(&o.format, "format", "table", "output format: table, json or csv")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "forecast the valid partners and list the invalid ones on stderr")
	encodingFlag(f, &o.encoding)
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
	// Early returns still show what was written; the normal path checks
	// Flush's error below.
	defer func() { _ = errw.Flush() }()

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
	launch := at
	if o.launch != "" {
		if launch, err = planParseAt(o.launch, now); err != nil {
			flagErrs = append(flagErrs, strings.Replace(err.Error(), "--at", "--launch", 1))
		}
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
	idWidth, zoneWidth := len("PARTNER_ID"), len(zones.UTC)
	nInvalid, nHeader, err := scanPartners(o.partners, o.encoding, prog, errw, func(row partnerfile.Row, errs []*partnerfile.RowError) {
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
		if prog != nil {
			zoneWidth = max(zoneWidth, len(zones.ForPartner(row.TimeZone, row.Country, prog.TimeZone)))
		}
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
		w = newTableForecast(out, prog, idWidth, zoneWidth)
	}
	deadlines, err := newPlanDeadlines(prog, launch)
	if err != nil {
		return err
	}
	var dlBuf []time.Time
	tot := newPlanTotals(prog)
	if err := w.begin(prog, at); err != nil {
		return err
	}
	var evalErr error
	tps := prog.TrackPrograms()
	var evs []program.TrackEvaluation
	_, _, err = scanPartners(o.partners, o.encoding, prog, nil, func(row partnerfile.Row, errs []*partnerfile.RowError) {
		if len(errs) > 0 || evalErr != nil {
			return
		}
		evs, err = program.EvaluateTracks(evs, tps, row.Tier, row.Tracks, row.Facts)
		if err != nil {
			evalErr = fmt.Errorf("%s:%d: %w", row.File, row.Line, err)
			return
		}
		dl, err := deadlines.forRow(dlBuf, row, evs)
		if err != nil {
			evalErr = err
			return
		}
		dlBuf = dl.at
		tot.add(evs)
		if err := w.row(row, evs, dl); err != nil {
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
// The reader's notice (a guessed encoding) goes to notice, when not nil.
func scanPartners(path, encoding string, prog *program.Program, notice io.Writer, fn func(partnerfile.Row, []*partnerfile.RowError)) (invalid, header int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	rd, err := partnerfile.NewReaderWith(f, path, partnerfile.Options{Encoding: encoding})
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
	if n := rd.Notice(); n != "" && notice != nil {
		fmt.Fprintln(notice, n)
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

// planTotals counts, per track (one for a program without tracks),
// outcomes and new tiers in a fixed order.
type planTotals struct {
	tracks   []*planTrackTotals
	partners int
	// untracked counts the partners of a program with tracks that hold a
	// level in none of them, so were not evaluated.
	untracked int
}

// planTrackTotals are one track's totals; name is empty for a program
// without tracks.
type planTrackTotals struct {
	name     string
	outcomes map[program.Outcome]int
	tiers    []string
	perTier  []int
	partners int
	prog     *program.Program
}

var planOutcomes = []program.Outcome{program.OutcomePromoted, program.OutcomeKept, program.OutcomeDemoted}

func newPlanTotals(p *program.Program) *planTotals {
	t := &planTotals{}
	for _, tp := range p.TrackPrograms() {
		tt := &planTrackTotals{name: tp.Name, outcomes: map[program.Outcome]int{}, prog: tp.Program, tiers: []string{tp.Fallback}}
		for _, tier := range tp.Tiers {
			tt.tiers = append(tt.tiers, tier.Name)
		}
		tt.perTier = make([]int, len(tt.tiers))
		t.tracks = append(t.tracks, tt)
	}
	return t
}

func (t *planTotals) add(evs []program.TrackEvaluation) {
	t.partners++
	if len(evs) == 0 {
		t.untracked++
	}
	i := 0
	for _, ev := range evs {
		// evs is in program order, like t.tracks.
		for t.tracks[i].name != ev.Track {
			i++
		}
		tt := t.tracks[i]
		tt.partners++
		tt.outcomes[ev.Outcome]++
		if r := tt.prog.TierRank(ev.NewTier); r >= 0 {
			tt.perTier[r]++
		}
	}
}

type planWriter interface {
	begin(p *program.Program, at time.Time) error
	// row writes a partner's evaluations: one for a program without
	// tracks, one per track it holds otherwise (possibly none), with the
	// deadline of each.
	row(r partnerfile.Row, evs []program.TrackEvaluation, dl planDeadline) error
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
// aligns the same way. A program with tracks gets a TRACK column after the
// partner ID.
type planTable struct {
	out      *bufio.Writer
	tw       *tabwriter.Writer
	widths   []int
	tracked  bool
	buf      []byte
	n        int
	currency string
}

func newTableForecast(out *bufio.Writer, p *program.Program, idWidth, zoneWidth int) *planTable {
	t := &planTable{out: out, tw: tabwriter.NewWriter(out, 0, 0, 2, ' ', 0), currency: p.Currency, tracked: p.HasTracks()}
	tierW := len("EXPECTED_TIER")
	trackW := len("TRACK")
	for _, tr := range p.TrackList() {
		trackW = max(trackW, utf8.RuneCountInString(tr.Name))
		for _, n := range tr.OldTiers {
			tierW = max(tierW, utf8.RuneCountInString(n))
		}
		tierW = max(tierW, utf8.RuneCountInString(tr.Fallback))
		for _, tier := range tr.Tiers {
			tierW = max(tierW, utf8.RuneCountInString(tier.Name))
		}
	}
	t.widths = []int{idWidth}
	if t.tracked {
		t.widths = append(t.widths, trackW)
	}
	t.widths = append(t.widths, tierW, tierW, tierW, len("PROMOTED"), len(planTableDeadline(time.Time{}, ""))+zoneWidth)
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
	var b []byte
	if t.tracked {
		b = t.cells(nil, "PARTNER_ID", "TRACK", "OLD_TIER", "EXPECTED_TIER", "NEW_TIER", "OUTCOME", "DEADLINE")
	} else {
		b = t.cells(nil, "PARTNER_ID", "OLD_TIER", "EXPECTED_TIER", "NEW_TIER", "OUTCOME", "DEADLINE")
	}
	b = append(b, "MISSING\n"...)
	_, err := t.tw.Write(b)
	return err
}

func (t *planTable) row(r partnerfile.Row, evs []program.TrackEvaluation, dl planDeadline) error {
	b := t.buf[:0]
	for i := range evs {
		ev := &evs[i]
		deadline := dl.tableText(i)
		if t.tracked {
			b = t.cells(b, r.PartnerID, ev.Track, ev.OldTier, ev.ExpectedTier, ev.NewTier, string(ev.Outcome), deadline)
		} else {
			b = t.cells(b, r.PartnerID, ev.OldTier, ev.ExpectedTier, ev.NewTier, string(ev.Outcome), deadline)
		}
		if len(ev.Missing) == 0 {
			b = append(b, '-')
		} else {
			b = planAppendMissing(b, ev.Missing, t.currency)
		}
		b = append(b, '\n')
	}
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
	for _, tt := range tot.tracks {
		prefix := ""
		if t.tracked {
			fmt.Fprintf(tw, "track\t%s\t%d partners\t\n", tt.name, tt.partners)
			prefix = tt.name + " "
		}
		for _, o := range planOutcomes {
			fmt.Fprintf(tw, "%soutcome\t%s\t%d\t\n", prefix, o, tt.outcomes[o])
		}
		for i, name := range tt.tiers {
			fmt.Fprintf(tw, "%snew tier\t%s\t%d\t\n", prefix, name, tt.perTier[i])
		}
	}
	if t.tracked {
		fmt.Fprintf(tw, "in no track\t\t%d partners\t\n", tot.untracked)
	}
	return tw.Flush()
}

// planCSV writes RFC 4180 rows with "#" comment lines around them; a
// program with tracks gets a track column after partner_id.
type planCSV struct {
	out      *bufio.Writer
	currency string
	tracked  bool
	buf      []byte
	miss     []byte
}

func (c *planCSV) begin(p *program.Program, at time.Time) error {
	fmt.Fprintf(c.out, "# forecast for %s at %s\n", p.ID, at.Format(time.RFC3339))
	c.tracked = p.HasTracks()
	if c.tracked {
		_, err := c.out.WriteString("partner_id,track,old_tier,expected_tier,new_tier,outcome,missing,deadline,time_zone\n")
		return err
	}
	_, err := c.out.WriteString("partner_id,old_tier,expected_tier,new_tier,outcome,missing,deadline,time_zone\n")
	return err
}

// planAppendCSVField quotes a field when it needs to, like encoding/csv,
// after csvCell (the formula rule every CSV of the starter follows).
func planAppendCSVField(b []byte, s string) []byte {
	s = csvCell(s)
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

func (c *planCSV) row(r partnerfile.Row, evs []program.TrackEvaluation, dl planDeadline) error {
	b := c.buf[:0]
	for i := range evs {
		ev := &evs[i]
		b = planAppendCSVField(b, r.PartnerID)
		b = append(b, ',')
		if c.tracked {
			b = planAppendCSVField(b, ev.Track)
			b = append(b, ',')
		}
		for _, s := range []string{ev.OldTier, ev.ExpectedTier, ev.NewTier, string(ev.Outcome)} {
			b = planAppendCSVField(b, s)
			b = append(b, ',')
		}
		c.miss = planAppendMissing(c.miss[:0], ev.Missing, c.currency)
		b = planAppendCSVField(b, string(c.miss))
		b = append(b, ',')
		b = dl.at[i].AppendFormat(b, time.RFC3339)
		b = append(b, ',')
		b = planAppendCSVField(b, dl.zone)
		b = append(b, '\n')
	}
	c.buf = b
	_, err := c.out.Write(b)
	return err
}

func (c *planCSV) end(tot *planTotals) error {
	fmt.Fprintf(c.out, "# total partners: %d\n", tot.partners)
	for _, tt := range tot.tracks {
		prefix := "# total "
		if c.tracked {
			fmt.Fprintf(c.out, "# total track %s partners: %d\n", tt.name, tt.partners)
			prefix = "# total track " + tt.name + " "
		}
		for _, o := range planOutcomes {
			fmt.Fprintf(c.out, "%soutcome %s: %d\n", prefix, o, tt.outcomes[o])
		}
		for i, name := range tt.tiers {
			fmt.Fprintf(c.out, "%snew tier %s: %d\n", prefix, name, tt.perTier[i])
		}
	}
	if c.tracked {
		fmt.Fprintf(c.out, "# total in no track: %d\n", tot.untracked)
	}
	return nil
}

// planJSON streams one JSON object: the partners array is written one
// element at a time. A program with tracks gives each partner a tracks
// array and the totals a tracks array, both in program order.
type planJSON struct {
	out     *bufio.Writer
	enc     *json.Encoder
	n       int
	tracked bool
}

// planJSONOutcome is one evaluation as plan's JSON gives it, for a partner
// of a program without tracks or for one track of a partner.
type planJSONOutcome struct {
	OldTier       string            `json:"old_tier"`
	ExpectedTier  string            `json:"expected_tier"`
	NewTier       string            `json:"new_tier"`
	Outcome       program.Outcome   `json:"outcome"`
	MeetsExpected bool              `json:"meets_expected"`
	Missing       []program.Missing `json:"missing"`
}

func newPlanJSONOutcome(ev program.Evaluation) planJSONOutcome {
	m := ev.Missing
	if m == nil {
		m = []program.Missing{}
	}
	return planJSONOutcome{OldTier: ev.OldTier, ExpectedTier: ev.ExpectedTier, NewTier: ev.NewTier,
		Outcome: ev.Outcome, MeetsExpected: ev.MeetsExpected, Missing: m}
}

// planJSONPartner is a partner of a program without tracks.
type planJSONPartner struct {
	PartnerID string `json:"partner_id"`
	planJSONOutcome
	planJSONDeadline
}

// planJSONDeadline is a deadline in the partner's zone, with its offset
// ("2010-01-14T23:59:59+01:00"), and the zone's name.
type planJSONDeadline struct {
	Deadline string `json:"deadline"`
	TimeZone string `json:"time_zone"`
}

func newPlanJSONDeadline(at time.Time, zone string) planJSONDeadline {
	return planJSONDeadline{Deadline: at.Format(time.RFC3339), TimeZone: zone}
}

// planJSONTrack is one track's outcome for a partner.
type planJSONTrack struct {
	Track string `json:"track"`
	planJSONOutcome
	planJSONDeadline
}

// planJSONTracked is a partner of a program with tracks.
type planJSONTracked struct {
	PartnerID string          `json:"partner_id"`
	Tier      string          `json:"tier"`
	Tracks    []planJSONTrack `json:"tracks"`
}

func planJSONString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

func (j *planJSON) begin(p *program.Program, at time.Time) error {
	j.enc = json.NewEncoder(j.out)
	j.tracked = p.HasTracks()
	j.out.WriteString(`{"at":`)
	j.out.Write(planJSONString(at.Format(time.RFC3339)))
	j.out.WriteString(`,"program":`)
	j.out.Write(planJSONString(p.ID))
	_, err := j.out.WriteString(`,"partners":[` + "\n")
	return err
}

func (j *planJSON) row(r partnerfile.Row, evs []program.TrackEvaluation, dl planDeadline) error {
	if j.n > 0 {
		j.out.WriteByte(',')
	}
	j.n++
	if !j.tracked {
		return j.enc.Encode(planJSONPartner{PartnerID: r.PartnerID, planJSONOutcome: newPlanJSONOutcome(evs[0].Evaluation),
			planJSONDeadline: newPlanJSONDeadline(dl.at[0], dl.zone)})
	}
	p := planJSONTracked{PartnerID: r.PartnerID, Tier: r.Tier, Tracks: make([]planJSONTrack, len(evs))}
	for i, ev := range evs {
		p.Tracks[i] = planJSONTrack{Track: ev.Track, planJSONOutcome: newPlanJSONOutcome(ev.Evaluation),
			planJSONDeadline: newPlanJSONDeadline(dl.at[i], dl.zone)}
	}
	return j.enc.Encode(p)
}

// writeTrackTotals writes {"outcome":{...},"new_tier":{...}, without the
// closing brace, for one track.
func (j *planJSON) writeTrackTotals(tt *planTrackTotals) {
	j.out.WriteString(`"outcome":{`)
	for i, o := range planOutcomes {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.Write(planJSONString(string(o)))
		j.out.WriteByte(':')
		j.out.WriteString(strconv.Itoa(tt.outcomes[o]))
	}
	j.out.WriteString(`},"new_tier":{`)
	for i, name := range tt.tiers {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.Write(planJSONString(name))
		j.out.WriteByte(':')
		j.out.WriteString(strconv.Itoa(tt.perTier[i]))
	}
	j.out.WriteString(`}`)
}

func (j *planJSON) end(tot *planTotals) error {
	j.out.WriteString(`],"totals":{`)
	if !j.tracked {
		j.writeTrackTotals(tot.tracks[0])
		j.out.WriteString(`,"partners":` + strconv.Itoa(tot.partners) + "}}\n")
		return nil
	}
	j.out.WriteString(`"tracks":[`)
	for i, tt := range tot.tracks {
		if i > 0 {
			j.out.WriteByte(',')
		}
		j.out.WriteString(`{"track":`)
		j.out.Write(planJSONString(tt.name))
		j.out.WriteString(`,"partners":` + strconv.Itoa(tt.partners) + `,`)
		j.writeTrackTotals(tt)
		j.out.WriteByte('}')
	}
	j.out.WriteString(`],"in_no_track":` + strconv.Itoa(tot.untracked) + `,"partners":` + strconv.Itoa(tot.partners) + "}}\n")
	return nil
}
