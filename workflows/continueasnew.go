package workflows

import "go.temporal.io/sdk/workflow"

// shouldContinueAsNew follows the server's suggestion: it suggests
// continue-as-new when the history grows long or large. A campaign's
// transition lives for months, and its history grows with every reminder,
// message and re-evaluation.
func (t *transition) shouldContinueAsNew(ctx workflow.Context) bool {
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// continueOrFail ends this run with continue-as-new carrying the full state,
// once every message handler has finished and no signal is left unread.
func (t *transition) continueOrFail(ctx workflow.Context, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return Result{}, err
	}
	t.drainSignals()
	next := t.in
	next.State = t.s
	// The next run loads the program by campaign, like a new launch: the
	// input stays small however long the program is.
	next.ProgramID, next.Program = t.prog.ID, nil
	t.log.Info("continuing as new", "history_length", workflow.GetInfo(ctx).GetCurrentHistoryLength(), "runs", t.s.Runs)
	return Result{}, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}
