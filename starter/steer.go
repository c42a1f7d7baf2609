package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/api/batch/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// updateTimeout bounds waiting for a workflow to answer an Update.
const updateTimeout = time.Minute

// ---- signal ----

type signalOptions struct {
	campaign string
	partner  string
	count    int
	actor    string
}

func newSignalCmd() *cobra.Command {
	var o signalOptions
	cmd := &cobra.Command{
		Use:   "signal --campaign ID --partner P OP [NAME|VALUE]",
		Short: "Record a change of a partner's facts and tell its workflow",
		Long: `Signal records a fact change in Postgres (the system of record) and sends the
partner's workflow the facts Update, then prints what the partner still misses.
OP is one of: ` + factOpNames() + `.

  starter signal --campaign C --partner P cert-earned VTSP --count 2
  starter signal --campaign C --partner P competency-earned "Infrastructure Virtualization"
  starter signal --campaign C --partner P revenue-set 12000
  starter signal --campaign C --partner P points-set 120

The change is checked against the campaign's program before anything is
written: an unknown partner, certification or a negative value changes nothing.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSignal(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, args)
		},
	}
	f := cmd.Flags()
	campaignFlag(f, &o.campaign)
	partnerFlag(f, &o.partner, "partner ID")
	f.IntVar(&o.count, "count", 1, "certifications earned or lost (cert-earned, cert-lost)")
	f.StringVar(&o.actor, "actor", defaultActor(), "who makes the change, for the audit trail")
	_ = cmd.MarkFlagRequired("campaign")
	_ = cmd.MarkFlagRequired("partner")
	return cmd
}

func factOpNames() string {
	names := make([]string, len(program.FactOps))
	for i, op := range program.FactOps {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

// parseFactChange builds the change an operator typed.
func parseFactChange(args []string, count int) (program.FactChange, error) {
	op, err := program.ParseFactOp(args[0])
	if err != nil {
		return program.FactChange{}, err
	}
	c := program.FactChange{Op: op}
	arg := ""
	if len(args) > 1 {
		arg = strings.TrimSpace(args[1])
	}
	if arg == "" {
		switch op {
		case program.OpRevenueSet:
			return c, fmt.Errorf("%s needs an amount, e.g. %s 12000", op, op)
		case program.OpPointsSet:
			return c, fmt.Errorf("%s needs a number of points, e.g. %s 120", op, op)
		default:
			return c, fmt.Errorf("%s needs a name, e.g. %s VTSP", op, op)
		}
	}
	switch op {
	case program.OpRevenueSet:
		if c.Revenue, err = program.ParseMoney(arg); err != nil {
			return c, fmt.Errorf("%s: %w", op, err)
		}
	case program.OpPointsSet:
		// The partner file's number grammar: "1 000" is a thousand points.
		if c.Points, err = program.ParsePoints(arg); err != nil {
			return c, fmt.Errorf("%s: %w", op, err)
		}
	case program.OpCertEarned, program.OpCertLost:
		if count < 1 {
			return c, fmt.Errorf("%s: --count %d must be at least 1", op, count)
		}
		c.Name, c.Count = arg, count
	default:
		c.Name = arg
	}
	if count != 1 && op != program.OpCertEarned && op != program.OpCertLost {
		return c, fmt.Errorf("--count only applies to cert-earned and cert-lost")
	}
	return c, nil
}

func runSignal(ctx context.Context, out, errOut io.Writer, o signalOptions, args []string) error {
	change, err := parseFactChange(args, o.count)
	if err != nil {
		return badInput(err)
	}
	env, err := openOps(ctx, errOut, true)
	if err != nil {
		return err
	}
	defer env.Close()
	camp, err := env.loadCampaign(ctx, o.campaign)
	if err != nil {
		return err
	}
	if err := env.requireEnrolled(ctx, o.campaign, o.partner); err != nil {
		return err
	}
	if err := camp.Program.ValidateChange(change); err != nil {
		return badInput(err)
	}

	id := uuid.NewString()
	change.ID = id
	change.Source = "starter signal"
	if o.actor != "" {
		change.Source += " by " + o.actor
	}
	log := env.log.With().Str(logging.CampaignID, o.campaign).Str(logging.PartnerID, o.partner).Logger()
	before, after, err := env.st.ApplyFactChange(ctx, o.partner, change, camp.Program)
	if err != nil {
		if errors.Is(err, store.ErrInvalidChange) || errors.Is(err, store.ErrNotFound) {
			return badInput(err)
		}
		return err
	}
	env.tell.say(out, log, "fact recorded", func(e *zerolog.Event) *zerolog.Event {
		return e.Str("op", string(change.Op)).Str("name", change.Name).Str("change_id", id).
			Interface("before", before).Interface("after", after)
	}, "Recorded %s for partner %s.\n", describeChange(change), o.partner)

	st, err := env.update(ctx, o.campaign, o.partner, workflows.MessageFacts, id,
		workflows.FactsChanged{ID: id, Change: &change, Actor: o.actor})
	if errors.Is(err, errUpdatePending) {
		log.Warn().Str("change_id", id).Msg("update accepted, not yet answered")
		pendingNotice(out, o.partner)
		return nil
	}
	if err != nil {
		if closed, msg := env.closedWorkflow(ctx, o.campaign, o.partner, err); closed {
			fmt.Fprintf(out, "%s; the fact is recorded in Postgres.\n", msg)
			return nil
		}
		return fmt.Errorf("the fact is recorded, but telling the workflow failed: %w", err)
	}
	writePartnerStatus(out, st, time.Now())
	return nil
}

func describeChange(c program.FactChange) string {
	switch c.Op {
	case program.OpRevenueSet:
		return fmt.Sprintf("%s %s", c.Op, c.Revenue)
	case program.OpPointsSet:
		return fmt.Sprintf("%s %d", c.Op, c.Points)
	case program.OpCertEarned, program.OpCertLost:
		if c.Count > 1 {
			return fmt.Sprintf("%s %s x%d", c.Op, c.Name, c.Count)
		}
	}
	return fmt.Sprintf("%s %s", c.Op, c.Name)
}

func defaultActor() string {
	for _, k := range []string{"TIERSHIFT_ACTOR", "USER", "LOGNAME"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return "operator"
}

// requireEnrolled fails with an input error unless the partner is enrolled.
func (e *opsEnv) requireEnrolled(ctx context.Context, campaignID, partnerID string) error {
	if strings.TrimSpace(partnerID) == "" {
		return badInputf("--partner is empty")
	}
	_, err := e.st.GetEnrollment(ctx, campaignID, partnerID)
	if errors.Is(err, store.ErrNotFound) {
		return badInputf("partner %q is not enrolled in campaign %q", partnerID, campaignID)
	}
	return err
}

// errUpdatePending is an Update the workflow accepted (it is in its history
// and will be applied) without answering within updateTimeout: the workflow
// is busy with a step that must end first, e.g. an email whose worker died,
// which Temporal retries after its timeout.
var errUpdatePending = errors.New("the workflow accepted the change but is still busy with its current step")

// update sends one Update to a partner's workflow and waits for its result.
// It waits for acceptance first: once accepted, the change is durable, so a
// slow answer is errUpdatePending, not a failure. Acceptance and the answer
// each have their own wait (acceptWait, updateWait; updateTimeout by
// default): a loaded server can take a while to have a worker accept an
// Update, and that is not a workflow busy with a step.
func (e *opsEnv) update(ctx context.Context, campaignID, partnerID, name, id string, arg any) (workflows.Status, error) {
	var st workflows.Status
	actx, cancelAccept := context.WithTimeout(ctx, cmp.Or(e.acceptWait, updateTimeout))
	defer cancelAccept()
	h, err := e.tc.UpdateWorkflow(actx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.WorkflowID(campaignID, partnerID),
		UpdateName:   name,
		UpdateID:     id,
		WaitForStage: client.WorkflowUpdateStageAccepted,
		Args:         []any{arg},
	})
	if err != nil {
		return st, err
	}
	uctx, cancel := context.WithTimeout(ctx, cmp.Or(e.updateWait, updateTimeout))
	defer cancel()
	if err := h.Get(uctx, &st); err != nil {
		if uctx.Err() != nil && ctx.Err() == nil {
			return st, errUpdatePending
		}
		return st, err
	}
	return st, nil
}

// pendingNotice tells the operator what an accepted but unanswered Update
// means, so a busy workflow is not mistaken for a failed command.
func pendingNotice(out io.Writer, partnerID string) {
	fmt.Fprintf(out, "The workflow of partner %s accepted it and applies it when its current step ends (it is busy, e.g. retrying an email); `starter status` shows the result.\n", partnerID)
}

// closedWorkflow explains an Update that failed because the workflow is not
// running: finished, or never started.
func (e *opsEnv) closedWorkflow(ctx context.Context, campaignID, partnerID string, err error) (bool, string) {
	if !isNotFound(err) && !strings.Contains(err.Error(), "workflow execution already completed") {
		return false, ""
	}
	wid := workflows.WorkflowID(campaignID, partnerID)
	d, derr := e.tc.DescribeWorkflowExecution(ctx, wid, "")
	if derr != nil {
		var nf *serviceerror.NotFound
		if errors.As(derr, &nf) {
			return true, fmt.Sprintf("Partner %s has no workflow yet (campaign not launched for it)", partnerID)
		}
		return true, fmt.Sprintf("The workflow %s is not running", wid)
	}
	status := d.GetWorkflowExecutionInfo().GetStatus()
	if status == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return false, ""
	}
	return true, fmt.Sprintf("The workflow %s is already closed (%s)", wid, strings.ToLower(strings.TrimPrefix(status.String(), "WORKFLOW_EXECUTION_STATUS_")))
}

// ---- extend, exempt, withdraw ----

// target is who an operator's decision applies to: one partner (an Update,
// answered at once) or a cohort selected by a visibility query (a batch
// Signal over every running workflow it matches).
type target struct {
	campaign string
	partner  string
	query    string
	reason   string
	actor    string
	wait     bool
}

func (t *target) flags(cmd *cobra.Command, reasonHelp string) {
	f := cmd.Flags()
	campaignFlag(f, &t.campaign)
	partnerFlag(f, &t.partner, "one partner ID")
	f.StringVar(&t.query, "query", "", `a cohort: a visibility query over the search attributes, e.g. 'OldTier="Enterprise"'`)
	f.StringVar(&t.reason, "reason", "", reasonHelp)
	f.StringVar(&t.actor, "actor", defaultActor(), "who decides, for the audit trail")
	f.BoolVar(&t.wait, "wait", false, "with --query: wait until the batch operation has finished")
	_ = cmd.MarkFlagRequired("campaign")
}

func (t *target) check(reasonRequired bool) []string {
	var problems []string
	if strings.TrimSpace(t.campaign) == "" {
		problems = append(problems, "--campaign is empty")
	}
	switch {
	case t.partner == "" && t.query == "":
		problems = append(problems, "give --partner P or --query Q")
	case t.partner != "" && t.query != "":
		problems = append(problems, "give --partner or --query, not both")
	case t.query != "":
		if _, err := parseCohortFilter(t.query); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if t.wait && t.query == "" {
		problems = append(problems, "--wait only applies to --query")
	}
	if reasonRequired && strings.TrimSpace(t.reason) == "" {
		problems = append(problems, "--reason is required, for the audit trail")
	}
	return problems
}

// quoteQueryString quotes s as a visibility query string literal.
func quoteQueryString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(s) + "'"
}

// cohortQuery restricts the operator's filter to the campaign's running
// transitions; the filter was checked by parseCohortFilter, so it cannot
// close the parenthesis.
func cohortQuery(campaignID string, filter cohortFilter) string {
	return fmt.Sprintf("WorkflowType = '%s' AND CampaignId = %s AND ExecutionStatus = 'Running' AND (%s)",
		workflows.WorkflowName, quoteQueryString(campaignID), filter)
}

// maxBatchExecutions is how many workflows one batch operation names: the
// server's default frontend.MaxExecutionCountBatchOperationPerNamespace.
const maxBatchExecutions = 1000

// batchSignal sends the signal to every running transition of the campaign
// the filter matches: the matches are listed and checked first (cohortMembers),
// then signalled by Temporal batch operations naming exactly those
// executions, one after the other (a namespace runs one at a time).
func (e *opsEnv) batchSignal(ctx context.Context, out io.Writer, t target, filter cohortFilter, camp store.Campaign, d decision) error {
	q := cohortQuery(t.campaign, filter)
	var check func(member) error
	if d.member != nil {
		check = func(m member) error { return d.member(camp, m) }
	}
	members, err := e.cohortMembers(ctx, t.campaign, q, check)
	if err != nil {
		var ia *serviceerror.InvalidArgument
		if errors.As(err, &ia) {
			return badInputf("--query %s: %v", ids.Quote(t.query), err)
		}
		if errors.As(err, new(inputError)) {
			return err
		}
		return fmt.Errorf("list workflows matching %q: %w", q, err)
	}
	e.tell.say(out, e.log, "cohort listed", func(ev *zerolog.Event) *zerolog.Event {
		return ev.Str(logging.CampaignID, t.campaign).Str("query", q).Int("workflows", len(members))
	}, "%d running workflows match %s\n", len(members), q)
	if len(members) == 0 {
		return nil
	}
	// Encrypted like every payload the client sends: a batch operation's
	// input is handed to the server as it is.
	dc, err := codec.DataConverterFor(e.cfg)
	if err != nil {
		return err
	}
	jobID, signal := uuid.NewString(), d.name
	payloads, err := dc.ToPayloads(d.msg(jobID))
	if err != nil {
		return fmt.Errorf("encode %s signal: %w", signal, err)
	}
	reason := fmt.Sprintf("starter %s by %s", signal, orDash(t.actor))
	if t.reason != "" {
		reason += ": " + t.reason
	}
	for i := 0; i < len(members); i += maxBatchExecutions {
		chunk := members[i:min(i+maxBatchExecutions, len(members))]
		job := jobID
		if len(members) > maxBatchExecutions {
			job = fmt.Sprintf("%s-%d", jobID, i/maxBatchExecutions+1)
		}
		_, err = e.tc.WorkflowService().StartBatchOperation(ctx, &workflowservice.StartBatchOperationRequest{
			Namespace: e.cfg.TemporalNamespace,
			JobId:     job,
			Reason:    reason,
			//lint:ignore SA1019 TargetExecutions, its successor, is unknown to the servers we run (1.29)
			Executions: chunk,
			Operation: &workflowservice.StartBatchOperationRequest_SignalOperation{SignalOperation: &batch.BatchOperationSignal{
				Signal:   signal,
				Input:    payloads,
				Identity: "starter/" + t.actor,
			}},
		})
		if err != nil {
			return fmt.Errorf("start batch %s: %w", signal, err)
		}
		e.tell.say(out, e.log, "batch signal started", func(ev *zerolog.Event) *zerolog.Event {
			return ev.Str(logging.CampaignID, t.campaign).Str("job_id", job).Str("query", q).Int("workflows", len(chunk))
		}, "batch operation %s started: %s signal to %d workflows\n", job, signal, len(chunk))
		if t.wait || i+maxBatchExecutions < len(members) {
			if err := e.waitBatch(ctx, out, job); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *opsEnv) waitBatch(ctx context.Context, out io.Writer, jobID string) error {
	for {
		d, err := e.tc.WorkflowService().DescribeBatchOperation(ctx, &workflowservice.DescribeBatchOperationRequest{
			Namespace: e.cfg.TemporalNamespace, JobId: jobID,
		})
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("describe batch operation %s: %w", jobID, err)
		}
		if err == nil && d.GetState() != enums.BATCH_OPERATION_STATE_RUNNING && d.GetState() != enums.BATCH_OPERATION_STATE_UNSPECIFIED {
			state := strings.ToLower(strings.TrimPrefix(d.GetState().String(), "BATCH_OPERATION_STATE_"))
			e.tell.say(out, e.log, "batch operation ended", func(ev *zerolog.Event) *zerolog.Event {
				return ev.Str("job_id", jobID).Str("state", state).Int64("done", d.GetCompleteOperationCount()).
					Int64("total", d.GetTotalOperationCount()).Int64("failed", d.GetFailureOperationCount())
			}, "batch operation %s %s: %d of %d done, %d failed\n", jobID, state,
				d.GetCompleteOperationCount(), d.GetTotalOperationCount(), d.GetFailureOperationCount())
			if d.GetState() != enums.BATCH_OPERATION_STATE_COMPLETED || d.GetFailureOperationCount() > 0 {
				return fmt.Errorf("batch operation %s: %s, %d failed", jobID, d.GetState(), d.GetFailureOperationCount())
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// decision is an operator's decision on one partner (an Update) or a cohort
// (a batch Signal), with its checks.
type decision struct {
	name string              // the Update or Signal
	msg  func(id string) any // the message, given its ID
	// validate checks the decision against the campaign's program.
	validate func(*program.Program) error
	// member, when set, checks it against each partner it reaches, before
	// anything is sent to any of them.
	member func(store.Campaign, member) error
	show   func(io.Writer, workflows.Status)
}

// steer runs a decision against one partner or a cohort.
func steer(ctx context.Context, out, errOut io.Writer, t target, d decision) error {
	env, err := openOps(ctx, errOut, true)
	if err != nil {
		return err
	}
	defer env.Close()
	camp, err := env.loadCampaign(ctx, t.campaign)
	if err != nil {
		return err
	}
	if d.validate != nil {
		if err := d.validate(camp.Program); err != nil {
			return badInput(err)
		}
	}
	if t.query != "" {
		filter, err := parseCohortFilter(t.query)
		if err != nil {
			return badInput(err)
		}
		return env.batchSignal(ctx, out, t, filter, camp, d)
	}
	if err := env.requireEnrolled(ctx, t.campaign, t.partner); err != nil {
		return err
	}
	if d.member != nil {
		if err := env.checkPartner(ctx, t, camp, d); err != nil {
			return err
		}
	}
	id := uuid.NewString()
	st, err := env.update(ctx, t.campaign, t.partner, d.name, id, d.msg(id))
	if errors.Is(err, errUpdatePending) {
		env.log.Warn().Str(logging.CampaignID, t.campaign).Str(logging.PartnerID, t.partner).Str("message", d.name).
			Str("id", id).Msg("update accepted, not yet answered")
		pendingNotice(out, t.partner)
		return nil
	}
	if err != nil {
		if closed, why := env.closedWorkflow(ctx, t.campaign, t.partner, err); closed {
			return fmt.Errorf("%s: nothing changed", why)
		}
		return fmt.Errorf("%s partner %s: %w", d.name, t.partner, err)
	}
	if env.tell.json {
		env.log.Info().Str(logging.CampaignID, t.campaign).Str(logging.PartnerID, t.partner).Str("message", d.name).
			Str("id", id).Str("actor", t.actor).Str("stage", string(st.Stage)).Time("deadline", st.Deadline).
			Str("outcome", st.Outcome).Msg("update accepted")
		return nil
	}
	d.show(out, st)
	return nil
}

// checkPartner runs the decision's member check on one partner, reading its
// old tier and current deadline from its workflow.
func (e *opsEnv) checkPartner(ctx context.Context, t target, camp store.Campaign, d decision) error {
	qctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	var st workflows.Status
	v, err := e.tc.QueryWorkflow(qctx, workflows.WorkflowID(t.campaign, t.partner), "", workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	if err != nil {
		if closed, why := e.closedWorkflow(ctx, t.campaign, t.partner, err); closed {
			return fmt.Errorf("%s: nothing changed", why)
		}
		return fmt.Errorf("query status of partner %s: %w", t.partner, err)
	}
	return badInputOrNil(d.member(camp, member{PartnerID: t.partner, OldTier: st.OldTier, Deadline: st.Deadline}))
}

// badInputOrNil marks a non-nil err as bad input.
func badInputOrNil(err error) error {
	if err != nil {
		return badInput(err)
	}
	return nil
}

type extendOptions struct {
	target
	by       string
	allowFar bool
}

func newExtendCmd() *cobra.Command {
	var o extendOptions
	cmd := &cobra.Command{
		Use:   "extend --campaign ID (--partner P | --query Q) --by 30d [--allow-far-deadline]",
		Short: "Move the deadline of a partner or a cohort later",
		Long: `Extend moves the deadline later by --by (e.g. 30d, "2 weeks", "1 month") and
the partner is told by email. With --partner it answers with the new deadline;
with --query it signals every running transition of the campaign the visibility
query matches, e.g. --query 'OldTier="Enterprise" AND MeetsExpected = false'.

A new deadline in the past, or more than ` + fmt.Sprint(maxExtensionDays) + ` days after the partner's
original deadline (launch plus grace), is refused before anything is sent,
unless --allow-far-deadline (which allows up to ` + fmt.Sprint(maxFarExtensionDays) + ` days).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			problems := o.check(false)
			by, err := program.ParseDuration(o.by)
			if err != nil {
				problems = append(problems, "--by: "+err.Error())
			} else if err := checkExtensionFlag(by, time.Now(), o.allowFar); err != nil {
				problems = append(problems, err.Error())
			}
			if len(problems) > 0 {
				return badInputf("%s", strings.Join(problems, "\n"))
			}
			now := time.Now()
			return steer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.target, decision{
				name: workflows.MessageExtend,
				msg: func(id string) any {
					return workflows.ExtendDeadline{ID: id, By: by, Reason: o.reason, Actor: o.actor}
				},
				member: func(camp store.Campaign, m member) error {
					return checkExtension(camp, m, by, now, o.allowFar)
				},
				show: func(w io.Writer, st workflows.Status) {
					fmt.Fprintf(w, "Deadline of partner %s is now %s (extended by %s).\n", st.PartnerID, fmtTime(st.Deadline), by)
				},
			})
		},
	}
	o.flags(cmd, "why the deadline moves")
	cmd.Flags().StringVar(&o.by, "by", "", "how much later, e.g. 30d, 2w, \"1 month\"")
	cmd.Flags().BoolVar(&o.allowFar, "allow-far-deadline", false,
		fmt.Sprintf("allow a new deadline up to %d days (not %d) after the original one", maxFarExtensionDays, maxExtensionDays))
	_ = cmd.MarkFlagRequired("by")
	return cmd
}

