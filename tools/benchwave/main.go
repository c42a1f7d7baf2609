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
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"
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
	workers := flag.Int("workers", 1, "workers polling both queues (in this process)")
	flag.Parse()
	if err := run(*address, *queue, *n, *in, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "benchwave:", err)
		os.Exit(1)
	}
}

func run(address, queue string, n int, in time.Duration, workers int) error {
	// Warnings only: the SDK's debug lines would cost the baseline what
	// tiershift's worker (at warn in the bench) does not pay.
	logger := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.Dial(client.Options{HostPort: address, Logger: logger})
	if err != nil {
		return err
	}
	defer c.Close()
	activityQueue := queue + "-activity"
	for range workers {
		w := worker.New(c, queue, worker.Options{MaxConcurrentWorkflowTaskPollers: 8})
		w.RegisterWorkflow(WaveBaseline)
		w.RegisterActivity(Noop)
		a := worker.New(c, activityQueue, worker.Options{})
		a.RegisterActivity(Noop)
		for _, x := range []worker.Worker{w, a} {
			if err := x.Start(); err != nil {
				return err
			}
			defer x.Stop()
		}
	}
	ctx := context.Background()
	deadline := time.Now().Add(in)
	runs := make([]client.WorkflowRun, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	prefix := fmt.Sprintf("wave-baseline-%d-", time.Now().UnixNano())
	for i := range n {
		g.Go(func() error {
			r, err := c.ExecuteWorkflow(gctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s%d", prefix, i), TaskQueue: queue},
				WaveBaseline, Input{Deadline: deadline, ActivityQueue: activityQueue})
			runs[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("starting %d workflows took past the deadline: raise -in", n)
	}
	var mu sync.Mutex
	var last time.Time
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(256)
	for _, r := range runs {
		g.Go(func() error {
			if err := r.Get(gctx, nil); err != nil {
				return err
			}
			now := time.Now()
			mu.Lock()
			if now.After(last) {
				last = now
			}
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	took := last.Sub(deadline).Seconds()
	fmt.Printf("baseline wave: %d due at once, %d worker(s): last closed %.1f s after the deadline, %.0f/s\n", n, workers, took, float64(n)/took)
	return nil
}
