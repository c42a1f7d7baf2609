package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities"
	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/metrics"
	"github.com/tiershift/tiershift/program"
)

// scrape reads one sample from the endpoint: the value of the line whose
// name and labels are exactly series, or -1 when there is none.
func scrape(t *testing.T, url, series string) float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v
		}
	}
	return -1
}

func emailInput(queue string) activities.SendEmailInput {
	deadline := time.Date(2009, time.October, 14, 0, 0, 0, 0, time.UTC)
	return activities.SendEmailInput{
		WorkflowID: "transition/metrics/" + queue, Step: "reminder/30 days/r0", CampaignID: "metrics", PartnerID: "P-1",
		Kind: email.KindReminder, To: "alice@acme.example", ToName: "Alice Martin", Locale: "en",
		Data: email.Data{
			CampaignID: "metrics", PartnerID: "P-1", PartnerName: "Acme", ProgramName: "Partner Connect",
			Vendor: "VMware", Currency: "USD", OldTier: "Premier", ExpectedTier: "Principal",
			Deadline: deadline, Now: deadline.AddDate(0, 0, -30),
		},
		Settings: program.Emails{FromEmail: "partners@vmware.example", FromName: "VMware Partner Network"},
	}
}

// A worker with the metrics interceptor and the SDK handler runs a workflow
// that sends one email twice (the second finds it done), and an activity
// that fails once then succeeds; the endpoint, scraped while the worker
// runs, counts one email, one failure, two waits on the queue, and the
// SDK's own activity and workflow counters.
func TestWorkerMetricsAreScrapedDuringARun(t *testing.T) {
	db := pgtest.New(t)
	temporaltest.Client(t)
	m, err := metrics.New()
	if err != nil {
		t.Fatal(err)
	}
	addr, stop, err := m.Serve("127.0.0.1:0", zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := "http://" + addr + "/metrics"

	c, err := client.Dial(client.Options{HostPort: temporaltest.Address(), Namespace: temporaltest.Namespace(), MetricsHandler: m.SDKHandler()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queue := temporaltest.TaskQueue(t)
	w := worker.New(c, queue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{m.Interceptor()}})
	mailer := activities.NewMailer(db.Pool, "", "", 0, zerolog.Nop()) // capture mode
	mailer.Metrics = m
	mailer.Register(w)
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		if activity.GetInfo(ctx).Attempt == 1 {
			return fmt.Errorf("first attempt fails")
		}
		return nil
	}, activity.RegisterOptions{Name: "Flaky"})
	in := emailInput(queue)
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Millisecond, MaximumAttempts: 3},
		})
		for range 2 {
			if err := workflow.ExecuteActivity(ctx, "SendEmail", in).Get(ctx, nil); err != nil {
				return err
			}
		}
		return workflow.ExecuteActivity(ctx, "Flaky").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "MetricsProbe"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "metrics-probe-" + queue, TaskQueue: queue}, "MetricsProbe")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err != nil {
		t.Fatal(err)
	}

	for series, want := range map[string]float64{
		// Sent once: the second call found the row captured.
		metrics.EmailsTotal + `{kind="reminder",status="captured"}`: 1,
		metrics.ActivityFailuresTotal + `{activity="Flaky"}`:        1,
		metrics.ActivityFailuresTotal + `{activity="SendEmail"}`:    -1,
		metrics.EmailQueueLagSeconds + `_count`:                     2,
	} {
		if got := scrape(t, url, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	// The SDK's own metrics come through the same endpoint.
	body := scrapeAll(t, url)
	for _, name := range []string{"temporal_activity_execution_failed", "temporal_workflow_completed", "temporal_activity_schedule_to_start_latency"} {
		if !strings.Contains(body, name) {
			t.Errorf("no SDK metric %s at %s", name, url)
		}
	}
}

func scrapeAll(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
