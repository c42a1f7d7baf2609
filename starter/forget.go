package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

type forgetOptions struct {
	partner, campaign string
	reason, actor     string
	withdraw          bool
}

func newForgetCmd() *cobra.Command {
	var o forgetOptions
	cmd := &cobra.Command{
		Use:   "forget (--partner ID | --campaign ID) --reason TEXT [--withdraw]",
		Short: "Erase a partner's (or a campaign's partners') personal data from PostgreSQL",
		Long: `Forget blanks the contact name and email address of the partner (--partner,
every campaign it is in) or of every partner of a campaign (--campaign): on the
partner row, in every email sent to it (recipient, subject and bodies) and in
the values of its fact changes. It keeps what the audit needs: IDs, tiers,
facts, stages, outcomes, tier changes, email kinds, statuses and dates. Each
erasure that changed something is written to the erasures audit with --actor
and --reason; running it again changes nothing.

It refuses while a transition of the partner still runs (its workflow would
read the blanked record and mail nobody); --withdraw withdraws it first, with
--reason. It then tells what Temporal still holds: the encrypted history of
each transition, until the namespace's retention after it closed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var problems []string
			if (o.partner == "") == (o.campaign == "") {
				problems = append(problems, "give --partner ID or --campaign ID (one of them)")
			}
			if strings.TrimSpace(o.reason) == "" {
				problems = append(problems, "--reason is required, for the audit trail")
			}
			if strings.TrimSpace(o.actor) == "" {
				problems = append(problems, "--actor is empty")
			}
			if len(problems) > 0 {
				return badInputf("%s", strings.Join(problems, "\n"))
			}
			return runForget(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	partnerFlag(f, &o.partner, "the partner to forget (every campaign)")
	campaignFlag(f, &o.campaign)
	f.StringVar(&o.reason, "reason", "", "why (the erasure request), for the audit trail (required)")
	f.StringVar(&o.actor, "actor", defaultActor(), "who erases, for the audit trail")
	f.BoolVar(&o.withdraw, "withdraw", false, "withdraw transitions that still run first, instead of refusing")
	return cmd
}

func runForget(ctx context.Context, out, errOut io.Writer, o forgetOptions) error {
	env, err := openOps(ctx, errOut, true)
	if err != nil {
		return err
	}
	defer env.Close()

	var refs []store.EnrollmentRef
	if o.partner != "" {
		if _, err := env.st.LoadPartner(ctx, o.partner); isStoreNotFound(err) {
			return badInputf("partner %q does not exist", o.partner)
		} else if err != nil {
			return err
		}
		refs, err = env.st.PartnerEnrollments(ctx, o.partner)
	} else {
		refs, err = env.st.CampaignEnrollments(ctx, o.campaign)
		if err == nil && len(refs) == 0 {
			return badInputf("campaign %q has no partners", o.campaign)
		}
	}
	if err != nil {
		return err
	}

	// Refuse, or withdraw, while a transition runs: checked against
	// Temporal itself, not the stage in Postgres, which lags the workflow.
	var running []store.EnrollmentRef
	for _, r := range refs {
		st, _, err := env.workflowState(ctx, r.WorkflowID)
		if err != nil {
			return err
		}
		if st == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			running = append(running, r)
		}
	}
	if len(running) > 0 && !o.withdraw {
		ids := make([]string, 0, len(running))
		for _, r := range running {
			ids = append(ids, r.WorkflowID)
		}
		return badInputf("%d transition(s) still run (%s): withdraw them first (starter withdraw, or forget --withdraw); nothing was erased",
			len(running), strings.Join(ids[:min(len(ids), 5)], ", "))
	}
	for _, r := range running {
		if err := env.withdrawAndWait(ctx, r, o); err != nil {
			return err
		}
		fmt.Fprintf(out, "Withdrew %s.\n", r.WorkflowID)
	}

	partners := map[string]bool{}
	var erased, already int
	for _, r := range append(refs, store.EnrollmentRef{PartnerID: o.partner}) {
		if r.PartnerID == "" || partners[r.PartnerID] {
			continue
		}
		partners[r.PartnerID] = true
		e, err := env.st.ForgetPartner(ctx, r.PartnerID, o.actor, o.reason)
		if err != nil {
			return err
		}
		fields := func(ev *zerolog.Event) *zerolog.Event {
			return ev.Str(logging.PartnerID, e.PartnerID).Int64("partner_rows", e.Partners).Int64("emails", e.Emails).
				Int64("fact_changes", e.FactChanges).Str("actor", o.actor)
		}
		if e.Changed() {
			erased++
			env.tell.say(out, env.log, "partner's personal data erased", fields,
				"Partner %s: name and email address erased (%d partner row, %d emails, %d fact changes); written to the erasures audit.\n",
				e.PartnerID, e.Partners, e.Emails, e.FactChanges)
		} else {
			already++
			env.tell.say(out, env.log, "partner's personal data already erased", fields,
				"Partner %s: already erased on %s; nothing changed.\n", e.PartnerID, e.ErasedAt.UTC().Format(time.RFC3339))
		}
	}
	if len(partners) > 1 {
		fmt.Fprintf(out, "%d partners: %d erased now, %d already erased.\n", len(partners), erased, already)
	}
	return env.tellTemporalHoldings(ctx, out, refs)
}

// workflowState is a transition's status and close time, UNSPECIFIED when
// Temporal has no such workflow (never launched, or past retention).
func (e *opsEnv) workflowState(ctx context.Context, workflowID string) (enums.WorkflowExecutionStatus, time.Time, error) {
	d, err := e.tc.DescribeWorkflowExecution(ctx, workflowID, "")
	if isNotFound(err) {
		return enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("describe workflow %s: %w", workflowID, err)
	}
	info := d.GetWorkflowExecutionInfo()
	return info.GetStatus(), info.GetCloseTime().AsTime(), nil
}

// withdrawAndWait withdraws a running transition (the same Update as
// starter withdraw) and waits until its workflow has closed.
func (e *opsEnv) withdrawAndWait(ctx context.Context, r store.EnrollmentRef, o forgetOptions) error {
	id := uuid.NewString()
	_, err := e.update(ctx, r.CampaignID, r.PartnerID, workflows.MessageWithdraw, id,
		workflows.Withdraw{ID: id, Reason: "erasure: " + o.reason, Actor: o.actor})
	if err != nil && !errors.Is(err, errUpdatePending) { // accepted: wait for the close below
		if closed, _ := e.closedWorkflow(ctx, r.CampaignID, r.PartnerID, err); !closed {
			return fmt.Errorf("withdraw %s before erasing: %w", r.WorkflowID, err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := e.tc.GetWorkflow(wctx, r.WorkflowID, "").Get(wctx, nil); err != nil && !isNotFound(err) {
		return fmt.Errorf("wait for %s to close after its withdrawal: %w", r.WorkflowID, err)
	}
	return nil
}

// tellTemporalHoldings says what the Temporal server still keeps of the
// forgotten partners and until when: each closed transition's history
// (encrypted payloads; IDs and tiers in its search attributes) until the
// namespace's retention after it closed.
func (e *opsEnv) tellTemporalHoldings(ctx context.Context, out io.Writer, refs []store.EnrollmentRef) error {
	ns, err := e.tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: e.cfg.TemporalNamespace})
	if err != nil {
		return fmt.Errorf("describe namespace %s for its retention: %w", e.cfg.TemporalNamespace, err)
	}
	retention := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	var held int
	var last time.Time
	for _, r := range refs {
		st, closed, err := e.workflowState(ctx, r.WorkflowID)
		if err != nil {
			return err
		}
		if st == enums.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
			continue
		}
		held++
		until := closed.Add(retention)
		if until.After(last) {
			last = until
		}
		if len(refs) <= 20 {
			fmt.Fprintf(out, "Temporal keeps the history of %s (payloads encrypted, search attributes without names) until about %s: closed %s + the namespace's retention of %s.\n",
				r.WorkflowID, until.UTC().Format(time.RFC3339), closed.UTC().Format(time.RFC3339), retention)
		}
	}
	switch {
	case held == 0:
		fmt.Fprintln(out, "Temporal holds no history of these transitions.")
	case len(refs) > 20:
		fmt.Fprintf(out, "Temporal keeps %d transition histories (payloads encrypted, search attributes without names) until at most %s (the namespace's retention of %s after each closed).\n",
			held, last.UTC().Format(time.RFC3339), retention)
	}
	return nil
}
