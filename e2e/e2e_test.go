// Package e2e runs a whole rehearsal campaign through the real binaries: the
// worker and the starter as processes, the Temporal dev server, PostgreSQL,
// and the real sendgrid-go client talking to a local SendGrid stand-in. It
// injects the faults operators fear (a killed worker during the launch and
// the deadline wave, Postgres down, SendGrid failing) and checks that nothing
// was lost and nothing doubled.
//
// The PostgreSQL outage hits a cluster the test creates for itself (its own
// data directory and port), never the server other tests and people use.
// `make test` still runs this package on its own, after the others: it runs
// two binaries and a cluster for minutes and needs the machine's cores.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/tiershift/tiershift/internal/exampletest"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/sendgridstub"
	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/workflows"
)

const (
	programFile  = "../examples/rehearsal/program.yaml"
	partnersFile = "../examples/rehearsal/partners.csv"
	apiKey       = "SG.e2e-test-key"
)

// failureLog is the test's *testing.T that also keeps every failure, so the
// test can repeat them after the worker logs: CI shows only the end of a
// long output.
type failureLog struct {
	*testing.T
	mu       sync.Mutex
	failures []string
}

func (f *failureLog) record(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, msg)
}

func (f *failureLog) Errorf(format string, args ...any) {
	f.T.Helper()
	f.record(fmt.Sprintf(format, args...))
	f.T.Errorf(format, args...)
}

func (f *failureLog) Fatalf(format string, args ...any) {
	f.T.Helper()
	f.record(fmt.Sprintf(format, args...))
	f.T.Fatalf(format, args...)
}

func (f *failureLog) Fatal(args ...any) {
	f.T.Helper()
	f.record(fmt.Sprint(args...))
	f.T.Fatal(args...)
}

// summarize, registered before anything else, runs after every other
// cleanup (and so after the worker logs) and repeats the failures.
func (f *failureLog) summarize() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.T.Failed() {
		f.T.Logf("FAILED (%d):\n  %s", len(f.failures), strings.Join(f.failures, "\n  "))
	}
}

// stack is the running system under test.
type stack struct {
	t        *failureLog
	bin      string
	env      []string
	cluster  *pgtest.Cluster
	db       *pgtest.DB
	tc       client.Client
	stub     *sendgridstub.Stub
	campaign string
	worker   *workerProc // the worker the faults hit
	steady   *workerProc // with two workers: the one never killed
	logs     string
	workers  int
}

// EnvWorkers asks for two worker processes ("2"): one is killed during the
// launch and again, for good, at the deadline wave, and the other must finish
// every partner. `make test-cluster` sets it, since on a cluster a second
// worker is how a deployment survives losing one. Unset or "1": one worker,
// killed and restarted, as on the dev server.
const EnvWorkers = "TIERSHIFT_E2E_WORKERS"

func workerCount(t testing.TB) int {
	switch v := os.Getenv(EnvWorkers); v {
	case "", "1":
		return 1
	case "2":
		return 2
	default:
		t.Fatalf("%s=%q: want 1 or 2", EnvWorkers, v)
		return 0
	}
}

func TestRehearsalCampaignSurvivesFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end campaign takes minutes")
	}
	ft := &failureLog{T: t}
	t.Cleanup(ft.summarize)
	useOwnCodecKey(t)
	s := &stack{t: ft, bin: t.TempDir(), cluster: pgtest.NewCluster(t), tc: temporaltest.Client(t), logs: t.TempDir()}
	s.db = s.cluster.NewDB(t)
	s.stub = sendgridstub.New()
	t.Cleanup(s.stub.Close)
	s.stub.SetKey(apiKey)
	s.campaign = fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	queue := temporaltest.TaskQueue(t)
	s.env = append(os.Environ(),
		"DATABASE_URL="+s.db.URL,
		"TIERSHIFT_TASK_QUEUE="+queue,
		"TIERSHIFT_EMAIL_TASK_QUEUE="+queue+"-email",
		"TIERSHIFT_EMAIL_RATE=0",
		// The stand-in lists an accepted message at once; a send the worker
		// was killed before making is resent after 15 s, not 5 minutes.
		"TIERSHIFT_EMAIL_CONFIRM_WINDOW=15s",
		"SENDGRID_API_KEY="+apiKey,
		"SENDGRID_API_URL="+s.stub.URL,
		"LOG_FORMAT=json",
	)
	s.build()

	prog := loadProgram(t)
	partners := readPartners(t)
	// One partner's address is rejected by SendGrid for good: its emails are
	// marked failed and its transition still completes.
	rejected := partners[0]
	s.stub.RejectAddress(rejected.Email, http.StatusBadRequest, "The to.email address does not contain a valid address.")
	// SendGrid is unwell at first: errors, then a rate limit, then it
	// accepts a message and its answer is lost, so the mailer must find
	// that message in the Email Activity rather than send it again.
	s.stub.Enqueue(sendgridstub.ServerError(), sendgridstub.ServerError(), sendgridstub.ServerError(),
		sendgridstub.RateLimited(time.Now().Add(2*time.Second)), sendgridstub.RateLimited(time.Now().Add(2*time.Second)),
		sendgridstub.AcceptSilently())

	s.starter("migrate")
	s.starter("import", "--campaign", s.campaign, "--program", programFile, partnersFile)
	twoWorkers := workerCount(t) == 2
	if twoWorkers {
		s.startWorker()
		s.steady, s.worker = s.worker, nil
		t.Logf("two workers against %s: %s is never killed", temporaltest.Address(), "worker-1")
	}
	s.startWorker()

	// The launcher is killed half-way and run again; the worker is killed
	// during the launch and restarted. Every partner ends with one workflow.
	launch := s.starterCmd("launch", "--campaign", s.campaign, "--program", programFile, "--rate", "3", "--concurrency", "2")
	if err := launch.Start(); err != nil {
		ft.Fatal(err)
	}
	s.waitFor("some workflows started", 60*time.Second, func() bool { return s.count("") >= 3 })
	s.killWorker()
	_ = launch.Process.Signal(syscall.SIGKILL)
	_ = launch.Wait()
	started := s.count("")
	if started >= len(partners) {
		t.Logf("launcher finished before it was killed (%d workflows)", started)
	}
	s.startWorker()
	out := s.starter("launch", "--campaign", s.campaign, "--program", programFile, "--rate", "0")
	t.Logf("second launch: %s", lastLine(out))
	s.waitFor("every partner has a workflow", 60*time.Second, func() bool { return s.count("") == len(partners) })

	// Facts arrive from outside during the run, for partners whose outcome
	// they change.
	signalled := s.sendFacts(prog, partners, 2)

	// Postgres goes away for a few seconds while workflows run.
	s.cluster.Stop()
	time.Sleep(4 * time.Second) // the outage itself, not a synchronisation
	s.cluster.Start()

	// The worker dies as the first deadlines fall due and comes back; with
	// two workers it stays dead and the other one finishes every partner.
	firstDeadline := s.firstDeadline()
	s.waitFor("the first deadline", time.Until(firstDeadline)+time.Minute, func() bool { return !time.Now().Before(firstDeadline) })
	s.killWorker()
	if !twoWorkers {
		time.Sleep(2 * time.Second) // the outage itself
		s.startWorker()
	}

	last := s.lastDeadline()
	s.waitFor("every transition to finish", time.Until(last)+4*time.Minute, func() bool {
		return s.count("") == len(partners) && s.count("ExecutionStatus = 'Running'") == 0
	})

	s.checkOutcomesMatchPlan(partners)
	s.checkEmails(partners, rejected.PartnerID)
	s.checkAudit(partners)
	s.checkVisibility(partners, rejected.PartnerID)
	s.checkPersonalData(partners)
	s.checkTLSRefusals(partners[1].PartnerID)
	if twoWorkers {
		select {
		case <-s.steady.done:
			t.Errorf("the steady worker exited during the run: %v", s.steady.err)
		default:
		}
	}
	t.Logf("facts sent to %v; %d SendGrid requests, %d accepted", signalled, s.stub.Requests(), s.stub.Accepted())
}

