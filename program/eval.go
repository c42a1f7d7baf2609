package program

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TierRank is a tier's position in the new program: the fallback is 0, the
// first (lowest) tier 1, and so on; -1 for a name that is not in the program.
// Outcomes and caps compare ranks, never names.
func (p *Program) TierRank(name string) int {
	if name == p.Fallback {
		return 0
	}
	for i := range p.Tiers {
		if p.Tiers[i].Name == name {
			return i + 1
		}
	}
	return -1
}

// Transition returns the transition of the partners of oldTier.
func (p *Program) Transition(oldTier string) (Transition, bool) {
	for _, t := range p.Transitions {
		if t.From == oldTier {
			return t, true
		}
	}
	return Transition{}, false
}

// Deadline is when the transition of a partner of oldTier is decided: the
// launch plus that transition's grace, in calendar terms.
func (p *Program) Deadline(oldTier string, launch time.Time) (time.Time, error) {
	t, ok := p.Transition(oldTier)
	if !ok {
		return time.Time{}, fmt.Errorf("program %s: old tier %q has no transition", p.ID, oldTier)
	}
	return t.Grace.AddTo(launch), nil
}

// DeadlineIn is Deadline under the end-of-day rule (Duration.EndOfDayFrom):
// a grace period in days or months ends at 23:59:59 in loc, the program's
// zone, on its last day.
func (p *Program) DeadlineIn(oldTier string, launch time.Time, loc *time.Location) (time.Time, error) {
	t, ok := p.Transition(oldTier)
	if !ok {
		return time.Time{}, fmt.Errorf("program %s: old tier %q has no transition", p.ID, oldTier)
	}
	return t.Grace.EndOfDayFrom(launch, loc), nil
}

// ReminderTimes returns when each reminder is due before deadline, in the
// order of Reminders (largest offset, hence earliest time, first).
func (p *Program) ReminderTimes(deadline time.Time) []time.Time {
	out := make([]time.Time, len(p.Reminders))
	for i, r := range p.Reminders {
		out[i] = r.SubFrom(deadline)
	}
	return out
}

// IsOldTier reports whether name is a tier of the old program.
func (p *Program) IsOldTier(name string) bool { return slices.Contains(p.OldTiers, name) }

// HasCertification reports whether the catalog declares the certification.
func (p *Program) HasCertification(name string) bool { return slices.Contains(p.Certifications, name) }

// HasCompetency reports whether the catalog declares the competency.
func (p *Program) HasCompetency(name string) bool { return slices.Contains(p.Competencies, name) }

// HasModule reports whether the catalog declares the module.
func (p *Program) HasModule(name string) bool { return slices.Contains(p.Modules, name) }

// tier returns the new tier called name.
func (p *Program) tier(name string) (*Tier, bool) {
	for i := range p.Tiers {
		if p.Tiers[i].Name == name {
			return &p.Tiers[i], true
		}
	}
	return nil, false
}

// Meets reports whether the facts meet tier's requirements. Everyone meets
// the fallback; nobody meets an unknown tier.
func (p *Program) Meets(tier string, f Facts) bool {
	if tier == p.Fallback {
		return true
	}
	t, ok := p.tier(tier)
	if !ok {
		return false
	}
	return t.Requires.Met(f)
}

// Evaluate applies the new program's rules to a partner of oldTier: the
// highest tier met within the transition's cap (or the fallback), the outcome
// against the expected tier, and what is missing for the expected tier. It is
// deterministic, so the workflow can call it on every facts change.
func (p *Program) Evaluate(oldTier string, f Facts) (Evaluation, error) {
	t, ok := p.Transition(oldTier)
	if !ok {
		return Evaluation{}, fmt.Errorf("program %s: old tier %q has no transition (old tiers: %s)", p.ID, oldTier, strings.Join(p.OldTiers, ", "))
	}
	top := len(p.Tiers)
	if t.Cap != "" {
		if r := p.TierRank(t.Cap); r >= 0 {
			top = r
		}
	}
	newRank := 0
	for r := top; r >= 1; r-- {
		if p.Tiers[r-1].Requires.Met(f) {
			newRank = r
			break
		}
	}
	ev := Evaluation{OldTier: oldTier, ExpectedTier: t.Expect, NewTier: p.Fallback}
	if newRank > 0 {
		ev.NewTier = p.Tiers[newRank-1].Name
	}
	expRank := p.TierRank(t.Expect)
	switch {
	case newRank > expRank:
		ev.Outcome = OutcomePromoted
	case newRank == expRank:
		ev.Outcome = OutcomeKept
	default:
		ev.Outcome = OutcomeDemoted
	}
	ev.MeetsExpected = true
	if et, ok := p.tier(t.Expect); ok && et.Requires != nil {
		ev.Missing = et.Requires.appendMissing(nil, f, p.Currency)
		ev.MeetsExpected = len(ev.Missing) == 0
	}
	return ev, nil
}

