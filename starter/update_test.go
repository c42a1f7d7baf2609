package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/workflows"
)

// updateProbe accepts the facts Update and answers it only when release
// says so: a transition busy with a step that must end first.
func updateProbe(ctx workflow.Context, release bool) error {
	var done bool
	if err := workflow.SetQueryHandler(ctx, "ready", func() (bool, error) { return true, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, workflows.MessageFacts, func(ctx workflow.Context, _ workflows.FactsChanged) (workflows.Status, error) {
		if err := workflow.Await(ctx, func() bool { return release }); err != nil {
			return workflows.Status{}, err
		}
		done = true
		return workflows.Status{OldTier: "Gold"}, nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return done })
}

// An Update the workflow accepted but has not answered in time is reported
// as pending (the change is in its history), not as a failure; one that was
// never accepted (no worker) is a failure; one answered in time returns the
// workflow's status.
func TestUpdateTellsAcceptedFromAnswered(t *testing.T) {
	c := temporaltest.Client(t)
	queue := temporaltest.TaskQueue(t)
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(updateProbe)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	// Acceptance may take a loaded CI machine a while (a fresh dev server
	// with every package's tests running once took over 15 s), so it gets a
	// minute; the answer then gets 3 s, which the busy workflow never meets.
	e := &opsEnv{tc: c, acceptWait: time.Minute, updateWait: 3 * time.Second}
	ctx := context.Background()
	campaign := "upd-" + uuid.NewString()[:8]
	start := func(partner, q string, release bool) {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(campaign, partner), TaskQueue: q}, updateProbe, release)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), run.GetID(), "", "test over") })
		if q != queue {
			return
		}
		// A worker has run the workflow's first task (a Query needs one), so
		// the Update's wait measures the workflow, not the worker's start.
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := c.QueryWorkflow(qctx, run.GetID(), "", "ready"); err != nil {
			t.Fatalf("the probe workflow never ran: %v", err)
		}
	}
	send := func(partner string) (workflows.Status, error) {
		id := uuid.NewString()
		return e.update(ctx, campaign, partner, workflows.MessageFacts, id, workflows.FactsChanged{ID: id})
	}

	start("busy", queue, false)
	if _, err := send("busy"); !errors.Is(err, errUpdatePending) {
		t.Errorf("an accepted Update left unanswered: got %v, want errUpdatePending", err)
	}

	start("free", queue, true)
	st, err := send("free")
	if err != nil || st.OldTier != "Gold" {
		t.Errorf("an Update answered at once: got %+v, %v; want the workflow's status", st, err)
	}

	// Nothing can accept it: its acceptance wait runs out (5 s here).
	e.acceptWait = 5 * time.Second
	start("nobody", fmt.Sprintf("%s-without-worker", queue), true)
	if _, err := send("nobody"); err == nil || errors.Is(err, errUpdatePending) {
		t.Errorf("an Update no worker could accept: got %v, want a failure that is not pending", err)
	}
}