func loadProgram(t *testing.T) *program.Program { return exampletest.Program(t, programFile) }

func readPartners(t *testing.T) []partnerfile.Row { return exampletest.Partners(t, partnersFile) }

func (s *stack) build() {
	s.t.Helper()
	for _, pkg := range []string{"worker", "starter"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(s.bin, pkg), "../"+pkg)
		if out, err := cmd.CombinedOutput(); err != nil {
			s.t.Fatalf("build %s: %v\n%s", pkg, err, out)
		}
	}
}

func (s *stack) starterCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, "starter"), args...)
	cmd.Env = s.env
	return cmd
}

// starter runs one starter command to completion and returns its stdout.
func (s *stack) starter(args ...string) string {
	s.t.Helper()
	cmd := s.starterCmd(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Fatalf("starter %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		s.t.Fatalf("starter %s did not finish in time\nstderr:\n%s", strings.Join(args, " "), stderr.String())
	}
	return stdout.String()
}

// workerProc is a running bin/worker; done is closed once it has exited,
// with err holding how.
type workerProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (s *stack) startWorker() {
	s.t.Helper()
	s.workers++
	logPath := filepath.Join(s.logs, fmt.Sprintf("worker-%d.log", s.workers))
	f, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(s.bin, "worker"))
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, done: make(chan struct{})}
	go func() { w.err = cmd.Wait(); close(w.done) }()
	s.worker = w
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-w.done
		f.Close()
		if s.t.Failed() {
			data, _ := os.ReadFile(logPath)
			s.t.Logf("worker %s log (tail):\n%s", logPath, tail(string(data), 40))
		}
	})
	s.waitFor("worker ready", 60*time.Second, func() bool {
		data, _ := os.ReadFile(logPath)
		return bytes.Contains(data, []byte("worker ready"))
	})
}

func (s *stack) killWorker() {
	s.t.Helper()
	if s.worker == nil {
		return
	}
	_ = s.worker.cmd.Process.Signal(syscall.SIGKILL)
	<-s.worker.done
	s.worker = nil
}

// waitFor polls cond until it holds or the time is up: the only waiting the
// test does on the system under test.
func (s *stack) waitFor(what string, within time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// count asks Temporal visibility how many of the campaign's workflows match.
func (s *stack) count(extra string) int {
	q := fmt.Sprintf("CampaignId = '%s'", s.campaign)
	if extra != "" {
		q += " AND " + extra
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := s.tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q})
	if err != nil {
		s.t.Logf("count %q: %v", q, err)
		return -1
	}
	return int(resp.GetCount())
}

// sendFacts sends, for up to n partners, one fact that changes their
// forecast outcome, through `starter signal` as an operator or an LMS would.
func (s *stack) sendFacts(prog *program.Program, partners []partnerfile.Row, n int) []string {
	s.t.Helper()
	var done []string
	for _, p := range partners[1:] {
		if len(done) == n {
			break
		}
		before, err := prog.Evaluate(p.Tier, p.Facts)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, cert := range prog.Certifications {
			c := program.FactChange{Op: "cert-earned", Name: cert, Count: 1}
			after, _ := prog.Evaluate(p.Tier, p.Facts.Apply(c))
			if after.NewTier == before.NewTier {
				continue
			}
			s.starter("signal", "--campaign", s.campaign, "--partner", p.PartnerID, "cert-earned", cert)
			done = append(done, p.PartnerID)
			break
		}
	}
	if len(done) == 0 {
		s.t.Fatal("no partner in the rehearsal file changes outcome with one more certification")
	}
	return done
}

func (s *stack) deadlines() []time.Time {
	rows, err := s.db.Pool.Query(context.Background(), `SELECT deadline FROM enrollments WHERE campaign_id = $1 AND deadline IS NOT NULL ORDER BY deadline`, s.campaign)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		s.t.Fatal("no enrollment has a deadline yet")
	}
	return out
}

