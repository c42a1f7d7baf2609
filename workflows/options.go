package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/email"
)

// storeRetry is the retry policy of the Postgres activities. A campaign runs
// for months, so an outage must delay it, not fail it: retries never stop,
// backing off to a minute. Only permanent errors (the partner is gone, an
// input no retry can fix) end them.
func storeRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{contract.ErrTypeUnknownPartner, contract.ErrTypeInvalidInput},
	}
}

// storeOptions are for the Postgres activities of runs recorded before
// changeLocalStore: regular activities, scheduled through the server.
func storeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         storeRetry(),
	})
}

// storeRetryWindow stands for "never": a local activity's retries stop at
// its ScheduleToCloseTimeout (the SDK defaults it to the StartToCloseTimeout,
// which would give up after 30 seconds), so it is set longer than any
// campaign lasts.
const storeRetryWindow = 10 * 365 * 24 * time.Hour

// storeLocalOptions run the Postgres activities as local activities, in the
// worker that runs the workflow: no task queue round trip, and one marker
// event in the history instead of three activity events and a workflow task.
// Same timeout and retries as storeOptions. A backoff longer than the
// workflow task timeout (10 s) waits on a timer, so a long Postgres outage
// adds a few events a minute to each waiting workflow's history.
func storeLocalOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: storeRetryWindow,
		RetryPolicy:            storeRetry(),
	})
}

// emailOptions send on the dedicated email task queue, whose workers cap the
// rate for the whole cluster (TaskQueueActivitiesPerSecond). A message that
// cannot be sent within a day is given up and recorded as failed. Every
// error SendEmail returns is worth retrying: a bad address or a message
// SendGrid refuses is a result with Status failed, not an error.
func emailOptions(ctx workflow.Context, queueFor func(workflow.Context) string, kind email.Kind) workflow.Context {
	queue := queueFor(ctx)
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                string(kind) + " email",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
		},
	})
}

// storeCall runs one Postgres activity. Runs that had already called one before
// changeLocalStore keep scheduling them as regular activities, as their
// histories say; every other run (new ones, continued ones, and running
// ones at their first store call since) runs them as local activities. The
// SDK takes the version once per run, at the first call, so a run never
// mixes the two.
func storeCall[In, Out any](ctx workflow.Context, t *transition, a contract.Activity[In, Out], in In) contract.Future[Out] {
	if t.regularStore(ctx) {
		return a.Execute(storeOptions(ctx), in)
	}
	return a.ExecuteLocal(storeLocalOptions(ctx), in)
}

// storeProc is storeCall for the Postgres activities without a result.
func storeProc[In any](ctx workflow.Context, t *transition, p contract.Procedure[In], in In) contract.Done {
	if t.regularStore(ctx) {
		return p.Execute(storeOptions(ctx), in)
	}
	return p.ExecuteLocal(storeLocalOptions(ctx), in)
}

// regularStore reports whether this run schedules its Postgres activities
// through the server (see storeCall).
func (t *transition) regularStore(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeLocalStore, workflow.DefaultVersion, 1) == workflow.DefaultVersion
}
