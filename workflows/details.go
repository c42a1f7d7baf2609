package workflows

import (
	"fmt"
	"time"
)

// details is the Markdown the Web UI shows for this workflow (its "current
// details"), refreshed by show whenever the search attributes are.
func (t *transition) details() string {
	s := fmt.Sprintf("**%s** · %s → %s · stage **%s** · deadline %s",
		t.in.PartnerID, t.in.OldTier, t.s.Evaluation.ExpectedTier, t.s.Stage, t.s.Deadline.UTC().Format(time.RFC3339))
	if t.s.Outcome != "" {
		s += fmt.Sprintf(" · outcome **%s** (%s)", t.s.Outcome, t.s.NewTier)
	} else if len(t.s.Evaluation.Missing) > 0 {
		s += fmt.Sprintf(" · missing %d item(s)", len(t.s.Evaluation.Missing))
	}
	if len(t.s.EmailFailures) > 0 {
		s += fmt.Sprintf(" · email failed: %v", t.s.EmailFailures)
	}
	for _, u := range t.s.Undelivered {
		s += fmt.Sprintf(" · **%s email %s** (%s)", u.Kind, u.Event, u.Step)
	}
	return s
}
