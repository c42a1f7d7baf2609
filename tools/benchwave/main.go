// Command benchwave is the deadline wave's yardstick: N workflows of the
// wave's shape and nothing else — sleep until one shared deadline, one local
// activity, one activity on a second, rate-unlimited task queue, complete —
// on the same server as the tiershift wave it is compared with (make bench,
// scripts/bench.sh). What tiershift's wave does beyond this shape (reading
// the partner, deciding, the audit row, the email) is what the ratio of the
// two measures.
//
//	benchwave -address localhost:7310 -queue wave-base -n 2000 -in 60s -workers 1
//
// It prints one line: the seconds from the deadline until the last workflow
// closed, and the partners per second that makes.
//
// Workers in processes of their own, as tiershift's bench runs its workers:
//
//	benchwave -address ... -queue wave-base -serve &   # once per worker process
//	benchwave -address ... -queue wave-base -n 20000 -in 200s -workers 0
//
// Its workers read bin/worker's settings from the same environment
// (TIERSHIFT_STICKY_CACHE_SIZE, TIERSHIFT_STICKY_TIMEOUT, the pollers and
// concurrency limits; by default a sticky cache of 2,000, a 10 s sticky
// timeout, 8 workflow task pollers), so the two differ in the work and
// nothing else.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"

	"github.com/tiershift/tiershift/config"
)

// Input is one baseline workflow's deadline and the queue of its activity.
type Input struct {
	Deadline      time.Time
	ActivityQueue string
}

// WaveBaseline sleeps until the deadline, then runs one local activity and
// one activity on the activity queue, as a transition does at its deadline.
func WaveBaseline(ctx workflow.Context, in Input) error {
	if d := in.Deadline.Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return err
		}
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, Noop).Get(ctx, nil); err != nil {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: in.ActivityQueue, StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(actx, Noop).Get(ctx, nil)
}

// Noop is the activity: no work, so only Temporal's cost is measured.
func Noop(context.Context) error { return nil }

func main() {
	address := flag.String("address", "localhost:7233", "Temporal frontend")
	queue := flag.String("queue", "wave-baseline", "workflow task queue (the activity queue is QUEUE-activity)")
	n := flag.Int("n", 2000, "workflows due at the same deadline")
	in := flag.Duration("in", time.Minute, "time from now to the deadline: long enough to start all N")
	workers := flag.Int("workers", 1, "workers polling both queues in this process (0: start and wait only)")
	serve := flag.Bool("serve", false, "run one worker until SIGINT or SIGTERM; start nothing")
	at := flag.String("at", "", "the deadline as an RFC 3339 time, instead of -in (a script that samples CPU at it knows it)")
	flag.Parse()
	deadline := time.Now().Add(*in)
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchwave: -at:", err)
			os.Exit(2)
		}
		deadline = t
	}
	if err := run(*address, *queue, *n, deadline, *workers, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "benchwave:", err)
		os.Exit(1)
	}
}

func run(address, queue string, n int, deadline time.Time, workers int, serve bool) error {
	// Warnings only: the SDK's debug lines would cost the baseline what
	// tiershift's worker (at warn in the bench) does not pay.
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: address, Logger: logger})
	if err != nil {
		return err
	}
	defer c.Close()
	if serve {
		workers = 1
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	worker.SetStickyWorkflowCacheSize(cfg.StickyCacheSize)
	for range workers {
		stop, err := startWorker(c, queue, cfg)
		if err != nil {
			return err
		}
		defer stop()
	}
	if serve {
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		<-ctx.Done()
		return nil
	}
	return wave(c, queue, n, deadline, workers)
}

