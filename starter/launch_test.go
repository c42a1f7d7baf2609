package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities"
	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/temporalx"
	"github.com/tiershift/tiershift/workflows"
)

// opsProgramYAML is a small valid program: Enterprise partners are expected
// to reach Gold (VTSP x2 and a competency), Premier partners Silver (VTSP).
const opsProgramYAML = `program:
  id: ops-test
  name: Ops Test Program
  vendor: Example Vendor
  currency: USD
catalog:
  certifications: [VTSP, VCP]
  competencies: [Infrastructure Virtualization]
  modules: [Resell]
old_program:
  tiers: [Enterprise, Premier]
new_program:
  fallback: Registered
  tiers:
    - name: Silver
      requires:
        certification: VTSP
    - name: Gold
      requires:
        all_of:
          - certification: VTSP
            count: 2
          - competency: Infrastructure Virtualization
transitions:
  - from: Enterprise
    grace: 6 months
    expect: Gold
  - from: Premier
    grace: 6 months
    expect: Silver
reminders: [1 month]
emails:
  from: {email: partners@vendor.example, name: Vendor Partner Program}
  locales: [en, fr]
`

type opsFixture struct {
	t        *testing.T
	db       *pgtest.DB
	tc       client.Client
	queue    string
	campaign string
	program  string
}

