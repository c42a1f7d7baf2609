package program

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// trackNameForbidden are the characters the partner file's tracks column
// uses as separators ("Resell:Advanced|Sell With:Ready").
const trackNameForbidden = ":|"

// tracks reads the tracks list: each track is a mapping with a name and its
// own old_program, new_program and transitions, read by the same code as a
// program without tracks.
func (l *loader) tracks(root *fields, p *Program) {
	seen := map[string]int{}
	for i, tn := range l.seq(root, "tracks", true) {
		path := fmt.Sprintf("tracks[%d]", i)
		tf := l.mapping(tn, path, "name", "old_program", "new_program", "transitions")
		if tf.node == nil || tf.node.Kind != yaml.MappingNode {
			if tf.node == nil || tf.node.Kind == yaml.ScalarNode && tf.node.Tag == "!!null" {
				l.problem(tn, path, "is empty; a track needs name, old_program, new_program and transitions")
			}
			continue
		}
		name := l.str(tf, "name", true)
		switch {
		case name == "":
		case strings.ContainsAny(name, trackNameForbidden):
			l.problem(tf.line("name"), path+".name", "%q must not contain ':' or '|': the partner file's tracks column separates tracks with '|' and a track from its tier with ':'", name)
		default:
			if first, dup := seen[name]; dup {
				l.problem(tf.line("name"), path+".name", "track %q is declared twice (first at line %d)", name, first)
				continue
			}
			seen[name] = tf.line("name").Line
		}
		for _, key := range []string{"old_program", "new_program", "transitions"} {
			if !tf.has(key) {
				l.problem(tf.where(), join(path, key), "is required: every track has its own %s", key)
			}
		}
		lp := &Program{}
		l.ladder(tf, p, lp, name)
		p.Tracks = append(p.Tracks, Track{Name: name, OldTiers: lp.OldTiers, Tiers: lp.Tiers, Fallback: lp.Fallback, ApplyAt: lp.ApplyAt, Transitions: lp.Transitions})
	}
}

// TrackList returns the program's tracks; a program without tracks is one
// implicit track, with an empty name, made of its top-level ladder. Code
// that handles both kinds of program loops over this.
func (p *Program) TrackList() []Track {
	if len(p.Tracks) > 0 {
		return p.Tracks
	}
	return []Track{{OldTiers: p.OldTiers, Tiers: p.Tiers, Fallback: p.Fallback, ApplyAt: p.ApplyAt, Transitions: p.Transitions}}
}

// HasTracks reports whether the program declares tracks of its own.
func (p *Program) HasTracks() bool { return len(p.Tracks) > 0 }

// TrackProgram is one track seen as a program of its own: the program's
// catalog, emails and reminders with the track's ladder, so that every
// single-ladder rule (Evaluate, TierRank, Deadline, Meets) applies to it
// unchanged. Name is the track's name.
type TrackProgram struct {
	Name string
	*Program
}

// TrackPrograms returns one TrackProgram per track, in program order; for a
// program without tracks, the program itself under an empty name. Build
// them once and evaluate many partners with them.
func (p *Program) TrackPrograms() []TrackProgram {
	if len(p.Tracks) == 0 {
		return []TrackProgram{{Program: p}}
	}
	out := make([]TrackProgram, len(p.Tracks))
	for i, t := range p.Tracks {
		v := *p
		v.Tracks = nil
		v.OldTiers, v.Tiers, v.Fallback, v.ApplyAt, v.Transitions = t.OldTiers, t.Tiers, t.Fallback, t.ApplyAt, t.Transitions
		out[i] = TrackProgram{Name: t.Name, Program: &v}
	}
	return out
}

// TrackProgram returns the track called name seen as a program.
func (p *Program) TrackProgram(name string) (TrackProgram, bool) {
	for _, tp := range p.TrackPrograms() {
		if tp.Name == name {
			return tp, true
		}
	}
	return TrackProgram{}, false
}

// TrackNames lists the program's track names in program order (none for a
// program without tracks).
func (p *Program) TrackNames() []string {
	out := make([]string, len(p.Tracks))
	for i, t := range p.Tracks {
		out[i] = t.Name
	}
	return out
}

