package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

type statusOptions struct {
	campaign string
	partner  string
	watch    bool
	format   string
	interval time.Duration
}

// dueSoonLimit is how many upcoming deadlines the campaign status lists.
const dueSoonLimit = 10

func newStatusCmd() *cobra.Command {
	o := statusOptions{interval: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "status --campaign ID [--partner P] [--watch]",
		Short: "Show a campaign's progress, or where one partner's transition is",
		Long: `Without --partner, status shows the campaign from Postgres: enrollments by
stage and outcome, emails by status and the next deadlines. With --partner it
asks the partner's workflow (the status Query) for its stage, deadline, tiers,
what it still misses, reminders and outcome.

--watch redraws every 2 seconds until every enrollment is done (or Ctrl-C), then
prints the outcome summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runStatus(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	campaignFlag(f, &o.campaign)
	partnerFlag(f, &o.partner, "show this partner's workflow")
	f.BoolVar(&o.watch, "watch", false, "redraw every 2s until the campaign is done")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

func runStatus(ctx context.Context, out, errOut io.Writer, o statusOptions) error {
	if o.format != "table" && o.format != "json" {
		return badInputf("--format %q: want table or json", o.format)
	}
	env, err := openOps(ctx, errOut, o.partner != "")
	if err != nil {
		return err
	}
	defer env.Close()
	if o.partner != "" {
		if _, err := env.loadCampaign(ctx, o.campaign); err != nil {
			return err
		}
		return partnerStatus(ctx, env, out, o)
	}
	if _, err := env.st.GetCampaign(ctx, o.campaign); isStoreNotFound(err) {
		return badInputf("campaign %q does not exist", o.campaign)
	} else if err != nil {
		return err
	}
	if !o.watch {
		v, err := campaignView(ctx, env.st, o.campaign, time.Now())
		if err != nil {
			return err
		}
		return v.write(out, o.format)
	}
	return watchCampaign(ctx, env, out, o)
}

func partnerStatus(ctx context.Context, env *opsEnv, out io.Writer, o statusOptions) error {
	show := func() (workflows.Status, error) {
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var st workflows.Status
		v, err := env.tc.QueryWorkflow(qctx, workflows.WorkflowID(o.campaign, o.partner), "", workflows.QueryStatus)
		if isNotFound(err) {
			return st, badInputf("partner %q has no workflow in campaign %q (not enrolled, or the campaign is not launched)", o.partner, o.campaign)
		}
		if err != nil {
			return st, fmt.Errorf("query status of partner %q: %w", o.partner, err)
		}
		if err := v.Get(&st); err != nil {
			return st, fmt.Errorf("decode status of partner %q: %w", o.partner, err)
		}
		return st, nil
	}
	tty := isTerminalWriter(out)
	for {
		st, err := show()
		if err != nil {
			return err
		}
		if o.watch && tty {
			fmt.Fprint(out, "\033[H\033[2J")
		}
		if o.format == "json" {
			if err := writeJSON(out, st); err != nil {
				return err
			}
		} else {
			writePartnerStatus(out, st, time.Now())
		}
		if !o.watch || st.Stage == workflows.StageDone {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// writePartnerStatus prints a workflow's status for an operator.
func writePartnerStatus(out io.Writer, st workflows.Status, now time.Time) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Partner", st.PartnerID+" (campaign "+st.CampaignID+")")
	row("Stage", string(st.Stage))
	dl := fmtTime(st.Deadline)
	if !st.Deadline.IsZero() && st.Stage != workflows.StageDone {
		if d := st.Deadline.Sub(now); d > 0 {
			dl += fmt.Sprintf(" (in %s)", humanDuration(d))
		} else {
			dl += " (passed)"
		}
	}
	row("Deadline", dl)
	row("Tiers", fmt.Sprintf("old %s, expected %s, current %s", st.OldTier, st.ExpectedTier, orDash(st.CurrentTier)))
	if st.MeetsExpected {
		row("Requirements", "meets "+st.ExpectedTier)
	} else {
		row("Requirements", fmt.Sprintf("missing %d for %s", len(st.Missing), st.ExpectedTier))
	}
	for _, m := range st.Missing {
		row("  missing", describeMissing(m))
	}
	row("Reminders sent", fmt.Sprint(st.RemindersSent))
	if st.NextReminder != nil {
		row("Next reminder", fmtTime(*st.NextReminder))
	}
	for _, e := range st.Extensions {
		row("Extended", fmt.Sprintf("by %s to %s (%s%s)", e.By, fmtTime(e.To), orDash(e.Reason), actorSuffix(e.Actor)))
	}
	if len(st.EmailFailures) > 0 {
		row("Email failures", strings.Join(st.EmailFailures, "; "))
	} else {
		row("Email failures", "none")
	}
	for _, u := range st.Undelivered {
		row("Not delivered", fmt.Sprintf("%s email %s %s (%s): %s", u.Kind, u.Event, fmtTime(u.At), u.Step, orDash(u.Reason)))
	}
	if st.Outcome != "" {
		row("Outcome", fmt.Sprintf("%s (new tier %s)", st.Outcome, orDash(st.NewTier)))
	} else {
		row("Outcome", "pending")
	}
	writeTrackStatus(row, st)
	_ = tw.Flush()
}

// writeTrackStatus adds, for a program with tracks, one line per track:
// its decision once decided, else its expected level and what it misses.
func writeTrackStatus(row func(k, v string), st workflows.Status) {
	if len(st.TrackResults) > 0 {
		for _, r := range st.TrackResults {
			row("Track "+r.Track, fmt.Sprintf("%s (%s -> %s)", r.Outcome, r.OldTier, r.NewTier))
		}
		return
	}
	for _, ev := range st.Tracks {
		v := fmt.Sprintf("%s, expected %s: meets it", ev.OldTier, ev.ExpectedTier)
		if !ev.MeetsExpected {
			v = fmt.Sprintf("%s, expected %s: missing %d", ev.OldTier, ev.ExpectedTier, len(ev.Missing))
		}
		row("Track "+ev.Track, v)
	}
}

func actorSuffix(a string) string {
	if a == "" {
		return ""
	}
	return ", by " + a
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func describeMissing(m program.Missing) string {
	name := m.Name
	if len(m.Options) > 0 {
		name = "one of " + strings.Join(m.Options, ", ")
	}
	switch m.Kind {
	case program.MissingRevenue:
		return fmt.Sprintf("revenue: have %s, need %s", program.Money(m.Have), program.Money(m.Need))
	case program.MissingPoints:
		return fmt.Sprintf("points: have %d, need %d", m.Have, m.Need)
	}
	if m.Need > 1 {
		return fmt.Sprintf("%s %s: have %d, need %d", m.Kind, name, m.Have, m.Need)
	}
	return fmt.Sprintf("%s %s", m.Kind, name)
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%.0fh", d.Hours())
	default:
		return d.Round(time.Second).String()
	}
}

// statusView is the campaign's state as Postgres records it.
type statusView struct {
	CampaignID string           `json:"campaign_id"`
	State      string           `json:"state"`
	Total      int64            `json:"total"`
	Done       int64            `json:"done"`
	ByStage    map[string]int64 `json:"by_stage"`
	ByOutcome  map[string]int64 `json:"by_outcome"`
	// ByTrack counts, for a program with tracks, each track's decided
	// outcomes: track -> outcome -> partners.
	ByTrack     map[string]map[string]int64 `json:"by_track,omitempty"`
	EmailFailed int64                       `json:"partners_with_email_failures"`
	Emails      map[string]int64            `json:"emails_by_status"`
	DueSoon     []dueRow                    `json:"due_soon"`
	// Undelivered are the emails SendGrid bounced or dropped (Event Webhook).
	Undelivered []undeliveredRow `json:"undelivered"`
}

// undeliveredRow is one email SendGrid bounced or dropped.
type undeliveredRow struct {
	PartnerID string    `json:"partner_id"`
	Kind      string    `json:"kind"`
	Step      string    `json:"step"`
	State     string    `json:"state"`
	At        time.Time `json:"at"`
	Reason    string    `json:"reason,omitempty"`
}

// undelivered lists a campaign's (or one partner's) undelivered emails.
func undelivered(ctx context.Context, st *store.Store, campaignID, partnerID string) ([]undeliveredRow, error) {
	list, err := st.UndeliveredEmails(ctx, campaignID, partnerID)
	if err != nil {
		return nil, err
	}
	out := []undeliveredRow{}
	for _, d := range list {
		out = append(out, undeliveredRow{PartnerID: d.PartnerID, Kind: d.Kind, Step: d.Step, State: d.State, At: d.At, Reason: d.Reason})
	}
	return out, nil
}

// writeUndelivered prints the partners who were never reached.
func writeUndelivered(out io.Writer, rows []undeliveredRow) error {
	fmt.Fprintf(out, "\nNever reached (bounced or dropped emails): %d\n", len(rows))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, u := range rows {
		fmt.Fprintf(tw, "  %s\t%s\t%s %s\t%s\n", u.PartnerID, u.Kind, u.State, fmtTime(u.At), u.Reason)
	}
	return tw.Flush()
}

type dueRow struct {
	PartnerID    string    `json:"partner_id"`
	Deadline     time.Time `json:"deadline"`
	Stage        string    `json:"stage"`
	ExpectedTier string    `json:"expected_tier"`
	Missing      int       `json:"missing"`
}

func campaignView(ctx context.Context, st *store.Store, campaignID string, now time.Time) (statusView, error) {
	v := statusView{CampaignID: campaignID, Emails: map[string]int64{}}
	c, err := st.GetCampaign(ctx, campaignID)
	if err != nil {
		return v, err
	}
	v.State = c.State
	counts, err := st.CampaignCounts(ctx, campaignID)
	if err != nil {
		return v, err
	}
	v.Total, v.ByStage, v.EmailFailed = counts.Total, counts.ByStage, counts.EmailFailed
	v.Done = counts.ByStage[store.StageDone]
	v.ByOutcome = map[string]int64{}
	for k, n := range counts.ByOutcome {
		if k == "" {
			k = "pending"
		}
		v.ByOutcome[k] += n
	}
	if v.ByTrack, err = byTrack(ctx, st, campaignID); err != nil {
		return v, err
	}
	emails, err := st.EmailCounts(ctx, campaignID)
	if err != nil {
		return v, err
	}
	for _, e := range emails {
		v.Emails[e.Status] += e.Count
	}
	due, err := st.DueSoon(ctx, campaignID, 100*365*24*time.Hour, now, dueSoonLimit)
	if err != nil {
		return v, err
	}
	for _, e := range due {
		v.DueSoon = append(v.DueSoon, dueRow{PartnerID: e.PartnerID, Deadline: e.Deadline, Stage: e.Stage, ExpectedTier: e.ExpectedTier, Missing: len(e.Missing)})
	}
	if v.Undelivered, err = undelivered(ctx, st, campaignID, ""); err != nil {
		return v, err
	}
	return v, nil
}

// byTrack counts a campaign's decided tracks by track and outcome; nil for
// a program without tracks.
func byTrack(ctx context.Context, st *store.Store, campaignID string) (map[string]map[string]int64, error) {
	cells, err := st.TrackOutcomes(ctx, campaignID)
	if err != nil || len(cells) == 0 {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, c := range cells {
		if out[c.Track] == nil {
			out[c.Track] = map[string]int64{}
		}
		out[c.Track][c.Outcome] += c.Count
	}
	return out, nil
}

func (v statusView) finished() bool { return v.Total > 0 && v.Done == v.Total }

func (v statusView) write(out io.Writer, format string) error {
	if format == "json" {
		return writeJSON(out, v)
	}
	fmt.Fprintf(out, "Campaign %s (%s): %d of %d partners done\n", v.CampaignID, v.State, v.Done, v.Total)
	fmt.Fprintf(out, "\nBy stage:\n")
	writeCounts(out, v.ByStage, stageOrder)
	fmt.Fprintf(out, "\nBy outcome:\n")
	writeCounts(out, v.ByOutcome, outcomeOrder)
	for _, track := range slices.Sorted(maps.Keys(v.ByTrack)) {
		fmt.Fprintf(out, "\nTrack %s, by outcome:\n", track)
		writeCounts(out, v.ByTrack[track], outcomeOrder)
	}
	fmt.Fprintf(out, "\nEmails:\n")
	writeCounts(out, v.Emails, []string{"pending", "sent", "captured", "failed"})
	if v.EmailFailed > 0 {
		fmt.Fprintf(out, "  partners with a failed email: %d\n", v.EmailFailed)
	}
	if len(v.Undelivered) > 0 {
		if err := writeUndelivered(out, v.Undelivered); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nNext deadlines:\n")
	if len(v.DueSoon) == 0 {
		fmt.Fprintf(out, "  none\n")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  PARTNER\tDEADLINE\tSTAGE\tEXPECTED\tMISSING\n")
	for _, d := range v.DueSoon {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\n", d.PartnerID, fmtTime(d.Deadline), d.Stage, d.ExpectedTier, d.Missing)
	}
	return tw.Flush()
}

var (
	stageOrder = []string{store.StageEnrolled, string(workflows.StageWaitingLaunch), string(workflows.StageNotified),
		string(workflows.StageReminding), string(workflows.StageQualified), string(workflows.StageDeciding), string(workflows.StageDone)}
	outcomeOrder = []string{"pending", string(program.OutcomePromoted), string(program.OutcomeKept), string(program.OutcomeDemoted),
		workflows.OutcomeExempted, workflows.OutcomeWithdrawn}
)

// writeCounts prints counts in a known order, then any other keys sorted.
func writeCounts(out io.Writer, m map[string]int64, order []string) {
	keys := make([]string, 0, len(m))
	seen := map[string]bool{}
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	if len(keys) == 0 {
		fmt.Fprintf(out, "  none\n")
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%d\n", k, m[k])
	}
	_ = tw.Flush()
}

// watchCampaign redraws the campaign status until every enrollment is done,
// then prints the outcome summary. Ctrl-C stops it.
func watchCampaign(ctx context.Context, env *opsEnv, out io.Writer, o statusOptions) error {
	tty := isTerminalWriter(out)
	for {
		v, err := campaignView(ctx, env.st, o.campaign, time.Now())
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if tty {
			fmt.Fprint(out, "\033[H\033[2J")
		}
		if o.format == "json" {
			if err := json.NewEncoder(out).Encode(v); err != nil {
				return err
			}
		} else {
			if err := v.write(out, "table"); err != nil {
				return err
			}
			if !tty {
				fmt.Fprintln(out, "---")
			}
		}
		if v.finished() {
			if o.format == "table" {
				fmt.Fprintf(out, "\nCampaign %s finished: %d partners\n", v.CampaignID, v.Total)
				writeCounts(out, v.ByOutcome, outcomeOrder)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.interval):
		}
	}
}
