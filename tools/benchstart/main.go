// Command benchstart is the launch benchmark's baseline: it starts N empty
// workflows (no input, no search attributes, a task queue nobody polls) with
// the Temporal Go SDK at a given concurrency and prints the start rate, so
// `starter launch` can be compared with the best the same server does.
//
//	go run ./tools/benchstart -address localhost:7300 -n 20000 -concurrency 64
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
)

func main() {
	addr := flag.String("address", "localhost:7300", "Temporal frontend")
	ns := flag.String("namespace", "default", "namespace")
	n := flag.Int("n", 10000, "workflows to start")
	conc := flag.Int("concurrency", 64, "concurrent starts")
	queue := flag.String("task-queue", "benchstart", "task queue (nobody polls it)")
	prefix := flag.String("prefix", fmt.Sprintf("benchstart/%d/", time.Now().UnixNano()), "workflow ID prefix")
	flag.Parse()

	ctx := context.Background()
	c, err := client.DialContext(ctx, client.Options{HostPort: *addr, Namespace: *ns, Logger: nopLogger{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchstart:", err)
		os.Exit(1)
	}
	defer c.Close()

	jobs := make(chan int, *conc*2)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: fmt.Sprintf("%s%d", *prefix, i), TaskQueue: *queue,
				}, "BenchEmpty")
				if err != nil {
					if failed.Add(1) <= 5 {
						fmt.Fprintln(os.Stderr, "start:", err)
					}
				}
			}
		}()
	}
	for i := range *n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	fmt.Printf("benchstart: %d started, %d failed in %s at concurrency %d: %.1f starts/s\n",
		int64(*n)-failed.Load(), failed.Load(), took.Round(time.Millisecond), *conc, float64(*n)/took.Seconds())
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
