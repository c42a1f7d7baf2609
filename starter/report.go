package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/workflows"
)

// maxReportedFailures bounds the partners with failed emails a report lists.
const maxReportedFailures = 10000

func newReportCmd() *cobra.Command {
	var campaign, format string
	cmd := &cobra.Command{
		Use:   "report --campaign ID [--format table|csv|json]",
		Short: "Report a campaign's outcomes and emails from Postgres",
		Long: `Report reads Postgres only: partners by old tier and new tier, the totals of
promotions, kept tiers, demotions, exemptions and withdrawals, emails by kind
and status, and the partners with failed emails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReport(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), campaign, format)
		},
	}
	campaignFlag(cmd.Flags(), &campaign)
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, csv or json")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

type reportCell struct {
	OldTier  string `json:"old_tier"`
	NewTier  string `json:"new_tier"`
	Outcome  string `json:"outcome"`
	Partners int64  `json:"partners"`
}

// reportTrackCell counts the partners one track took from one level to
// another with one outcome.
type reportTrackCell struct {
	Track    string `json:"track"`
	OldTier  string `json:"old_tier"`
	NewTier  string `json:"new_tier"`
	Outcome  string `json:"outcome"`
	Partners int64  `json:"partners"`
}

type reportEmails struct {
	Kind     string `json:"kind"`
	Sent     int64  `json:"sent"`
	Captured int64  `json:"captured"`
	Failed   int64  `json:"failed"`
	Pending  int64  `json:"pending"`
}

type reportFailure struct {
	PartnerID string   `json:"partner_id"`
	Name      string   `json:"name"`
	Failed    int64    `json:"failed"`
	Kinds     []string `json:"kinds"`
	LastError string   `json:"last_error"`
}

type report struct {
	CampaignID string `json:"campaign_id"`
	ProgramID  string `json:"program_id"`
	State      string `json:"state"`
	Partners   int64  `json:"partners"`
	// Outcomes has every outcome key, zero or not; "pending" counts
	// transitions not decided yet.
	Outcomes map[string]int64 `json:"outcomes"`
	Matrix   []reportCell     `json:"matrix"`
	// Tracks is, for a program with tracks, each track's decisions by old
	// level, new level and outcome.
	Tracks            []reportTrackCell `json:"tracks,omitempty"`
	Emails            []reportEmails    `json:"emails"`
	EmailTotals       reportEmails      `json:"email_totals"`
	FailedEmailsFor   []reportFailure   `json:"partners_with_failed_emails"`
	FailedEmailsTotal int               `json:"partners_with_failed_emails_count"`
	// Undelivered are the emails SendGrid bounced or dropped.
	Undelivered []undeliveredRow `json:"undelivered"`
}

var reportOutcomes = []string{string(program.OutcomePromoted), string(program.OutcomeKept), string(program.OutcomeDemoted),
	workflows.OutcomeExempted, workflows.OutcomeWithdrawn, "pending"}

func runReport(ctx context.Context, out, errOut io.Writer, campaign, format string) error {
	switch format {
	case "table", "csv", "json":
	default:
		return badInputf("--format %q: want table, csv or json", format)
	}
	env, err := openOps(ctx, errOut, false)
	if err != nil {
		return err
	}
	defer env.Close()
	r, err := buildReport(ctx, env, campaign)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return writeJSON(out, r)
	case "csv":
		return r.writeCSV(out)
	default:
		return r.writeTable(out)
	}
}

func buildReport(ctx context.Context, env *opsEnv, campaign string) (report, error) {
	r := report{CampaignID: campaign, Outcomes: map[string]int64{}, Matrix: []reportCell{}, Emails: []reportEmails{}, FailedEmailsFor: []reportFailure{}}
	if strings.TrimSpace(campaign) == "" {
		return r, badInputf("--campaign is required")
	}
	c, err := env.st.GetCampaign(ctx, campaign)
	if err != nil {
		if isStoreNotFound(err) {
			return r, badInputf("campaign %q does not exist", campaign)
		}
		return r, err
	}
	r.ProgramID, r.State = c.ProgramID, c.State
	for _, o := range reportOutcomes {
		r.Outcomes[o] = 0
	}
	m, err := env.st.OutcomeMatrix(ctx, campaign)
	if err != nil {
		return r, err
	}
	for _, cell := range m.Cells {
		outcome := cell.Outcome
		if outcome == "" {
			outcome = "pending"
		}
		r.Matrix = append(r.Matrix, reportCell{OldTier: cell.OldTier, NewTier: cell.NewTier, Outcome: outcome, Partners: cell.Count})
		r.Outcomes[outcome] += cell.Count
		r.Partners += cell.Count
	}
	tracks, err := env.st.TrackOutcomes(ctx, campaign)
	if err != nil {
		return r, err
	}
	for _, c := range tracks {
		r.Tracks = append(r.Tracks, reportTrackCell{Track: c.Track, OldTier: c.OldTier, NewTier: c.NewTier, Outcome: c.Outcome, Partners: c.Count})
	}
	counts, err := env.st.EmailCounts(ctx, campaign)
	if err != nil {
		return r, err
	}
	byKind := map[string]*reportEmails{}
	for _, ec := range counts {
		e := byKind[ec.Kind]
		if e == nil {
			e = &reportEmails{Kind: ec.Kind}
			byKind[ec.Kind] = e
		}
		for _, x := range []*reportEmails{e, &r.EmailTotals} {
			switch ec.Status {
			case "sent":
				x.Sent += ec.Count
			case "captured":
				x.Captured += ec.Count
			case "failed":
				x.Failed += ec.Count
			default:
				x.Pending += ec.Count
			}
		}
	}
	r.EmailTotals.Kind = "total"
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		r.Emails = append(r.Emails, *byKind[k])
	}
	failed, err := env.st.FailedEmailPartners(ctx, campaign, maxReportedFailures)
	if err != nil {
		return r, err
	}
	for _, f := range failed {
		r.FailedEmailsFor = append(r.FailedEmailsFor, reportFailure{PartnerID: f.PartnerID, Name: f.Name, Failed: f.Failed, Kinds: f.Kinds, LastError: f.LastError})
	}
	r.FailedEmailsTotal = len(r.FailedEmailsFor)
	if r.Undelivered, err = undelivered(ctx, env.st, campaign, ""); err != nil {
		return r, err
	}
	return r, nil
}

func (r report) writeTable(out io.Writer) error {
	fmt.Fprintf(out, "Campaign %s (program %s, %s): %d partners\n\n", r.CampaignID, orDash(r.ProgramID), r.State, r.Partners)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "OLD TIER\tNEW TIER\tOUTCOME\tPARTNERS\n")
	for _, c := range r.Matrix {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.OldTier, orDash(c.NewTier), c.Outcome, c.Partners)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Tracks) > 0 {
		fmt.Fprintf(out, "\nBy track:\n")
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "TRACK\tOLD TIER\tNEW TIER\tOUTCOME\tPARTNERS\n")
		for _, c := range r.Tracks {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", c.Track, c.OldTier, c.NewTier, c.Outcome, c.Partners)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\nOutcomes:\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, o := range reportOutcomes {
		fmt.Fprintf(tw, "  %s\t%d\n", o, r.Outcomes[o])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nEmails:\n")
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  KIND\tSENT\tCAPTURED\tFAILED\tPENDING\n")
	for _, e := range append(r.Emails, r.EmailTotals) {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\n", e.Kind, e.Sent, e.Captured, e.Failed, e.Pending)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPartners with failed emails: %d\n", r.FailedEmailsTotal)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, f := range r.FailedEmailsFor {
		fmt.Fprintf(tw, "  %s\t%s\t%d failed (%s)\t%s\n", f.PartnerID, f.Name, f.Failed, strings.Join(f.Kinds, ", "), f.LastError)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeUndelivered(out, r.Undelivered)
}

// writeCSV writes one table: the section says what a row counts, the other
// columns that do not apply to the section are empty.
func (r report) writeCSV(out io.Writer) error {
	w := csvWriter{csv.NewWriter(out)} // every cell through csvCell
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	_ = w.Write([]string{"section", "old_tier", "new_tier", "outcome", "email_kind", "email_status", "partner_id", "count", "detail"})
	for _, c := range r.Matrix {
		_ = w.Write([]string{"tiers", c.OldTier, c.NewTier, c.Outcome, "", "", "", n(c.Partners), ""})
	}
	for _, c := range r.Tracks { // the track is the row's detail
		_ = w.Write([]string{"tracks", c.OldTier, c.NewTier, c.Outcome, "", "", "", n(c.Partners), c.Track})
	}
	for _, o := range reportOutcomes {
		_ = w.Write([]string{"outcomes", "", "", o, "", "", "", n(r.Outcomes[o]), ""})
	}
	for _, e := range append(r.Emails, r.EmailTotals) {
		for _, s := range []struct {
			status string
			count  int64
		}{{"sent", e.Sent}, {"captured", e.Captured}, {"failed", e.Failed}, {"pending", e.Pending}} {
			_ = w.Write([]string{"emails", "", "", "", e.Kind, s.status, "", n(s.count), ""})
		}
	}
	for _, f := range r.FailedEmailsFor {
		_ = w.Write([]string{"failed_emails", "", "", "", strings.Join(f.Kinds, " "), "failed", f.PartnerID, n(f.Failed), f.LastError})
	}
	for _, u := range r.Undelivered {
		_ = w.Write([]string{"undelivered_emails", "", "", "", u.Kind, u.State, u.PartnerID, "1", u.Reason})
	}
	w.Flush()
	return w.Error()
}