// startWorker polls the workflow queue and the activity queue, set up as
// bin/worker sets up its two workers.
func startWorker(c client.Client, queue string, cfg config.Config) (stop func(), err error) {
	w := worker.New(c, queue, worker.Options{
		MaxConcurrentWorkflowTaskPollers:       cfg.WorkflowPollers,
		MaxConcurrentActivityTaskPollers:       cfg.ActivityPollers,
		MaxConcurrentActivityExecutionSize:     cfg.MaxActivities,
		MaxConcurrentWorkflowTaskExecutionSize: cfg.MaxWorkflowTasks,
		StickyScheduleToStartTimeout:           cfg.StickyTimeout,
	})
	w.RegisterWorkflow(WaveBaseline)
	w.RegisterActivity(Noop)
	a := worker.New(c, queue+"-activity", worker.Options{
		MaxConcurrentActivityTaskPollers:   cfg.ActivityPollers,
		MaxConcurrentActivityExecutionSize: cfg.MaxActivities,
	})
	a.RegisterActivity(Noop)
	if err := w.Start(); err != nil {
		return nil, err
	}
	if err := a.Start(); err != nil {
		w.Stop()
		return nil, err
	}
	return func() { a.Stop(); w.Stop() }, nil
}

// wave starts n workflows due at one deadline, waits for all to close and
// prints how long after the deadline the last one did.
func wave(c client.Client, queue string, n int, deadline time.Time, workers int) error {
	activityQueue := queue + "-activity"
	ctx := context.Background()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	prefix := fmt.Sprintf("wave-baseline-%d-", time.Now().UnixNano())
	for i := range n {
		g.Go(func() error {
			_, err := c.ExecuteWorkflow(gctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s%d", prefix, i), TaskQueue: queue},
				WaveBaseline, Input{Deadline: deadline, ActivityQueue: activityQueue})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("starting %d workflows took past the deadline: raise -in (or -at)", n)
	}
	last, err := lastClose(ctx, c, prefix, n)
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	took := last.Sub(deadline).Seconds()
	fmt.Printf("baseline wave: %d due at once, %d worker(s) in this process: last closed %.1f s after the deadline, %.0f/s\n", n, workers, took, float64(n)/took)
	return nil
}

// lastClose polls visibility once a second until the n workflows whose
// IDs start with prefix (this run's; a server may hold earlier runs') have
// closed, then returns the latest close time it records: the server's clock, as
// tiershift's wave is timed by the rows it writes. One count a second costs
// the server about what scripts/bench.sh's watch over tiershift's database
// (tools/benchwait) costs Postgres; waiting on each workflow's result, as
// this did before, held 256 long polls open on the server and read every
// close event, a cost tiershift's wave does not carry.
func lastClose(ctx context.Context, c client.Client, prefix string, n int) (time.Time, error) {
	ours := fmt.Sprintf("WorkflowType = 'WaveBaseline' AND WorkflowId STARTS_WITH '%s'", prefix)
	closed := ours + " AND ExecutionStatus != 'Running'"
	completed := ours + " AND ExecutionStatus = 'Completed'"
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		done, err := count(ctx, c, closed)
		if err != nil {
			return time.Time{}, err
		}
		if done >= int64(n) {
			break
		}
		<-tick.C
	}
	ok, err := count(ctx, c, completed)
	if err != nil {
		return time.Time{}, err
	}
	if ok < int64(n) {
		return time.Time{}, fmt.Errorf("%d of %d workflows closed without completing: see `temporal workflow list -q \"%s\"`", int64(n)-ok, n, closed)
	}
	// Visibility lists closed workflows latest close first.
	list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: completed, PageSize: 1})
	if err != nil {
		return time.Time{}, fmt.Errorf("list completed workflows: %w", err)
	}
	if len(list.GetExecutions()) == 0 {
		return time.Time{}, fmt.Errorf("visibility counts %d completed workflows but lists none", ok)
	}
	return list.GetExecutions()[0].GetCloseTime().AsTime(), nil
}

func count(ctx context.Context, c client.Client, query string) (int64, error) {
	resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
	if err != nil {
		return 0, fmt.Errorf("count workflows where %s: %w", query, err)
	}
	return resp.GetCount(), nil
}