func randomID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// opsDB gives the test its own schema and points the starter at it.
func opsDB(t *testing.T) *opsFixture {
	t.Helper()
	db := pgtest.New(t)
	t.Setenv("DATABASE_URL", db.URL)
	t.Setenv("LOG_FORMAT", "console") // sentences on stdout, as a person gets them
	t.Setenv("LOG_LEVEL", "warn")
	f := &opsFixture{t: t, db: db, campaign: "ops-" + randomID()}
	f.program = filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(f.program, []byte(opsProgramYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// opsTemporal adds a Temporal client and the test's own task queues; with
// withWorker it also runs the transition workflow and its activities on them
// (email captured by a stub that always succeeds).
func opsTemporal(t *testing.T, withWorker bool) *opsFixture {
	t.Helper()
	f := opsDB(t)
	f.tc = temporaltest.Client(t)
	f.queue = temporaltest.TaskQueue(t)
	t.Setenv("TIERSHIFT_TASK_QUEUE", f.queue)
	t.Setenv("TIERSHIFT_EMAIL_TASK_QUEUE", f.queue+"-email")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := temporalx.EnsureSearchAttributes(ctx, f.tc, temporaltest.Namespace()); err != nil {
		t.Fatal(err)
	}
	if withWorker {
		w := worker.New(f.tc, f.queue, worker.Options{})
		w.RegisterWorkflowWithOptions(workflows.PartnerTransition, workflow.RegisterOptions{Name: workflows.WorkflowName})
		(&activities.Store{DB: store.New(f.db.Pool), Log: zerolog.Nop()}).Register(w)
		mail := worker.New(f.tc, f.queue+"-email", worker.Options{})
		// The real mailer in capture mode (no API key): it renders and
		// records each message, and sends nothing.
		activities.NewMailer(f.db.Pool, "", "", 0, zerolog.Nop()).Register(mail)
		for _, x := range []worker.Worker{w, mail} {
			if err := x.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(x.Stop)
		}
	}
	// Runs before the workers stop (cleanups run last-in first-out).
	t.Cleanup(f.terminateAll)
	return f
}

// terminateAll ends the campaign's workflows, so they do not linger on the
// shared dev server. It names each by its deterministic ID, from the
// campaign's enrollments, rather than waiting for visibility to list them.
func (f *opsFixture) terminateAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := store.New(f.db.Pool)
	for after := ""; ; {
		page, err := st.ListEnrollments(ctx, f.campaign, after, 1000)
		if err != nil {
			f.t.Errorf("list the enrollments whose workflows to end: %v", err)
			return
		}
		if len(page) == 0 {
			return
		}
		for _, e := range page {
			if ids.Partner(e.PartnerID) != nil {
				continue // the launch refuses such IDs: no workflow was started
			}
			err := f.tc.TerminateWorkflow(ctx, workflows.WorkflowID(f.campaign, e.PartnerID), "", "test cleanup")
			var nf *serviceerror.NotFound // never started, or already closed
			if err != nil && !errors.As(err, &nf) {
				f.t.Errorf("terminate the workflow of %s: %v", e.PartnerID, err)
			}
		}
		after = page[len(page)-1].PartnerID
	}
}

// seed inserts partners and enrolls them in the campaign, as an import does.
func (f *opsFixture) seed(partners ...[2]string) {
	f.t.Helper()
	f.db.Exec(f.t, `INSERT INTO campaigns (campaign_id) VALUES ($1) ON CONFLICT DO NOTHING`, f.campaign)
	for _, p := range partners {
		f.db.Exec(f.t, `INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ($1, $2, $3, 'en', $4)`,
			p[0], "Partner "+p[0], p[0]+"@example.com", p[1])
		f.db.Exec(f.t, `INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier) VALUES ($1, $2, $3, $4)`,
			f.campaign, p[0], workflows.WorkflowID(f.campaign, p[0]), p[1])
	}
}

func (f *opsFixture) count(sql string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// visible counts the campaign's workflows matching extra, polling until want
// or the deadline (visibility is eventually consistent).
func (f *opsFixture) waitVisible(extra string, want int64) int64 {
	f.t.Helper()
	q := fmt.Sprintf("CampaignId = '%s'", f.campaign)
	if extra != "" {
		q += " AND " + extra
	}
	deadline := time.Now().Add(30 * time.Second)
	var n int64 = -1
	for time.Now().Before(deadline) {
		resp, err := f.tc.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{Query: q})
		if err == nil {
			n = resp.GetCount()
			if n == want {
				return n
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	f.t.Fatalf("%s: %d workflows visible, want %d", q, n, want)
	return n
}

// starter runs the CLI in-process and returns its output and exit code.
func opsRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runWith(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

func opsMust(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := opsRun(t, args...)
	if code != 0 {
		t.Fatalf("starter %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestLaunchTwiceStartsOneWorkflowPerPartner(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Premier"}, [2]string{"p3", "Enterprise"},
		[2]string{"p4", "Premier"}, [2]string{"p5", "Premier"})
	launchAt := time.Now().AddDate(1, 0, 0).UTC().Format(time.DateOnly) // workflows wait for it

	out := opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program, "--launch-at", launchAt,
		"--rate", "50", "--concurrency", "2")
	if !strings.Contains(out, "5 partners: 5 started, 0 already running, 0 failed") {
		t.Fatalf("first launch:\n%s", out)
	}
	f.waitVisible("", 5)

	// No --launch-at: the recorded one is kept, so the campaign is the same.
	out = opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	if !strings.Contains(out, "5 partners: 0 started, 5 already running, 0 failed") {
		t.Fatalf("second launch:\n%s", out)
	}
	f.waitVisible("", 5)
	f.waitVisible("OldTier = 'Premier' AND ExpectedTier = 'Silver'", 3)
	if n := f.count(`SELECT count(*) FROM campaigns WHERE campaign_id = $1 AND state = 'running' AND program_id = 'ops-test'`, f.campaign); n != 1 {
		t.Fatalf("campaign not recorded as running")
	}

	// Resuming: a partner enrolled after the launch gets its workflow, the
	// others are left alone (even while Postgres still says "enrolled").
	f.seed([2]string{"p6", "Enterprise"})
	f.db.Exec(t, `UPDATE enrollments SET stage = 'enrolled' WHERE campaign_id = $1`, f.campaign)
	out = opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	if !strings.Contains(out, "6 partners: 1 started, 5 already running, 0 failed") {
		t.Fatalf("third launch:\n%s", out)
	}
	f.waitVisible("", 6)

	d, err := f.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(f.campaign, "p1"), "")
	if err != nil {
		t.Fatal(err)
	}
	// The summary names the partner by ID, never by name (it is a payload
	// like any other, so it is read through the configured codec).
	var summary string
	if s := d.GetExecutionConfig().GetUserMetadata().GetSummary(); s == nil || f.dataConverter().FromPayload(s, &summary) != nil ||
		!strings.HasPrefix(summary, "p1 · Enterprise → Gold by") || strings.Contains(summary, "Partner p1") {
		t.Errorf("summary: %q (%v)", summary, s)
	}

	// The start carries the program's ID, not the program: the worker loads
	// the one stored with the campaign, and the transition runs on it.
	first, err := f.tc.GetWorkflowHistory(context.Background(), workflows.WorkflowID(f.campaign, "p1"), "", false, 0).Next()
	if err != nil {
		t.Fatal(err)
	}
	var in workflows.TransitionInput
	if err := f.dataConverter().FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in); err != nil {
		t.Fatal(err)
	}
	if in.Program != nil || in.ProgramID != "ops-test" {
		t.Errorf("start input carries program %v and ID %q; want only the ID ops-test", in.Program != nil, in.ProgramID)
	}
	st := f.waitStatus("p1")
	launchDay, _ := time.Parse(time.DateOnly, launchAt)
	// The program names no zone: six months on, at the end of that day in UTC.
	if want := launchDay.AddDate(0, 6, 1).Add(-time.Second); st.Stage != workflows.StageWaitingLaunch || st.ExpectedTier != "Gold" || !st.Deadline.Equal(want) {
		t.Errorf("status of p1 = %+v; want waiting for launch, Gold due at the end of the day six months after %s", st, launchAt)
	}
}

// dataConverter reads payloads as the starter under test wrote them: with
// the codec of TIERSHIFT_CODEC_KEY_FILE or TIERSHIFT_CODEC_KEYS if set.
func (f *opsFixture) dataConverter() converter.DataConverter {
	f.t.Helper()
	cfg, err := config.FromEnv()
	if err != nil {
		f.t.Fatal(err)
	}
	dc, err := codec.DataConverterFor(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return dc
}

// waitStatus queries a partner's transition, polling until its first
// workflow task has run (a Query needs one) or the deadline.
func (f *opsFixture) waitStatus(partnerID string) workflows.Status {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := f.tc.QueryWorkflow(context.Background(), workflows.WorkflowID(f.campaign, partnerID), "", workflows.QueryStatus)
		if err == nil {
			var st workflows.Status
			if err := v.Get(&st); err != nil {
				f.t.Fatal(err)
			}
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("status of %s: %v", partnerID, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestLaunchBadProgramExitsTwoAndRecordsNothing(t *testing.T) {
	f := opsDB(t)
	f.seed([2]string{"p1", "Enterprise"})
	bad := strings.Replace(opsProgramYAML, "currency: USD", "currency: dollars", 1)
	bad = strings.Replace(bad, "expect: Silver", "expect: Platinum", 1)
	file := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(file, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := opsRun(t, "launch", "--campaign", f.campaign, "--program", file)
	if code != exitInput {
		t.Fatalf("exit %d, want %d\n%s", code, exitInput, errOut)
	}
	for _, want := range []string{"program.currency", "Platinum"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("errors do not mention %q:\n%s", want, errOut)
		}
	}
	if n := f.count(`SELECT count(*) FROM campaigns WHERE campaign_id = $1 AND state = 'draft' AND program IS NULL`, f.campaign); n != 1 {
		t.Errorf("campaign changed by a rejected launch")
	}

	for name, args := range map[string][]string{
		"bad date":        {"--launch-at", "next monday"},
		"negative rate":   {"--rate", "-1"},
		"zero workers":    {"--concurrency", "0"},
		"missing program": {"--program", filepath.Join(t.TempDir(), "none.yaml")},
	} {
		full := append([]string{"launch", "--campaign", f.campaign, "--program", f.program}, args...)
		if _, errOut, code := opsRun(t, full...); code != exitInput {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, exitInput, errOut)
		}
	}
}

func TestLaunchWithoutPartnersIsAnInputError(t *testing.T) {
	f := opsTemporal(t, false)
	_, errOut, code := opsRun(t, "launch", "--campaign", f.campaign, "--program", f.program)
	if code != exitInput || !strings.Contains(errOut, "no enrolled partners") {
		t.Fatalf("exit %d:\n%s", code, errOut)
	}
	if n := f.count(`SELECT count(*) FROM campaigns WHERE campaign_id = $1 AND state <> 'draft'`, f.campaign); n != 0 {
		t.Errorf("campaign recorded without partners")
	}
}

func TestLaunchProgress(t *testing.T) {
	p := newProgress(10, time.Unix(0, 0))
	p.started.Add(4)
	p.already.Add(1)
	s := p.snapshot(time.Unix(5, 0))
	bar := s.bar()
	for _, want := range []string{"50%", "5/10", "started 4", "already 1", "failed 0", "1.0/s", "ETA 5s"} {
		if !strings.Contains(bar, want) {
			t.Errorf("bar %q lacks %q", bar, want)
		}
	}
	if got := launchSummary("R-02", "Enterprise", "Enterprise",
		time.Date(2010, 1, 14, 0, 0, 0, 0, time.UTC)); got != "R-02 · Enterprise → Enterprise by 2010-01-14" {
		t.Errorf("summary %q", got)
	}
	// 04:59:59 UTC on 15 January is still 14 January in New York (UTC−5).
	ny, _ := time.LoadLocation("America/New_York")
	if got := launchSummary("R-02", "Enterprise", "Enterprise",
		time.Date(2010, 1, 15, 4, 59, 59, 0, time.UTC).In(ny)); got != "R-02 · Enterprise → Enterprise by 2010-01-14" {
		t.Errorf("summary in the program's zone %q", got)
	}
	if _, err := program.Load("x.yaml", []byte(opsProgramYAML)); err != nil {
		t.Fatalf("test program: %v", err)
	}
}

// TestLaunchCompletesACampaignWithNoTransitionLeft runs the launch again
// after every partner's transition ended while the campaign was still
// launching: nothing is started and the campaign is completed, not running.
func TestLaunchCompletesACampaignWithNoTransitionLeft(t *testing.T) {
	f := opsTemporal(t, false)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Premier"})
	f.recordLaunch()
	f.db.Exec(t, `UPDATE enrollments SET stage = 'done', outcome = 'kept' WHERE campaign_id = $1`, f.campaign)

	// A person reads sentences, and no info line repeats them.
	t.Setenv("LOG_LEVEL", "info")
	out, errOut, code := opsRun(t, "launch", "--campaign", f.campaign, "--program", f.program)
	if code != 0 || !strings.Contains(out, "2 partners: 0 started, 2 already running, 0 failed") {
		t.Fatalf("launch: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "launching campaign "+f.campaign) || strings.Contains(errOut, " INF ") {
		t.Errorf("stderr of a launch for a person:\n%s", errOut)
	}
	if want := "campaign " + f.campaign + " completed"; !strings.Contains(out, want) {
		t.Errorf("launch output lacks %q:\n%s", want, out)
	}
	if n := f.count(`SELECT count(*) FROM campaigns WHERE campaign_id = $1 AND state = 'completed'`, f.campaign); n != 1 {
		t.Fatalf("campaign not completed after the launch")
	}
}