type exemptOptions struct {
	target
	tier string
}

func newExemptCmd() *cobra.Command {
	var o exemptOptions
	cmd := &cobra.Command{
		Use:   "exempt --campaign ID (--partner P | --query Q) --reason TEXT [--tier T]",
		Short: "End the transition of a partner or a cohort, granting a tier without requirements",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if problems := o.check(true); len(problems) > 0 {
				return badInputf("%s", strings.Join(problems, "\n"))
			}
			return steer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.target, decision{
				name: workflows.MessageExempt,
				msg: func(id string) any {
					return workflows.Exempt{ID: id, Tier: o.tier, Reason: o.reason, Actor: o.actor}
				},
				validate: func(p *program.Program) error {
					if o.tier != "" && p.TierRank(o.tier) < 0 {
						names := make([]string, len(p.Tiers))
						for i, t := range p.Tiers {
							names[i] = t.Name
						}
						return fmt.Errorf("--tier %q is not a tier of program %s (tiers: %s)", o.tier, p.ID, strings.Join(names, ", "))
					}
					return nil
				},
				show: func(w io.Writer, st workflows.Status) {
					fmt.Fprintf(w, "Partner %s exempted (stage %s).\n", st.PartnerID, st.Stage)
				},
			})
		},
	}
	o.flags(cmd, "why the partner is exempted (required)")
	cmd.Flags().StringVar(&o.tier, "tier", "", "tier to grant (default: the expected tier)")
	return cmd
}

func newWithdrawCmd() *cobra.Command {
	var o target
	cmd := &cobra.Command{
		Use:   "withdraw --campaign ID (--partner P | --query Q) --reason TEXT",
		Short: "End the transition of a partner or a cohort: it leaves the program",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if problems := o.check(true); len(problems) > 0 {
				return badInputf("%s", strings.Join(problems, "\n"))
			}
			return steer(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, decision{
				name: workflows.MessageWithdraw,
				msg:  func(id string) any { return workflows.Withdraw{ID: id, Reason: o.reason, Actor: o.actor} },
				show: func(w io.Writer, st workflows.Status) {
					fmt.Fprintf(w, "Partner %s withdrawn (stage %s).\n", st.PartnerID, st.Stage)
				},
			})
		},
	}
	o.flags(cmd, "why the partner leaves (required)")
	return cmd
}
