package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"golang.org/x/time/rate"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
	"github.com/tiershift/tiershift/zones"
)

type launchOptions struct {
	campaign    string
	programFile string
	launchAt    string
	rate        float64
	concurrency int
	pageSize    int
	// progressEvery is how often a non-terminal run logs progress.
	progressEvery time.Duration
}

// maxListedFailures bounds the failures kept for the final listing; every
// failure is still counted and logged.
const maxListedFailures = 1000

func newLaunchCmd() *cobra.Command {
	o := launchOptions{pageSize: 500, progressEvery: 2 * time.Second}
	cmd := &cobra.Command{
		Use:   "launch --campaign ID --program P.yaml",
		Short: "Start one transition workflow per enrolled partner of a campaign",
		Long: `Launch validates the program, records it as the campaign's, then starts one
PartnerTransition workflow per partner enrolled by 'starter import'. Workflow
IDs are deterministic, so launching again (or after an interruption) starts only
what is missing: the others are reported as already running.

--launch-at is the campaign's launch (RFC 3339 or YYYY-MM-DD); it defaults to
the launch date already recorded for the campaign, else now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runLaunch(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	campaignFlag(f, &o.campaign)
	f.StringVar(&o.programFile, "program", "", "program file (YAML)")
	f.StringVar(&o.launchAt, "launch-at", "", "launch date, RFC 3339 or YYYY-MM-DD (default: the recorded one, else now)")
	f.Float64Var(&o.rate, "rate", 0, "workflow starts per second (0 = unlimited)")
	f.IntVar(&o.concurrency, "concurrency", 64, "concurrent workflow starts (64 was the best measured on the dev server; see BENCHMARKS.md)")
	_ = cmd.MarkFlagRequired("campaign")
	_ = cmd.MarkFlagRequired("program")
	return cmd
}

// parseLaunchAt reads RFC 3339 or a date (midnight UTC).
func parseLaunchAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (want RFC 3339 or YYYY-MM-DD)", s)
	}
	return t.UTC(), nil
}

type launchFailure struct {
	PartnerID string
	Err       error
}

func runLaunch(ctx context.Context, out, errOut io.Writer, o launchOptions) error {
	// Everything about the input is checked before anything is recorded.
	var problems []string
	if strings.TrimSpace(o.campaign) == "" {
		problems = append(problems, "--campaign is empty")
	}
	if o.rate < 0 {
		problems = append(problems, fmt.Sprintf("--rate %g: want starts per second >= 0 (0 = unlimited)", o.rate))
	}
	if o.concurrency < 1 {
		problems = append(problems, fmt.Sprintf("--concurrency %d: want at least 1", o.concurrency))
	}
	var launchAt time.Time
	if o.launchAt != "" {
		t, err := parseLaunchAt(o.launchAt)
		if err != nil {
			problems = append(problems, "--launch-at: "+err.Error())
		}
		launchAt = t
	}
	var prog *program.Program
	if src, err := os.ReadFile(o.programFile); err != nil {
		problems = append(problems, fmt.Sprintf("program: %v", err))
	} else if prog, err = program.Load(o.programFile, src); err != nil {
		problems = append(problems, err.Error())
	} else if err := email.ValidateOverrides(prog.Emails); err != nil {
		problems = append(problems, fmt.Sprintf("%s: emails: %v", o.programFile, err))
	}
	if len(problems) > 0 {
		return badInputf("%s", strings.Join(problems, "\n"))
	}

	env, err := openOps(ctx, errOut, true)
	if err != nil {
		return err
	}
	defer env.Close()
	log := env.log.With().Str(logging.CampaignID, o.campaign).Logger()

	if launchAt.IsZero() {
		c, err := env.st.GetCampaign(ctx, o.campaign)
		switch {
		case err == nil && !c.LaunchAt.IsZero():
			launchAt = c.LaunchAt.UTC()
		case err == nil || errors.Is(err, store.ErrNotFound):
			launchAt = time.Now().UTC().Truncate(time.Second)
		default:
			return err
		}
	}

	tiers, err := env.st.EnrolledTiers(ctx, o.campaign)
	if err != nil {
		return err
	}
	var total int64
	var untransitioned []string
	for tier, n := range tiers {
		total += n
		// A program with tracks has a transition per track and level: the
		// headline tier needs none, each partner's levels are checked as
		// it starts.
		if _, ok := prog.Transition(tier); !ok && !prog.HasTracks() {
			untransitioned = append(untransitioned, fmt.Sprintf("%q (%d partners)", tier, n))
		}
	}
	if total == 0 {
		return badInputf("campaign %q has no enrolled partners: import them first with `starter import --campaign %s --program %s PARTNERS.csv`",
			o.campaign, o.campaign, o.programFile)
	}
	if len(untransitioned) > 0 {
		sort.Strings(untransitioned)
		return badInputf("program %s has no transition for the old tiers %s of campaign %q's partners",
			prog.ID, strings.Join(untransitioned, ", "), o.campaign)
	}

	// Rows stored before the ID rule (or by hand) are named, and nothing
	// starts: their workflow IDs could collide or be refused by Temporal.
	bad, nBad, err := env.st.BadEnrolledIDs(ctx, o.campaign, 20)
	if err != nil {
		return err
	}
	if nBad > 0 {
		lines := make([]string, 0, len(bad)+1)
		for _, b := range bad {
			lines = append(lines, "  "+b.Err.Error())
		}
		if nBad > len(bad) {
			lines = append(lines, fmt.Sprintf("  ... and %d more", nBad-len(bad)))
		}
		return badInputf("campaign %q has %d enrolled partner(s) whose ID breaks the ID rule; nothing was started "+
			"(re-import them under valid IDs and remove the old enrollments):\n%s", o.campaign, nBad, strings.Join(lines, "\n"))
	}

	loc, err := zones.Load(cmp.Or(prog.TimeZone, zones.UTC))
	if err != nil {
		return badInput(err)
	}

	if err := env.st.RecordLaunch(ctx, o.campaign, o.programFile, prog, launchAt); err != nil {
		if errors.Is(err, store.ErrLaunchMismatch) {
			return badInput(err)
		}
		return err
	}
	env.tell.say(errOut, log, "launching campaign", func(e *zerolog.Event) *zerolog.Event {
		return e.Str("program", prog.ID).Time("launch_at", launchAt).Int64("partners", total).
			Float64("rate", o.rate).Int("concurrency", o.concurrency)
	}, "launching campaign %s: program %s, %d partners, launch at %s\n", o.campaign, prog.ID, total, launchAt.Format(time.RFC3339))

	l := &launcher{env: env, log: log, opts: o, prog: prog, tracks: prog.TrackPrograms(), loc: loc, launchAt: launchAt, progress: newProgress(total, time.Now())}
	if o.rate > 0 {
		l.limiter = rate.NewLimiter(rate.Limit(o.rate), 1)
	}
	repCtx, stopReport := context.WithCancel(context.Background())
	repDone := make(chan struct{})
	go func() {
		defer close(repDone)
		l.progress.report(repCtx, errOut, isTerminalWriter(errOut), env.tell, log, o.progressEvery)
	}()
	runErr := l.run(ctx)
	stopReport()
	<-repDone

	s := l.progress.snapshot(time.Now())
	env.tell.say(out, log, "launch finished", func(e *zerolog.Event) *zerolog.Event {
		return s.log(e).Str("elapsed", logging.Duration(s.Elapsed)).Int64("untracked", l.untracked.Load())
	}, "campaign %s: %d partners: %d started, %d already running, %d failed in %s\n",
		o.campaign, s.Total, s.Started, s.Already, s.Failed, logging.Duration(s.Elapsed))
	if n := l.untracked.Load(); n > 0 && !env.tell.json {
		fmt.Fprintf(out, "%d partners hold a level in no track of program %s: nothing to decide, not started\n", n, prog.ID)
	}
	// Each failure is logged as an error as it happens; a person also gets
	// the list at the end.
	if s.Failed > 0 && !env.tell.json {
		fmt.Fprintf(out, "failed starts:\n")
		for _, f := range l.failures {
			fmt.Fprintf(out, "  %s: %v\n", f.PartnerID, f.Err)
		}
		if n := s.Failed - int64(len(l.failures)); n > 0 {
			fmt.Fprintf(out, "  ... and %d more (see the log)\n", n)
		}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("launch interrupted after %d of %d partners; run it again to start the rest", s.Done, s.Total)
		}
		return runErr
	}
	if s.Failed > 0 {
		return fmt.Errorf("%d workflow starts failed; run the launch again to retry them", s.Failed)
	}
	return markRunning(ctx, out, env, log, o.campaign)
}

// markRunning records that every workflow has started and completes the
// campaign at once if its transitions have all ended already (a launch run
// again after the last partner finished).
func markRunning(ctx context.Context, out io.Writer, env *opsEnv, log zerolog.Logger, campaign string) error {
	if err := env.st.MarkCampaignRunning(ctx, campaign); err != nil {
		return err
	}
	completed, err := env.st.CompleteCampaignIfDone(ctx, campaign)
	if err != nil {
		return err
	}
	c, err := env.st.GetCampaign(ctx, campaign)
	if err != nil {
		return err
	}
	fields := func(e *zerolog.Event) *zerolog.Event { return e.Str("state", c.State) }
	if completed || c.State == store.CampaignCompleted {
		env.tell.say(out, log, "campaign completed", fields, "campaign %s completed: every transition has ended\n", campaign)
		return nil
	}
	env.tell.say(out, log, "campaign "+c.State, fields, "campaign %s is %s\n", campaign, c.State)
	return nil
}

type launcher struct {
	env  *opsEnv
	log  zerolog.Logger
	opts launchOptions
	prog *program.Program
	// tracks is prog.TrackPrograms(), built once.
	tracks   []program.TrackProgram
	loc      *time.Location // the program's zone
	launchAt time.Time
	limiter  *rate.Limiter
	progress *progress

	mu       sync.Mutex
	failures []launchFailure
	// untracked counts the partners of a program with tracks that hold a
	// level in none: they are not started (plan counts them "in no track").
	untracked atomic.Int64
}

// run pages through the enrollments (one page in memory at a time) and feeds
// them to the start workers.
func (l *launcher) run(ctx context.Context) error {
	jobs := make(chan store.LaunchTarget, l.opts.concurrency*2)
	var wg sync.WaitGroup
	for range l.opts.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range jobs {
				l.start(ctx, t)
			}
		}()
	}
	err := l.feed(ctx, jobs)
	close(jobs)
	wg.Wait()
	return err
}

func (l *launcher) feed(ctx context.Context, jobs chan<- store.LaunchTarget) error {
	after := ""
	for {
		targets := l.env.st.LaunchTargets
		if l.prog.HasTracks() {
			targets = l.env.st.LaunchTargetsWithTracks
		}
		page, err := targets(ctx, l.opts.campaign, after, l.opts.pageSize)
		if err != nil {
			return err
		}
		for _, t := range page {
			select {
			case jobs <- t:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if len(page) < l.opts.pageSize {
			return nil
		}
		after = page[len(page)-1].PartnerID
	}
}

func (l *launcher) start(ctx context.Context, t store.LaunchTarget) {
	if ctx.Err() != nil {
		return
	}
	// A workflow writes its enrollment's stage: any stage but "enrolled"
	// means it has started, so there is nothing to ask Temporal.
	if t.Stage != store.StageEnrolled {
		l.progress.already.Add(1)
		return
	}
	if l.prog.HasTracks() && len(t.Tracks) == 0 {
		l.untracked.Add(1)
		return
	}
	if l.limiter != nil {
		if err := l.limiter.Wait(ctx); err != nil {
			return
		}
	}
	err := l.startOne(ctx, t)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case err == nil:
		l.progress.started.Add(1)
	case errors.As(err, &already):
		l.progress.already.Add(1)
	case ctx.Err() != nil:
		// interrupted: neither started nor failed
	default:
		l.progress.failed.Add(1)
		l.log.Error().Err(err).Str(logging.PartnerID, t.PartnerID).Msg("workflow start failed")
		l.mu.Lock()
		if len(l.failures) < maxListedFailures {
			l.failures = append(l.failures, launchFailure{PartnerID: t.PartnerID, Err: err})
		}
		l.mu.Unlock()
	}
}

func (l *launcher) startOne(ctx context.Context, t store.LaunchTarget) error {
	in := workflows.TransitionInput{
		CampaignID:     l.opts.campaign,
		PartnerID:      t.PartnerID,
		OldTier:        t.OldTier,
		LaunchAt:       l.launchAt,
		ProgramID:      l.prog.ID,
		EmailTaskQueue: l.env.cfg.EmailTaskQueue,
		TrackLevels:    t.Tracks,
	}
	expect, deadline, err := l.expectation(in)
	if err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	opts := client.StartWorkflowOptions{
		ID:                                       workflows.WorkflowID(l.opts.campaign, t.PartnerID),
		TaskQueue:                                l.env.cfg.TaskQueue,
		WorkflowIDReusePolicy:                    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    workflows.StartSearchAttributes(in, expect),
		StaticSummary:                            launchSummary(t.PartnerID, t.OldTier, expect, deadline),
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err = l.env.tc.ExecuteWorkflow(sctx, opts, workflows.WorkflowName, in)
	return err
}

// expectation is what the launcher shows of a transition before it runs:
// the expected tier and the deadline. A partner of a program with tracks
// has an expected level per track ("Resell:Advanced|Sell With:Ready") and
// the latest of its tracks' deadlines; its levels are checked here, so a
// level the program does not know fails the start, not the workflow.
func (l *launcher) expectation(in workflows.TransitionInput) (string, time.Time, error) {
	if !l.prog.HasTracks() {
		tr, ok := l.prog.Transition(in.OldTier)
		if !ok {
			return "", time.Time{}, fmt.Errorf("old tier %q has no transition in program %s", in.OldTier, l.prog.ID)
		}
		// As a new run sets it (program.DeadlineIn), shown on the program's calendar.
		return tr.Expect, tr.Grace.EndOfDayFrom(l.launchAt, l.loc).In(l.loc), nil
	}
	if problems := l.prog.CheckLevels(in.TrackLevels); len(problems) > 0 {
		return "", time.Time{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	deadline, err := program.LatestDeadline(l.tracks, in.TrackLevels, func(p *program.Program, oldTier string) (time.Time, error) {
		return p.DeadlineIn(oldTier, l.launchAt, l.loc) // as the workflow sets it
	})
	return program.ExpectedLevels(l.tracks, in.TrackLevels), deadline.In(l.loc), err
}

// launchSummary is the one line the Web UI shows for a workflow, e.g.
// "R-02 · Enterprise → Enterprise by 2010-01-14", the date in deadline's
// location (the program's zone). It names the partner by
// ID, never by name: the summary is shown to anyone who can list
// workflows, and an operator with the codec server reads the name in the
// input and state.
func launchSummary(partnerID, oldTier, expected string, deadline time.Time) string {
	return fmt.Sprintf("%s · %s → %s by %s", partnerID, oldTier, expected, deadline.Format(time.DateOnly))
}
