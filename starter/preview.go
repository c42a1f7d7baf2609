package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

type previewOptions struct {
	programFile  string
	partnersFile string
	partnerID    string
	kind         string
	locale       string
	outcome      string
	htmlFile     string
	at           string
	launch       string
	encoding     string
}

func newPreviewCmd() *cobra.Command {
	var o previewOptions
	cmd := &cobra.Command{
		Use:   "preview --program P.yaml --partners PARTNERS.csv --partner ID --kind KIND",
		Short: "Show the email one partner would receive, rendered exactly as the workflow would",
		Long: `Preview loads the program and the partner file, evaluates one partner the way
its workflow will, builds the email's data with the same helper (email.DataFor)
and renders it. It prints the subject and the plain text, and writes the HTML
to --html when asked. Nothing is sent and nothing is written to the database.

Dates: --launch is the campaign's launch (default: today, midnight UTC); --at
is when the email is decided (default: the launch for announcement and
qualified, the first reminder for reminder, the deadline for outcome and
extended). An extended email previews a one-month extension.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPreview(cmd.OutOrStdout(), cmd.ErrOrStderr(), o, time.Now())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.programFile, "program", "", "program file (YAML)")
	f.StringVar(&o.partnersFile, "partners", "", "partner file (CSV)")
	partnerFlag(f, &o.partnerID, "ID of the partner to preview")
	f.StringVar(&o.kind, "kind", "", "email kind: "+kindNames())
	f.StringVar(&o.locale, "locale", "", "locale (default: the partner's); supported: "+strings.Join(email.Locales, ", "))
	f.StringVar(&o.outcome, "outcome", "", "outcome emails: promoted, kept or demoted (default: what the partner's facts give)")
	f.StringVar(&o.htmlFile, "html", "", "write the HTML part to this file")
	f.StringVar(&o.at, "at", "", "when the email is decided (YYYY-MM-DD or RFC 3339)")
	f.StringVar(&o.launch, "launch", "", "campaign launch date (YYYY-MM-DD or RFC 3339; default today)")
	encodingFlag(f, &o.encoding)
	for _, name := range []string{"program", "partners", "partner", "kind"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func kindNames() string {
	names := make([]string, len(email.Kinds))
	for i, k := range email.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func runPreview(out, errOut io.Writer, o previewOptions, now time.Time) error {
	kind, err := email.ParseKind(o.kind)
	if err != nil {
		return badInput(err)
	}
	if o.locale != "" && !email.Supported(o.locale) {
		return badInputf("unsupported locale %q (supported: %s)", o.locale, strings.Join(email.Locales, ", "))
	}
	var forced program.Outcome
	switch program.Outcome(o.outcome) {
	case "":
	case program.OutcomePromoted, program.OutcomeKept, program.OutcomeDemoted:
		if kind != email.KindOutcome {
			return badInputf("--outcome only applies to --kind outcome")
		}
		forced = program.Outcome(o.outcome)
	default:
		return badInputf("unknown outcome %q (want promoted, kept or demoted)", o.outcome)
	}
	launch := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if o.launch != "" {
		if launch, err = parseWhen(o.launch); err != nil {
			return badInputf("--launch: %v", err)
		}
	}
	var at time.Time
	if o.at != "" {
		if at, err = parseWhen(o.at); err != nil {
			return badInputf("--at: %v", err)
		}
	}

	src, err := os.ReadFile(o.programFile)
	if err != nil {
		return badInputf("program: %v", err)
	}
	p, err := program.Load(o.programFile, src)
	if err != nil {
		return badInput(err)
	}
	if err := email.ValidateOverrides(p.Emails); err != nil {
		return badInputf("%s: %v", o.programFile, err)
	}
	row, err := findPartner(errOut, o.partnersFile, o.encoding, p, o.partnerID)
	if err != nil {
		return err
	}

	if p.HasTracks() {
		return previewTracks(out, o, p, row, kind, forced, launch, at)
	}
	ev, err := p.Evaluate(row.Tier, row.Facts)
	if err != nil {
		return badInputf("partner %s: %v", row.PartnerID, err)
	}
	// As a transition sets it: the end of the day in the program's zone.
	loc, err := zones.Load(cmp.Or(p.TimeZone, zones.UTC))
	if err != nil {
		return badInputf("%s: %v", o.programFile, err)
	}
	deadline, err := p.DeadlineIn(row.Tier, launch, loc)
	if err != nil {
		return badInputf("partner %s: %v", row.PartnerID, err)
	}
	var previous time.Time
	if kind == email.KindExtended {
		previous, deadline = deadline, program.Duration{Months: 1}.EndOfDayFrom(deadline, loc)
	}
	if at.IsZero() {
		at = defaultPreviewTime(p, kind, launch, deadline, previous)
	}
	if forced != "" {
		ev = forceOutcome(p, ev, forced)
	}

	d := email.DataFor(p, "preview", row.PartnerID, row.Name, ev, deadline, at)
	d.PreviousDeadline = previous
	d.TimeZone = zones.ForPartner(row.TimeZone, row.Country, p.TimeZone)
	return previewWrite(out, o, row, kind, d, p.Emails, deadline, []string{fmt.Sprintf("%s, %s -> %s (expected %s)", ev.Outcome, ev.OldTier, ev.NewTier, ev.ExpectedTier)})
}

// previewTracks previews the email of a partner of a program with tracks:
// each track it holds is evaluated (and, with --outcome, forced) on its
// own ladder, and its deadline is the latest of its tracks'. findPartner
// has already checked its tracks against the program.
func previewTracks(out io.Writer, o previewOptions, p *program.Program, row partnerfile.Row, kind email.Kind, forced program.Outcome, launch, at time.Time) error {
	tps := p.TrackPrograms()
	evs, err := program.EvaluateTracks(nil, tps, row.Tier, row.Tracks, row.Facts)
	if err != nil {
		return badInputf("partner %s: %v", row.PartnerID, err)
	}
	if len(evs) == 0 {
		return badInputf("partner %s holds a level in no track of program %s, so no email would be sent", row.PartnerID, p.ID)
	}
	loc, err := zones.Load(cmp.Or(p.TimeZone, zones.UTC))
	if err != nil {
		return badInputf("%s: %v", o.programFile, err)
	}
	var deadline time.Time
	forecast := make([]string, len(evs))
	for i := range evs {
		tp, _ := p.TrackProgram(evs[i].Track)
		dl, err := tp.DeadlineIn(evs[i].OldTier, launch, loc)
		if err != nil {
			return badInputf("partner %s: track %s: %v", row.PartnerID, evs[i].Track, err)
		}
		if dl.After(deadline) {
			deadline = dl
		}
		if forced != "" {
			evs[i].Evaluation = forceOutcome(tp.Program, evs[i].Evaluation, forced)
		}
		ev := evs[i]
		forecast[i] = fmt.Sprintf("%s: %s, %s -> %s (expected %s)", ev.Track, ev.Outcome, ev.OldTier, ev.NewTier, ev.ExpectedTier)
	}
	var previous time.Time
	if kind == email.KindExtended {
		previous, deadline = deadline, program.Duration{Months: 1}.EndOfDayFrom(deadline, loc)
	}
	if at.IsZero() {
		at = defaultPreviewTime(p, kind, launch, deadline, previous)
	}
	d := email.DataForTracks(p, "preview", row.PartnerID, row.Name, evs, deadline, at)
	d.PreviousDeadline = previous
	d.TimeZone = zones.ForPartner(row.TimeZone, row.Country, p.TimeZone)
	return previewWrite(out, o, row, kind, d, p.Emails, deadline, forecast)
}

// previewWrite renders the email and prints it with its envelope and the
// forecast lines it was built from.
func previewWrite(out io.Writer, o previewOptions, row partnerfile.Row, kind email.Kind, d email.Data, settings program.Emails, deadline time.Time, forecast []string) error {
	locale := o.locale
	if locale == "" {
		locale = row.Locale
	}
	msg, err := email.Render(kind, locale, d, settings)
	if err != nil {
		return badInput(err)
	}

	fmt.Fprintf(out, "To:       %s <%s>\n", row.Name, row.Email)
	fmt.Fprintf(out, "Kind:     %s (locale %s)\n", kind, msg.Locale)
	fmt.Fprintf(out, "Deadline: %s\n", email.FormatDateIn(deadline, msg.Locale, d.TimeZone))
	for _, f := range forecast {
		fmt.Fprintf(out, "Forecast: %s\n", f)
	}
	if msg.TemplateID != "" {
		fmt.Fprintf(out, "SendGrid template: %s (SendGrid renders the message; below is tiershift's own rendering)\n", msg.TemplateID)
	}
	fmt.Fprintf(out, "Subject:  %s\n\n%s", msg.Subject, msg.Text)
	if o.htmlFile != "" {
		if err := os.WriteFile(o.htmlFile, []byte(msg.HTML), 0o644); err != nil {
			return fmt.Errorf("write HTML: %w", err)
		}
		fmt.Fprintf(out, "\nHTML written to %s\n", o.htmlFile)
	}
	return nil
}

// findPartner reads the whole partner file as plan and import do (same
// reader, same checks against the program, same messages on errOut) and
// returns the row of id. A file with any problem is refused, as plan and
// import refuse it: a preview must never show what a partner would receive
// from a file that cannot be imported.
func findPartner(errOut io.Writer, filename, encoding string, prog *program.Program, id string) (partnerfile.Row, error) {
	var found partnerfile.Row
	ok := false
	problems := 0
	invalid, header, err := scanPartners(filename, encoding, prog, errOut, func(row partnerfile.Row, errs []*partnerfile.RowError) {
		for _, e := range errs {
			fmt.Fprintln(errOut, e)
			problems++
		}
		if len(errs) == 0 && row.PartnerID == id {
			found, ok = row, true
		}
	})
	if err != nil {
		return found, badInputf("partners: %v", err)
	}
	if problems > 0 {
		return found, badInputf("%d problem(s) in the partner file's header and %d invalid partner row(s); nothing was previewed", header, invalid)
	}
	if !ok {
		return found, badInputf("partner %q is not in %s", id, filename)
	}
	return found, nil
}

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD or RFC 3339)", s)
	}
	return t.UTC(), nil
}

func defaultPreviewTime(p *program.Program, kind email.Kind, launch, deadline, previous time.Time) time.Time {
	switch kind {
	case email.KindReminder:
		if times := p.ReminderTimes(deadline); len(times) > 0 {
			return times[0]
		}
		return deadline.AddDate(0, 0, -7)
	case email.KindOutcome:
		return deadline
	case email.KindExtended:
		return previous
	default:
		return launch
	}
}

// forceOutcome shows what the outcome email says for another outcome than
// the partner's facts give.
func forceOutcome(p *program.Program, ev program.Evaluation, o program.Outcome) program.Evaluation {
	if ev.Outcome == o {
		return ev
	}
	ev.Outcome = o
	switch o {
	case program.OutcomeKept:
		ev.NewTier, ev.Missing = ev.ExpectedTier, nil
	case program.OutcomePromoted:
		ev.NewTier, ev.Missing = ev.ExpectedTier, nil
		// TierRank is 1-based for tiers, so Tiers[r] is the next one up.
		if r := p.TierRank(ev.ExpectedTier); r >= 1 && r < len(p.Tiers) {
			ev.NewTier = p.Tiers[r].Name
		}
	case program.OutcomeDemoted:
		ev.NewTier = p.Fallback
	}
	return ev
}
