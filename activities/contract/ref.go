package contract

import (
	"context"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/program"
)

// The activities, by the names running workflows and recorded histories
// know them. These names must never change.
var (
	// LoadProgram returns the program a campaign was launched with.
	LoadProgram = Activity[CampaignRef, *program.Program]{name: "LoadProgram"}
	// LoadPartner returns a partner's contact and facts as Postgres has them.
	LoadPartner = Activity[PartnerRef, PartnerSnapshot]{name: "LoadPartner"}
	// RecordStage mirrors a workflow's state into its enrollment row.
	RecordStage = Procedure[StageUpdate]{name: "RecordStage"}
	// ApplyTierChange changes a partner's tier and writes its audit row.
	ApplyTierChange = Activity[TierChange, TierChangeResult]{name: "ApplyTierChange"}
	// SendEmail sends one message, once per (workflow ID, step).
	SendEmail = Activity[SendEmailInput, SendEmailResult]{name: "SendEmail"}
)

// Registry is where implementations are registered: a worker.Worker, or the
// SDK's test environment.
type Registry interface {
	RegisterActivityWithOptions(a any, options activity.RegisterOptions)
}

// Activity is a typed reference to an activity that returns a value.
type Activity[In, Out any] struct{ name string }

// Name is the activity's type name in Temporal.
func (a Activity[In, Out]) Name() string { return a.name }

// Execute schedules the activity through the server (ctx carries the
// workflow.ActivityOptions).
func (a Activity[In, Out]) Execute(ctx workflow.Context, in In) Future[Out] {
	return Future[Out]{workflow.ExecuteActivity(ctx, a.name, in)}
}

// ExecuteLocal runs the activity in the workflow's own worker (ctx carries
// the workflow.LocalActivityOptions).
func (a Activity[In, Out]) ExecuteLocal(ctx workflow.Context, in In) Future[Out] {
	return Future[Out]{workflow.ExecuteLocalActivity(ctx, a.name, in)}
}

// Register makes fn the activity's implementation in r.
func (a Activity[In, Out]) Register(r Registry, fn func(context.Context, In) (Out, error)) {
	r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: a.name})
}

// Future is an activity's pending result.
type Future[Out any] struct{ f workflow.Future }

// Get waits for the activity and decodes its result.
func (f Future[Out]) Get(ctx workflow.Context) (Out, error) {
	var out Out
	err := f.f.Get(ctx, &out)
	return out, err
}

// Procedure is a typed reference to an activity that returns only an error.
type Procedure[In any] struct{ name string }

// Name is the activity's type name in Temporal.
func (p Procedure[In]) Name() string { return p.name }

// Execute schedules the activity through the server.
func (p Procedure[In]) Execute(ctx workflow.Context, in In) Done {
	return Done{workflow.ExecuteActivity(ctx, p.name, in)}
}

// ExecuteLocal runs the activity in the workflow's own worker.
func (p Procedure[In]) ExecuteLocal(ctx workflow.Context, in In) Done {
	return Done{workflow.ExecuteLocalActivity(ctx, p.name, in)}
}

// Register makes fn the activity's implementation in r.
func (p Procedure[In]) Register(r Registry, fn func(context.Context, In) error) {
	r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: p.name})
}

// Done is a Procedure's pending completion.
type Done struct{ f workflow.Future }

// Get waits for the activity to finish.
func (d Done) Get(ctx workflow.Context) error { return d.f.Get(ctx, nil) }
