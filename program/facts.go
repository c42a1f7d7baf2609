package program

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// FactOp is one kind of change to a partner's facts, as an operator or a CRM
// sync reports it while a campaign runs.
type FactOp string

// The fact operations. Earned/lost and added/removed adjust one name; the
// "-set" operations replace a number.
const (
	OpCertEarned       FactOp = "cert-earned"
	OpCertLost         FactOp = "cert-lost"
	OpCompetencyEarned FactOp = "competency-earned"
	OpCompetencyLost   FactOp = "competency-lost"
	OpModuleAdded      FactOp = "module-added"
	OpModuleRemoved    FactOp = "module-removed"
	OpRevenueSet       FactOp = "revenue-set"
	OpPointsSet        FactOp = "points-set"
)

// FactOps lists every operation, for help texts and validation messages.
var FactOps = []FactOp{OpCertEarned, OpCertLost, OpCompetencyEarned, OpCompetencyLost, OpModuleAdded, OpModuleRemoved, OpRevenueSet, OpPointsSet}

// FactChange is one change to a partner's facts. ID and Source identify the
// change for idempotency and audit; the rules ignore them.
type FactChange struct {
	Op      FactOp `json:"op"`
	Name    string `json:"name,omitempty"`
	Count   int    `json:"count,omitempty"`
	Revenue Money  `json:"revenue,omitempty"`
	Points  int    `json:"points,omitempty"`
	ID      string `json:"id,omitempty"`
	Source  string `json:"source,omitempty"`
}

// ParseFactOp reads an operation name as typed on the command line.
func ParseFactOp(s string) (FactOp, error) {
	op := FactOp(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(FactOps, op) {
		return op, nil
	}
	return "", fmt.Errorf("unknown fact operation %q (operations: %s)", s, opList())
}

func opList() string {
	parts := make([]string, len(FactOps))
	for i, op := range FactOps {
		parts[i] = string(op)
	}
	return strings.Join(parts, ", ")
}

// ValidateChange checks a change against the program before it reaches a
// workflow, so a typo in a certification name is refused instead of silently
// recorded as a fact no rule looks at.
func (p *Program) ValidateChange(c FactChange) error {
	declared := func(kind string, names []string) error {
		if c.Name == "" {
			return fmt.Errorf("%s: a %s name is required", c.Op, kind)
		}
		if !slices.Contains(names, c.Name) {
			if len(names) == 0 {
				return fmt.Errorf("%s: program %s declares no %s, so %q cannot be recorded", c.Op, p.ID, kind+"s", c.Name)
			}
			return fmt.Errorf("%s: %s %q is not declared by program %s (declared: %s)", c.Op, kind, c.Name, p.ID, strings.Join(names, ", "))
		}
		return nil
	}
	switch c.Op {
	case OpCertEarned, OpCertLost:
		if c.Count < 0 {
			return fmt.Errorf("%s: count %d must not be negative", c.Op, c.Count)
		}
		return declared("certification", p.Certifications)
	case OpCompetencyEarned, OpCompetencyLost:
		return declared("competency", p.Competencies)
	case OpModuleAdded, OpModuleRemoved:
		return declared("module", p.Modules)
	case OpRevenueSet:
		if c.Revenue < 0 {
			return fmt.Errorf("%s: revenue %s must not be negative", c.Op, c.Revenue)
		}
	case OpPointsSet:
		if c.Points < 0 {
			return fmt.Errorf("%s: points %d must not be negative", c.Op, c.Points)
		}
	default:
		return fmt.Errorf("unknown fact operation %q (operations: %s)", c.Op, opList())
	}
	return nil
}

// Apply returns the facts after the change. It never modifies f nor shares
// its map or slices with the result, so workflow state cannot be changed
// behind its back. Unknown operations leave the facts unchanged (validate
// first with ValidateChange).
func (f Facts) Apply(c FactChange) Facts {
	out := f.Clone()
	n := max(c.Count, 1)
	switch c.Op {
	case OpCertEarned:
		if out.Certifications == nil {
			out.Certifications = map[string]int{}
		}
		out.Certifications[c.Name] += n
	case OpCertLost:
		if have := out.Certifications[c.Name]; have > n {
			out.Certifications[c.Name] = have - n
		} else {
			delete(out.Certifications, c.Name)
		}
	case OpCompetencyEarned:
		out.Competencies = insertSorted(out.Competencies, c.Name)
	case OpCompetencyLost:
		out.Competencies = slices.DeleteFunc(out.Competencies, func(s string) bool { return s == c.Name })
	case OpModuleAdded:
		out.Modules = insertSorted(out.Modules, c.Name)
	case OpModuleRemoved:
		out.Modules = slices.DeleteFunc(out.Modules, func(s string) bool { return s == c.Name })
	case OpRevenueSet:
		out.Revenue = c.Revenue
	case OpPointsSet:
		out.Points = c.Points
	}
	return out.Normalize()
}

func insertSorted(s []string, name string) []string {
	if slices.Contains(s, name) {
		return s
	}
	s = append(s, name)
	slices.Sort(s)
	return s
}

// Clone returns a deep copy of f.
func (f Facts) Clone() Facts {
	out := f
	out.Certifications = maps.Clone(f.Certifications)
	out.Competencies = slices.Clone(f.Competencies)
	out.Modules = slices.Clone(f.Modules)
	return out
}

// Normalize returns a copy of f in canonical form: sorted, deduplicated name
// lists, no certification held zero (or fewer) times, and nil instead of
// empty collections. Two equal sets of facts then compare and serialise
// identically, which keeps workflow histories stable.
func (f Facts) Normalize() Facts {
	out := f
	out.Certifications = nil
	for name, n := range f.Certifications {
		if n > 0 {
			if out.Certifications == nil {
				out.Certifications = make(map[string]int, len(f.Certifications))
			}
			out.Certifications[name] = n
		}
	}
	norm := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		s = slices.Clone(s)
		slices.Sort(s)
		return slices.Compact(s)
	}
	out.Competencies = norm(f.Competencies)
	out.Modules = norm(f.Modules)
	return out
}