// EvaluateTracks evaluates a partner in every track: for a program without
// tracks (one TrackProgram with an empty name), against oldTier; for a
// program with tracks, in each track the partner holds a level in, in
// program order. A track the partner holds no level in is not evaluated:
// joining a track is an enrolment, not a transition. tps comes from
// Program.TrackPrograms, built once. out is reused to save allocations.
func EvaluateTracks(out []TrackEvaluation, tps []TrackProgram, oldTier string, levels []TrackLevel, f Facts) ([]TrackEvaluation, error) {
	out = out[:0]
	if len(tps) == 1 && tps[0].Name == "" {
		ev, err := tps[0].Evaluate(oldTier, f)
		if err != nil {
			return out, err
		}
		return append(out, TrackEvaluation{Evaluation: ev}), nil
	}
	for _, tp := range tps {
		lv, ok := levelIn(levels, tp.Name)
		if !ok {
			continue
		}
		ev, err := tp.Evaluate(lv, f)
		if err != nil {
			return out, fmt.Errorf("track %s: %w", tp.Name, err)
		}
		out = append(out, TrackEvaluation{Track: tp.Name, Evaluation: ev})
	}
	return out, nil
}

// levelIn returns the partner's level in track.
func levelIn(levels []TrackLevel, track string) (string, bool) {
	for _, l := range levels {
		if l.Track == track {
			return l.Tier, true
		}
	}
	return "", false
}

// CheckLevels checks a partner's track levels against the program: every
// track must be one of the program's and every tier an old tier of that
// track. It returns one sentence per problem, for the partner file's
// reader to locate.
func (p *Program) CheckLevels(levels []TrackLevel) []string {
	var out []string
	if len(levels) == 0 {
		return nil
	}
	if len(p.Tracks) == 0 {
		return []string{fmt.Sprintf("program %s has no tracks, so a partner holds no level in %q", p.ID, levels[0].Track)}
	}
	for _, lv := range levels {
		i := slices.IndexFunc(p.Tracks, func(t Track) bool { return t.Name == lv.Track })
		if i < 0 {
			out = append(out, fmt.Sprintf("%q is not a track of program %s (tracks: %s)", lv.Track, p.ID, strings.Join(p.TrackNames(), ", ")))
			continue
		}
		if !slices.Contains(p.Tracks[i].OldTiers, lv.Tier) {
			out = append(out, fmt.Sprintf("%q is not an old tier of track %q (old tiers: %s)", lv.Tier, lv.Track, strings.Join(p.Tracks[i].OldTiers, ", ")))
		}
	}
	return out
}

// LatestDeadline is the deadline of a partner of a program with tracks:
// the latest of the deadlines of the tracks it holds a level in, each
// computed by deadline for that track's program and the partner's level
// in it (Program.Deadline, or DeadlineIn under the end-of-day rule). One
// transition decides every track, so it waits for the last. It fails when
// the partner holds a level in none of tps.
func LatestDeadline(tps []TrackProgram, levels []TrackLevel, deadline func(p *Program, oldTier string) (time.Time, error)) (time.Time, error) {
	var latest time.Time
	for _, tp := range tps {
		lv, ok := levelIn(levels, tp.Name)
		if !ok {
			continue
		}
		d, err := deadline(tp.Program, lv)
		if err != nil {
			return time.Time{}, fmt.Errorf("track %s: %w", tp.Name, err)
		}
		if d.After(latest) {
			latest = d
		}
	}
	if latest.IsZero() {
		return time.Time{}, fmt.Errorf("the partner holds a level in no track")
	}
	return latest, nil
}

// HeadlineOutcome sums up a partner's per-track outcomes in one word, for
// the places that hold one outcome per partner (the enrollment row, the
// Outcome search attribute, the workflow's result): demoted if any track
// is, else promoted if any track is, else kept. The per-track outcomes
// are kept beside it.
func HeadlineOutcome(evs []TrackEvaluation) Outcome {
	out := OutcomeKept
	for _, ev := range evs {
		switch ev.Outcome {
		case OutcomeDemoted:
			return OutcomeDemoted
		case OutcomePromoted:
			out = OutcomePromoted
		}
	}
	return out
}

// ExpectedLevels names the level a partner is expected to reach in each
// track it holds, in program order, in the partner file's notation:
// "Resell:Advanced|Sell With:Ready". It is the expected tier that the
// launcher's summary, the ExpectedTier search attribute and the
// enrollment row show for a partner of a program with tracks.
func ExpectedLevels(tps []TrackProgram, levels []TrackLevel) string {
	var b strings.Builder
	for _, tp := range tps {
		lv, ok := levelIn(levels, tp.Name)
		if !ok {
			continue
		}
		tr, _ := tp.Transition(lv)
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(tp.Name + ":" + tr.Expect)
	}
	return b.String()
}
