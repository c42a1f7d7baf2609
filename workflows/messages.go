package workflows

import (
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"
)

// registerHandlers installs the status Query and the message handlers. Each
// message is both an Update (the caller learns at once whether it was
// accepted, and why not) and a Signal (for Temporal batch operations over a
// visibility query, and for outside systems that fire and forget). Both run
// the same validator; an invalid Signal is logged and dropped.
func (t *transition) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryStatus, func() (Status, error) {
		return t.status(workflow.Now(ctx)), nil
	}, workflow.QueryHandlerOptions{Description: "Stage, deadline, expected tier, what is missing, reminders sent and the next one due"}); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, MessageFacts,
		func(ctx workflow.Context, m FactsChanged) (Status, error) {
			if t.accept(m.ID) {
				t.onFacts(m)
			}
			// Answer once the loop has re-read the facts, so the caller sees
			// the new evaluation.
			target := t.s.FactsRequested
			err := workflow.Await(ctx, func() bool {
				return t.s.FactsProcessed >= target || t.s.Ending != nil || t.s.Stage == StageDeciding || t.s.Stage == StageDone
			})
			return t.status(workflow.Now(ctx)), err
		},
		workflow.UpdateHandlerOptions{Validator: t.validateFacts, Description: "The partner's facts changed in Postgres: re-read and re-evaluate now"},
	); err != nil {
		return fmt.Errorf("register %s update: %w", MessageFacts, err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, MessageExtend,
		func(ctx workflow.Context, m ExtendDeadline) (Status, error) {
			if t.accept(m.ID) {
				t.onExtend(ctx, m)
			}
			return t.status(workflow.Now(ctx)), nil
		},
		workflow.UpdateHandlerOptions{Validator: t.validateExtend, Description: "Move the deadline later and tell the partner"},
	); err != nil {
		return fmt.Errorf("register %s update: %w", MessageExtend, err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, MessageExempt,
		func(ctx workflow.Context, m Exempt) (Status, error) {
			if t.accept(m.ID) {
				t.onExempt(m)
			}
			return t.status(workflow.Now(ctx)), nil
		},
		workflow.UpdateHandlerOptions{Validator: t.validateExempt, Description: "End the transition granting a tier without requirements"},
	); err != nil {
		return fmt.Errorf("register %s update: %w", MessageExempt, err)
	}

	if err := workflow.SetUpdateHandlerWithOptions(ctx, MessageWithdraw,
		func(ctx workflow.Context, m Withdraw) (Status, error) {
			if t.accept(m.ID) {
				t.onWithdraw(m)
			}
			return t.status(workflow.Now(ctx)), nil
		},
		workflow.UpdateHandlerOptions{Validator: t.validateWithdraw, Description: "End the transition: the partner leaves the program"},
	); err != nil {
		return fmt.Errorf("register %s update: %w", MessageWithdraw, err)
	}

	listen(ctx, t, MessageFacts, t.validateFacts, t.onFacts)
	listen(ctx, t, MessageExtend, t.validateExtend, func(m ExtendDeadline) { t.onExtend(ctx, m) })
	listen(ctx, t, MessageExempt, t.validateExempt, t.onExempt)
	listen(ctx, t, MessageWithdraw, t.validateWithdraw, t.onWithdraw)
	return nil
}

// idOf returns a message's deduplication ID.
func idOf(m any) string {
	switch m := m.(type) {
	case FactsChanged:
		return m.ID
	case ExtendDeadline:
		return m.ID
	case Exempt:
		return m.ID
	case Withdraw:
		return m.ID
	}
	return ""
}

// listen receives a Signal channel in its own coroutine for the life of the run.
func listen[M any](ctx workflow.Context, t *transition, name string, validate func(M) error, apply func(M)) {
	ch := workflow.GetSignalChannel(ctx, name)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var m M
			ch.Receive(ctx, &m)
			handleSignal(t, name, m, validate, apply)
		}
	})
}

func receive[M any](t *transition, ch workflow.ReceiveChannel, name string, validate func(M) error, apply func(M)) bool {
	var m M
	if !ch.ReceiveAsync(&m) {
		return false
	}
	handleSignal(t, name, m, validate, apply)
	return true
}

// handleSignal validates, deduplicates and applies one Signal.
func handleSignal[M any](t *transition, name string, m M, validate func(M) error, apply func(M)) {
	if err := validate(m); err != nil {
		t.log.Warn("signal rejected", "signal", name, "error", err)
		return
	}
	if id := idOf(m); !t.accept(id) {
		t.log.Info("duplicate signal ignored", "signal", name, "id", id)
		return
	}
	apply(m)
}

