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
//
// They are registered before the run loads its program, so that an Update
// delivered with the first workflow task is not rejected as unknown; until
// the program is there, messages wait for it (see handle).
func (t *transition) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandlerWithOptions(ctx, QueryStatus, func() (Status, error) {
		if !t.ready() {
			return Status{}, errStarting
		}
		return t.status(workflow.Now(ctx)), nil
	}, workflow.QueryHandlerOptions{Description: "Stage, deadline, expected tier, what is missing, reminders sent and the next one due"}); err != nil {
		return fmt.Errorf("register status query: %w", err)
	}
	// A facts Update answers once the loop has re-read the facts, so the
	// caller sees the new evaluation.
	factsSettled := func() func() bool {
		target := t.s.FactsRequested
		return func() bool {
			return t.s.FactsProcessed >= target || t.s.Ending != nil || t.s.Stage == StageDeciding || t.s.Stage == StageDone
		}
	}
	err := errors.Join(
		handle(ctx, t, MessageFacts, "The partner's facts changed in Postgres: re-read and re-evaluate now",
			t.validateFacts, t.onFacts, factsSettled),
		handle(ctx, t, MessageExtend, "Move the deadline later and tell the partner",
			t.validateExtend, func(m ExtendDeadline) { t.onExtend(ctx, m) }, nil),
		handle(ctx, t, MessageExempt, "End the transition granting a tier without requirements",
			t.validateExempt, t.onExempt, nil),
		handle(ctx, t, MessageWithdraw, "End the transition: the partner leaves the program",
			t.validateWithdraw, t.onWithdraw, nil),
		handle(ctx, t, MessageEmailUndelivered, "SendGrid bounced or dropped one of this partner's emails",
			t.validateUndelivered, func(m EmailUndelivered) { t.onUndelivered(ctx, m) }, nil),
	)
	if err != nil {
		return err
	}
	t.listenForSignals(ctx)
	return nil
}

// message is what every operator message has: an ID for deduplication.
type message interface{ messageID() string }

func (m FactsChanged) messageID() string     { return m.ID }
func (m ExtendDeadline) messageID() string   { return m.ID }
func (m Exempt) messageID() string           { return m.ID }
func (m Withdraw) messageID() string         { return m.ID }
func (m EmailUndelivered) messageID() string { return m.ID }

// handle registers one message as an Update and as a Signal, both validated,
// deduplicated by ID and applied the same way. settled, when set, returns
// the condition an Update waits for before answering.
//
// Validation needs the program. An Update that comes before the run has it
// is accepted unchecked, waits, and is validated then (failing, rather than
// being rejected, if invalid); Signals are read only once it is there.
func handle[M message](ctx workflow.Context, t *transition, name, description string,
	validate func(M) error, apply func(M), settled func() func() bool) error {
	validateWhenReady := func(m M) error {
		if !t.ready() {
			return nil
		}
		return validate(m)
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, m M) (Status, error) {
			if !t.ready() {
				if err := workflow.Await(ctx, t.ready); err != nil {
					return Status{}, err
				}
				if err := validate(m); err != nil {
					return t.status(workflow.Now(ctx)), err
				}
			}
			if t.accept(m.messageID()) {
				apply(m)
			}
			var err error
			if settled != nil {
				err = workflow.Await(ctx, settled())
			}
			return t.status(workflow.Now(ctx)), err
		},
		workflow.UpdateHandlerOptions{Validator: validateWhenReady, Description: description},
	); err != nil {
		return fmt.Errorf("register %s update: %w", name, err)
	}

	ch := workflow.GetSignalChannel(ctx, name)
	signal := func(m M) {
		if err := validate(m); err != nil {
			t.log.Warn("signal rejected", "signal", name, "error", err)
			return
		}
		if id := m.messageID(); !t.accept(id) {
			t.log.Info("duplicate signal ignored", "signal", name, "id", id)
			return
		}
		apply(m)
	}
	// One receive function per message: listenForSignals reads them while
	// the run lives, drainSignals before continue-as-new.
	t.receivers = append(t.receivers, signalReceiver{ch: ch, receive: func() bool {
		var m M
		if !ch.ReceiveAsync(&m) {
			return false
		}
		signal(m)
		return true
	}})
	return nil
}

// signalReceiver reads the Signals of one message type.
type signalReceiver struct {
	ch workflow.ReceiveChannel
	// receive applies one delivered Signal and reports whether there was one.
	receive func() bool
}

// listenForSignals applies Signals as they are delivered, for the life of
// the run, once the program is there. One coroutine serves every message
// type (a cached workflow's memory is mostly its coroutines' stacks): each
// round drains the channels whole, in the order the handlers were
// registered, which is the order one coroutine per message applied them in,
// so histories recorded with those coroutines replay unchanged.
func (t *transition) listenForSignals(ctx workflow.Context) {
	delivered := func() bool {
		for _, r := range t.receivers {
			if r.ch.Len() > 0 {
				return true
			}
		}
		return false
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := workflow.Await(ctx, t.ready); err != nil {
			return
		}
		for {
			for _, r := range t.receivers {
				for r.receive() {
				}
			}
			if err := workflow.Await(ctx, delivered); err != nil {
				return
			}
		}
	})
}

// drainSignals applies every signal already delivered but not yet read, so
// continue-as-new never drops one.
func (t *transition) drainSignals() {
	for drained := true; drained; {
		drained = false
		for _, r := range t.receivers {
			if r.receive() {
				drained = true
			}
		}
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
	if t.s.TimeZone != "" {
		t.s.Deadline = zonedDeadline(ctx, t.s.TimeZone, m.By, from)
	}
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

func (t *transition) validateUndelivered(m EmailUndelivered) error {
	if m.Step == "" {
		return errors.New("email-undelivered: step is empty")
	}
	if m.Event != "bounce" && m.Event != "dropped" {
		return fmt.Errorf("email-undelivered: event %q is neither bounce nor dropped", m.Event)
	}
	return nil
}

// onUndelivered records an email SendGrid did not deliver, once per step,
// and shows it (EmailUndelivered), whatever the stage: an outcome email can
// bounce after the decision. It does not change the partner's deadline or
// tier; an operator decides what to do (another address, an extension).
func (t *transition) onUndelivered(ctx workflow.Context, m EmailUndelivered) {
	if workflow.GetVersion(ctx, changeDeliveryEvents, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	if slices.ContainsFunc(t.s.Undelivered, func(u EmailUndelivered) bool { return u.Step == m.Step }) {
		return
	}
	t.s.Undelivered = append(t.s.Undelivered, m)
	t.log.Warn("email not delivered", "step", m.Step, "kind", m.Kind, "event", m.Event)
	if err := t.show(ctx); err != nil {
		t.log.Error("show undelivered email", "error", err)
	}
}