// Met reports whether the facts satisfy the requirement. A nil requirement
// (a tier with no requirements) is always met.
func (r *Requirement) Met(f Facts) bool {
	if r == nil {
		return true
	}
	switch {
	case len(r.AllOf) > 0:
		for i := range r.AllOf {
			if !r.AllOf[i].Met(f) {
				return false
			}
		}
		return true
	case len(r.AnyOf) > 0:
		return countMet(r.AnyOf, f) >= 1
	case r.AtLeast > 0 || len(r.Of) > 0:
		return countMet(r.Of, f) >= r.AtLeast
	case r.Certification != "":
		return f.Certifications[r.Certification] >= max(r.Count, 1)
	case r.Competency != "":
		return slices.Contains(f.Competencies, r.Competency)
	case r.Module != "":
		return slices.Contains(f.Modules, r.Module)
	case r.MinRevenue != nil:
		return f.Revenue >= *r.MinRevenue
	case r.MinPoints != nil:
		return f.Points >= *r.MinPoints
	}
	return true
}

func countMet(rs []Requirement, f Facts) int {
	n := 0
	for i := range rs {
		if rs[i].Met(f) {
			n++
		}
	}
	return n
}

// appendMissing appends what the facts lack for r, in tree order. An unmet
// choice is one item listing its alternatives rather than each alternative.
func (r *Requirement) appendMissing(out []Missing, f Facts, currency string) []Missing {
	switch {
	case len(r.AllOf) > 0:
		for i := range r.AllOf {
			out = r.AllOf[i].appendMissing(out, f, currency)
		}
	case len(r.AnyOf) > 0 || r.AtLeast > 0 || len(r.Of) > 0:
		opts, need := r.Of, r.AtLeast
		if len(r.AnyOf) > 0 {
			opts, need = r.AnyOf, 1
		}
		have := countMet(opts, f)
		if have < need {
			m := Missing{Kind: MissingChoice, Have: int64(have), Need: int64(need), Options: make([]string, len(opts))}
			for i := range opts {
				m.Options[i] = opts[i].Describe(currency)
			}
			out = append(out, m)
		}
	case r.Certification != "":
		have, need := f.Certifications[r.Certification], max(r.Count, 1)
		if have < need {
			out = append(out, Missing{Kind: MissingCertification, Name: r.Certification, Have: int64(have), Need: int64(need)})
		}
	case r.Competency != "":
		if !slices.Contains(f.Competencies, r.Competency) {
			out = append(out, Missing{Kind: MissingCompetency, Name: r.Competency, Have: 0, Need: 1})
		}
	case r.Module != "":
		if !slices.Contains(f.Modules, r.Module) {
			out = append(out, Missing{Kind: MissingModule, Name: r.Module, Have: 0, Need: 1})
		}
	case r.MinRevenue != nil:
		if f.Revenue < *r.MinRevenue {
			out = append(out, Missing{Kind: MissingRevenue, Have: int64(f.Revenue), Need: int64(*r.MinRevenue)})
		}
	case r.MinPoints != nil:
		if f.Points < *r.MinPoints {
			out = append(out, Missing{Kind: MissingPoints, Have: int64(f.Points), Need: int64(*r.MinPoints)})
		}
	}
	return out
}

// Describe is a short English description of the requirement, used for the
// options of a choice ("Business Continuity", "2 VTSP", "revenue 10000 USD").
// Emails translate structured Missing items, so this is for operators.
func (r *Requirement) Describe(currency string) string {
	if r == nil {
		return "nothing"
	}
	list := func(rs []Requirement) string {
		parts := make([]string, len(rs))
		for i := range rs {
			parts[i] = rs[i].Describe(currency)
		}
		return strings.Join(parts, ", ")
	}
	switch {
	case len(r.AllOf) > 0:
		return "all of [" + list(r.AllOf) + "]"
	case len(r.AnyOf) > 0:
		return "one of [" + list(r.AnyOf) + "]"
	case r.AtLeast > 0 || len(r.Of) > 0:
		return strconv.Itoa(r.AtLeast) + " of [" + list(r.Of) + "]"
	case r.Certification != "":
		if r.Count > 1 {
			return strconv.Itoa(r.Count) + " " + r.Certification
		}
		return r.Certification
	case r.Competency != "":
		return r.Competency
	case r.Module != "":
		return r.Module
	case r.MinRevenue != nil:
		s := "revenue " + r.MinRevenue.String()
		if currency != "" {
			s += " " + currency
		}
		return s
	case r.MinPoints != nil:
		return strconv.Itoa(*r.MinPoints) + " points"
	}
	return "nothing"
}
