package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/activities"
	"github.com/tiershift/tiershift/email"
)

// storeOptions are for Postgres activities. A campaign runs for months, so an
// outage must delay it, not fail it: retries never stop, backing off to a
// minute. Only permanent errors (the partner is gone) end the retries.
func storeOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeUnknownPartner, "InvalidInput"},
		},
	})
}

// emailOptions send on the dedicated email task queue, whose workers cap the
// rate for the whole cluster (TaskQueueActivitiesPerSecond). A message that
// cannot be sent within a day is given up and recorded as failed.
func emailOptions(ctx workflow.Context, queueFor func(workflow.Context) string, kind email.Kind) workflow.Context {
	queue := queueFor(ctx)
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              queue,
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		Summary:                string(kind) + " email",
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadEmailAddress, activities.ErrTypeEmailRejected},
		},
	})
}
