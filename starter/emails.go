package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/store"
)

type emailsOptions struct {
	campaign string
	partner  string
	id       int64
	format   string
	htmlFile string
	limit    int
}

func newEmailsCmd() *cobra.Command {
	var o emailsOptions
	cmd := &cobra.Command{
		Use:   "emails (--campaign ID [--partner P] | --id N [--html FILE])",
		Short: "List a campaign's or a partner's emails, or show one as sent or captured",
		Long: `emails reads the emails table, so a vendor can read what was sent, or captured
in capture mode (no SendGrid key), without SQL.

With --campaign it lists the campaign's emails (one partner's with --partner):
ID, partner, kind, locale, status (pending, sent, captured, failed), the
latest delivery state SendGrid reported (starter webhook) and when. With --id
it shows one email: its headers and plain text; --html FILE writes its HTML
to FILE, to open in a browser.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEmails(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	campaignFlag(f, &o.campaign)
	partnerFlag(f, &o.partner, "only this partner's emails (with --campaign)")
	f.Int64Var(&o.id, "id", 0, "show this email")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.StringVar(&o.htmlFile, "html", "", "with --id: write the email's HTML to this file")
	f.IntVar(&o.limit, "limit", 1000, "list at most this many emails")
	return cmd
}

func runEmails(ctx context.Context, out, errOut io.Writer, o emailsOptions) error {
	switch {
	case o.format != "table" && o.format != "json":
		return badInputf("--format %q: want table or json", o.format)
	case (o.id == 0) == (o.campaign == ""):
		return badInputf("give either --campaign (to list) or --id (to show one email)")
	case o.id < 0:
		return badInputf("--id %d: email IDs are positive", o.id)
	case o.partner != "" && o.campaign == "":
		return badInputf("--partner needs --campaign")
	case o.htmlFile != "" && o.id == 0:
		return badInputf("--html needs --id")
	case o.limit <= 0:
		return badInputf("--limit %d: want at least 1", o.limit)
	}
	env, err := openOps(ctx, errOut, false)
	if err != nil {
		return err
	}
	defer env.Close()
	if o.id != 0 {
		return showEmail(ctx, env.st, out, o)
	}
	if _, err := env.st.GetCampaign(ctx, o.campaign); isStoreNotFound(err) {
		return badInputf("campaign %q does not exist", o.campaign)
	} else if err != nil {
		return err
	}
	list, err := env.st.ListEmails(ctx, o.campaign, o.partner, o.limit)
	if err != nil {
		return err
	}
	if o.format == "json" {
		if list == nil {
			list = []store.EmailSummary{}
		}
		return writeJSON(out, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "No emails.")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tPARTNER\tKIND\tLOCALE\tSTATUS\tDELIVERY\tTIME\tSTEP\n")
	for _, e := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.PartnerID, e.Kind, e.Locale, e.Status, orDash(e.DeliveryState), fmtTime(e.At), e.Step)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(list) == o.limit {
		fmt.Fprintf(out, "(first %d; raise --limit for more)\n", o.limit)
	}
	return nil
}

func showEmail(ctx context.Context, st *store.Store, out io.Writer, o emailsOptions) error {
	e, err := st.GetEmail(ctx, o.id)
	if isStoreNotFound(err) {
		return badInputf("email %d does not exist", o.id)
	} else if err != nil {
		return err
	}
	if o.htmlFile != "" {
		if err := os.WriteFile(o.htmlFile, []byte(e.HTML), 0o644); err != nil {
			return fmt.Errorf("write the HTML of email %d: %w", e.ID, err)
		}
	}
	if o.format == "json" {
		return writeJSON(out, e)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("Email", fmt.Sprintf("%d (%s, %s)", e.ID, e.Kind, e.Step))
	row("Campaign", e.CampaignID)
	row("Partner", e.PartnerID)
	row("To", e.To)
	row("Subject", e.Subject)
	row("Locale", e.Locale)
	row("Status", fmt.Sprintf("%s at %s (%d attempts)", e.Status, fmtTime(e.At), e.Attempts))
	if e.ProviderMessageID != "" {
		row("SendGrid ID", e.ProviderMessageID)
	}
	if e.Error != "" {
		row("Error", e.Error)
	}
	if e.DeliveryState != "" {
		row("Delivery", fmt.Sprintf("%s at %s %s", e.DeliveryState, fmtTime(e.DeliveryAt), e.DeliveryReason))
	}
	if e.TemplateID != "" {
		row("Template", e.TemplateID+" (SendGrid renders it; the text below is tiershift's own rendering)")
	}
	if o.htmlFile != "" {
		row("HTML", "written to "+o.htmlFile)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n%s", e.Text)
	return nil
}