func (s *stack) firstDeadline() time.Time {
	s.waitFor("deadlines recorded", time.Minute, func() bool {
		var n int
		_ = s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM enrollments WHERE campaign_id = $1 AND deadline IS NOT NULL`, s.campaign).Scan(&n)
		return n > 0
	})
	return s.deadlines()[0]
}

func (s *stack) lastDeadline() time.Time {
	d := s.deadlines()
	return d[len(d)-1]
}

// checkOutcomesMatchPlan exports every partner's final facts from Postgres,
// runs `starter plan` on them and compares with what the workflows decided.
func (s *stack) checkOutcomesMatchPlan(partners []partnerfile.Row) {
	s.t.Helper()
	ctx := context.Background()
	final := filepath.Join(s.bin, "final.csv")
	f, err := os.Create(final)
	if err != nil {
		s.t.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"partner_id", "name", "email", "locale", "tier", "revenue", "points", "certifications", "competencies", "modules"})
	rows, err := s.db.Pool.Query(ctx, `
		SELECT p.partner_id, p.name, p.email, p.locale, e.old_tier, p.revenue_cents, p.points, p.certifications, p.competencies, p.modules
		FROM partners p JOIN enrollments e USING (partner_id) WHERE e.campaign_id = $1 ORDER BY p.partner_id`, s.campaign)
	if err != nil {
		s.t.Fatal(err)
	}
	for rows.Next() {
		var id, name, mail, locale, tier string
		var cents int64
		var points int
		var certs map[string]int
		var comps, mods []string
		if err := rows.Scan(&id, &name, &mail, &locale, &tier, &cents, &points, &certs, &comps, &mods); err != nil {
			s.t.Fatal(err)
		}
		var cl []string
		for _, k := range slices.Sorted(maps.Keys(certs)) {
			cl = append(cl, fmt.Sprintf("%s:%d", k, certs[k]))
		}
		_ = w.Write([]string{id, name, mail, locale, tier, program.Money(cents).String(), strconv.Itoa(points),
			strings.Join(cl, "|"), strings.Join(comps, "|"), strings.Join(mods, "|")})
	}
	rows.Close()
	w.Flush()
	if err := errors.Join(rows.Err(), w.Error(), f.Close()); err != nil {
		s.t.Fatalf("write %s: %v", final, err)
	}

	var plan struct {
		Partners []struct {
			PartnerID string `json:"partner_id"`
			NewTier   string `json:"new_tier"`
			Outcome   string `json:"outcome"`
		} `json:"partners"`
	}
	out := s.starter("plan", "--program", programFile, "--partners", final, "--format", "json")
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		s.t.Fatalf("plan output: %v\n%s", err, out)
	}
	if len(plan.Partners) != len(partners) {
		s.t.Fatalf("plan forecast %d partners, want %d", len(plan.Partners), len(partners))
	}
	for _, p := range plan.Partners {
		var stage, outcome, newTier, tier string
		err := s.db.Pool.QueryRow(ctx, `SELECT e.stage, coalesce(e.outcome,''), coalesce(e.new_tier,''), p.tier
			FROM enrollments e JOIN partners p USING (partner_id) WHERE e.campaign_id = $1 AND e.partner_id = $2`, s.campaign, p.PartnerID).
			Scan(&stage, &outcome, &newTier, &tier)
		if err != nil {
			s.t.Fatalf("enrollment %s: %v", p.PartnerID, err)
		}
		if stage != "done" || outcome != p.Outcome || newTier != p.NewTier || tier != p.NewTier {
			s.t.Errorf("partner %s: stage %s outcome %s new tier %s (partner tier %s); plan says %s %s",
				p.PartnerID, stage, outcome, newTier, tier, p.Outcome, p.NewTier)
		}
	}
}

// checkEmails: every partner got its announcement and outcome, SendGrid
// accepted each message once, and the rejected address is recorded failed.
func (s *stack) checkEmails(partners []partnerfile.Row, rejected string) {
	s.t.Helper()
	ctx := context.Background()
	for key, n := range s.stub.CountByDedupeKey() {
		if n != 1 {
			s.t.Errorf("SendGrid accepted %s %d times", key, n)
		}
	}
	rows, err := s.db.Pool.Query(ctx, `SELECT partner_id, step, status, coalesce(provider_message_id,''), coalesce(error,'') FROM emails WHERE campaign_id = $1`, s.campaign)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	steps := map[string][]string{}
	sent := 0
	for rows.Next() {
		var pid, step, status, msgID, errText string
		if err := rows.Scan(&pid, &step, &status, &msgID, &errText); err != nil {
			s.t.Fatal(err)
		}
		steps[pid] = append(steps[pid], step)
		switch {
		case pid == rejected:
			if status != "failed" || !strings.Contains(errText, "valid address") {
				s.t.Errorf("rejected partner's %s email: status %s error %q", step, status, errText)
			}
		case status != "sent" || msgID == "":
			s.t.Errorf("partner %s email %s: status %s message id %q", pid, step, status, msgID)
		default:
			sent++
		}
	}
	if sent != s.stub.Accepted() {
		s.t.Errorf("%d emails marked sent, SendGrid accepted %d", sent, s.stub.Accepted())
	}
	if s.stub.ActivityLookups() == 0 {
		s.t.Errorf("the silently accepted message was never looked up in the Email Activity")
	}
	for _, p := range partners {
		got := steps[p.PartnerID]
		if !slices.Contains(got, "announcement") || !slices.Contains(got, "outcome") {
			s.t.Errorf("partner %s emails %v: want an announcement and an outcome", p.PartnerID, got)
		}
	}
}

// checkAudit: one outcome tier change per partner, and the trail explains it.
func (s *stack) checkAudit(partners []partnerfile.Row) {
	s.t.Helper()
	var n, distinct int
	err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT partner_id) FROM tier_changes WHERE campaign_id = $1 AND step = 'outcome' AND actor <> '' AND reason <> ''`, s.campaign).Scan(&n, &distinct)
	if err != nil {
		s.t.Fatal(err)
	}
	if n != len(partners) || distinct != len(partners) {
		s.t.Errorf("outcome audit rows: %d for %d partners, want one each of %d", n, distinct, len(partners))
	}
}

// checkVisibility: the Web UI's search attributes agree with Postgres.
func (s *stack) checkVisibility(partners []partnerfile.Row, rejected string) {
	s.t.Helper()
	if got := s.count("Stage = 'done'"); got != len(partners) {
		s.t.Errorf("visibility: %d workflows at Stage done, want %d", got, len(partners))
	}
	if got := s.count(fmt.Sprintf("EmailFailed = true AND PartnerId = '%s'", rejected)); got != 1 {
		s.t.Errorf("visibility: EmailFailed not set for the rejected partner (%d)", got)
	}
	ctx := context.Background()
	rows, err := s.db.Pool.Query(ctx, `SELECT outcome, count(*) FROM enrollments WHERE campaign_id = $1 GROUP BY outcome`, s.campaign)
	if err != nil {
		s.t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome string
		var n int
		if err := rows.Scan(&outcome, &n); err != nil {
			s.t.Fatal(err)
		}
		if got := s.count(fmt.Sprintf("Outcome = '%s'", outcome)); got != n {
			s.t.Errorf("visibility: %d workflows with Outcome %s, Postgres has %d", got, outcome, n)
		}
	}
	// The status query answers on a closed workflow too.
	v, err := s.tc.QueryWorkflow(ctx, workflows.WorkflowID(s.campaign, partners[0].PartnerID), "", workflows.QueryStatus)
	if err != nil {
		s.t.Fatalf("status query: %v", err)
	}
	var st workflows.Status
	if err := v.Get(&st); err != nil || st.Stage != workflows.StageDone {
		s.t.Errorf("status query: %+v %v", st, err)
	}
}

func lastLine(s string) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	last := ""
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			last = sc.Text()
		}
	}
	return last
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