// drainSignals applies every signal already delivered but not yet read, so
// continue-as-new never drops one.
func (t *transition) drainSignals(ctx workflow.Context) {
	facts := workflow.GetSignalChannel(ctx, MessageFacts)
	extend := workflow.GetSignalChannel(ctx, MessageExtend)
	exempt := workflow.GetSignalChannel(ctx, MessageExempt)
	withdraw := workflow.GetSignalChannel(ctx, MessageWithdraw)
	for receive(t, facts, MessageFacts, t.validateFacts, t.onFacts) ||
		receive(t, extend, MessageExtend, t.validateExtend, func(m ExtendDeadline) { t.onExtend(ctx, m) }) ||
		receive(t, exempt, MessageExempt, t.validateExempt, t.onExempt) ||
		receive(t, withdraw, MessageWithdraw, t.validateWithdraw, t.onWithdraw) {
	}
}

// accept records a message ID and reports whether it is new. Messages
// without an ID are always new.
func (t *transition) accept(id string) bool {
	if id == "" {
		return true
	}
	if slices.Contains(t.s.SeenMessageIDs, id) {
		return false
	}
	t.s.SeenMessageIDs = append(t.s.SeenMessageIDs, id)
	if len(t.s.SeenMessageIDs) > seenMessagesKept {
		t.s.SeenMessageIDs = t.s.SeenMessageIDs[len(t.s.SeenMessageIDs)-seenMessagesKept:]
	}
	return true
}

func (t *transition) open() error {
	if t.s.Ending != nil || t.s.Stage == StageDeciding || t.s.Stage == StageDone {
		return errDecided
	}
	return nil
}

func (t *transition) validateFacts(m FactsChanged) error {
	if err := t.open(); err != nil {
		return err
	}
	if m.Change != nil {
		if err := t.prog.ValidateChange(*m.Change); err != nil {
			return fmt.Errorf("facts change: %w", err)
		}
	}
	return nil
}

func (t *transition) onFacts(m FactsChanged) {
	t.s.FactsRequested++
	if m.Change != nil {
		t.log.Info("facts changed", "op", m.Change.Op, "name", m.Change.Name, "actor", m.Actor)
	}
}

func (t *transition) validateExtend(m ExtendDeadline) error {
	if err := t.open(); err != nil {
		return err
	}
	d := m.By
	if d.IsZero() {
		return errors.New("extend: the extension is empty; give a positive duration such as 30 days")
	}
	if d.Months < 0 || d.Days < 0 || d.Minutes < 0 {
		return fmt.Errorf("extend: %s is negative; a deadline can only move later", d)
	}
	return nil
}

func (t *transition) onExtend(ctx workflow.Context, m ExtendDeadline) {
	from := t.s.Deadline
	t.s.Deadline = m.By.AddTo(from)
	t.s.DeadlineRevision++
	t.s.RemindersFrom = workflow.Now(ctx)
	t.s.Extensions = append(t.s.Extensions, Extension{
		ID: m.ID, By: m.By, From: from, To: t.s.Deadline, Reason: m.Reason, Actor: m.Actor, Revision: t.s.DeadlineRevision,
	})
	if t.s.Announced {
		t.s.PendingExtensionNotices = append(t.s.PendingExtensionNotices, len(t.s.Extensions)-1)
	}
	t.log.Info("deadline extended", "from", from, "to", t.s.Deadline, "actor", m.Actor, "reason", m.Reason)
}

func (t *transition) validateExempt(m Exempt) error {
	if err := t.open(); err != nil {
		return err
	}
	if m.Reason == "" {
		return errors.New("exempt: a reason is required, for the audit trail")
	}
	if m.Tier != "" && t.prog.TierRank(m.Tier) < 0 {
		return fmt.Errorf("exempt: %q is not a tier of the new program", m.Tier)
	}
	return nil
}

func (t *transition) onExempt(m Exempt) {
	t.s.Ending = &Ending{Outcome: OutcomeExempted, Tier: m.Tier, Reason: m.Reason, Actor: m.Actor}
}

func (t *transition) validateWithdraw(m Withdraw) error {
	if err := t.open(); err != nil {
		return err
	}
	if m.Reason == "" {
		return errors.New("withdraw: a reason is required, for the audit trail")
	}
	return nil
}

func (t *transition) onWithdraw(m Withdraw) {
	t.s.Ending = &Ending{Outcome: OutcomeWithdrawn, Reason: m.Reason, Actor: m.Actor}
}
