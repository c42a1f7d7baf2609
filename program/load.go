package program

import (
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tiershift/tiershift/zones"
)

// The email kinds, one per workflow step that writes to a partner. They are
// defined here, the package every other one imports, so that program
// files, the email package's Kind and its templates name the same ones.
const (
	EmailAnnouncement = "announcement"
	EmailReminder     = "reminder"
	EmailQualified    = "qualified"
	EmailExtended     = "extended"
	EmailOutcome      = "outcome"
)

// EmailKinds are the email kinds a program may override, in the order a
// partner may receive them: the one list the email package's Kinds is
// made from.
var EmailKinds = []string{EmailAnnouncement, EmailReminder, EmailQualified, EmailExtended, EmailOutcome}

// SupportedLocales are the locales tiershift has built-in templates for:
// the one list program files, partner files (partnerfile.Locales) and the
// email package's templates (email.Locales) are checked against.
var SupportedLocales = []string{"en", "fr"}

// maxRequirementDepth bounds requirement nesting; deeper trees are mistakes
// and would only make evaluation slow.
const maxRequirementDepth = 16

// referenceDate is the fixed date used to compare calendar durations (is 30
// days shorter than 1 month?) deterministically.
var referenceDate = time.Date(2001, time.January, 31, 0, 0, 0, 0, time.UTC)

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	yamlLinePattern = regexp.MustCompile(`line (\d+)`)
)

// Load parses and validates a program file. filename is only used in
// problem locations. On any problem it returns a nil program and Problems
// listing every problem found, in file order.
func Load(filename string, data []byte) (*Program, error) {
	l := &loader{file: filename}
	p := l.load(data)
	if len(l.probs) > 0 {
		sort.SliceStable(l.probs, func(i, j int) bool { return l.probs[i].Line < l.probs[j].Line })
		return nil, l.probs
	}
	return p, nil
}

type loader struct {
	file  string
	probs Problems
	// unknown are transition tiers no tier of their own ladder declares;
	// they are reported once every track is read, so that a tier of
	// another track is named as such.
	unknown []unknownTier
	// ladders are the ladders read so far, with their names (empty for a
	// program without tracks).
	ladders []*ladderTiers
}

// ladderTiers is what resolveUnknown needs to know about one ladder.
type ladderTiers struct {
	track string
	lp    *Program
	line  map[string]int
}

// unknownTier is a transition's expect or cap that is not a tier of its ladder.
type unknownTier struct {
	node  *yaml.Node
	field string
	name  string
	in    *ladderTiers
}

// resolveUnknown reports every transition tier that its ladder does not
// declare, naming the track that does declare it, if any.
func (l *loader) resolveUnknown() {
	for _, u := range l.unknown {
		names := make([]string, 0, len(u.in.lp.Tiers)+1)
		if u.in.lp.Fallback != "" {
			names = append(names, u.in.lp.Fallback)
		}
		for _, t := range u.in.lp.Tiers {
			names = append(names, t.Name)
		}
		owner := ""
		for _, other := range l.ladders {
			if other != u.in && (other.line[u.name] > 0 || (other.lp.Fallback == u.name && u.name != "")) {
				owner = other.track
				break
			}
		}
		if owner != "" {
			l.problem(u.node, u.field, "%q is a tier of track %q, not of track %q; a transition can only expect or cap a tier of its own track (tiers: %s)", u.name, owner, u.in.track, strings.Join(names, ", "))
			continue
		}
		l.problem(u.node, u.field, "%q is not a tier of the new program (tiers: %s)", u.name, strings.Join(names, ", "))
	}
	l.unknown = nil
}

func (l *loader) problem(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.probs = append(l.probs, Problem{File: l.file, Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases so that anchors work as YAML users expect.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// fields is a YAML mapping checked against its allowed keys.
type fields struct {
	node *yaml.Node
	// at is the key that introduced the mapping, where missing fields are reported.
	at   *yaml.Node
	path string
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (l *loader) mapping(n *yaml.Node, path string, allowed ...string) *fields {
	f := &fields{node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = resolve(n)
	if n == nil {
		return f
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return f
		}
		l.problem(n, path, "must be a mapping of key: value lines")
		return f
	}
	f.node = n
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			l.problem(k, path, "keys must be plain words")
			continue
		}
		key := k.Value
		if !slices.Contains(allowed, key) {
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			l.problem(k, join(path, key), "%s; allowed keys are %s", msg, strings.Join(allowed, ", "))
			continue
		}
		if prev, dup := f.keys[key]; dup {
			l.problem(k, join(path, key), "is given twice (first at line %d)", prev.Line)
			continue
		}
		f.keys[key] = k
		f.vals[key] = resolve(v)
	}
	return f
}

// suggest returns the allowed key closest to a typo, if close enough.
func suggest(key string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(key), a); d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// line returns the best line for a field: its value, else its key, else the mapping.
func (f *fields) line(key string) *yaml.Node {
	if v := f.vals[key]; v != nil {
		return v
	}
	if k := f.keys[key]; k != nil {
		return k
	}
	return f.node
}

// child reads the mapping under key.
func (l *loader) child(f *fields, key string, allowed ...string) *fields {
	c := l.mapping(f.vals[key], join(f.path, key), allowed...)
	c.at = f.keys[key]
	return c
}

// where is the line to report a missing field of the mapping on.
func (f *fields) where() *yaml.Node {
	if f.at != nil {
		return f.at
	}
	return f.node
}

func (f *fields) has(key string) bool { _, ok := f.vals[key]; return ok }

// str reads a scalar string field. Missing required fields are reported on
// the mapping's line.
func (l *loader) str(f *fields, key string, required bool) string {
	v, ok := f.vals[key]
	if !ok || v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		if required {
			if ok {
				l.problem(f.line(key), join(f.path, key), "is required and must not be empty")
			} else {
				l.problem(f.where(), join(f.path, key), "is required")
			}
		}
		return ""
	}
	if v.Kind != yaml.ScalarNode {
		l.problem(v, join(f.path, key), "must be a single value, not a list or mapping")
		return ""
	}
	s := strings.TrimSpace(v.Value)
	if s == "" && required {
		l.problem(v, join(f.path, key), "is required and must not be empty")
	}
	return s
}

// seq reads a list field; a missing or null field is an empty list.
func (l *loader) seq(f *fields, key string, required bool) []*yaml.Node {
	v, ok := f.vals[key]
	if !ok || v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		if required {
			l.problem(f.line(key), join(f.path, key), "is required: give a list")
		}
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		l.problem(v, join(f.path, key), "must be a list")
		return nil
	}
	out := make([]*yaml.Node, len(v.Content))
	for i, c := range v.Content {
		out[i] = resolve(c)
	}
	if required && len(out) == 0 {
		l.problem(v, join(f.path, key), "must not be empty")
	}
	return out
}

// names reads a list of unique non-empty names, reporting duplicates.
func (l *loader) names(f *fields, key string, required bool, what string) ([]string, map[string]int) {
	var out []string
	lines := map[string]int{}
	for i, n := range l.seq(f, key, required) {
		path := fmt.Sprintf("%s[%d]", join(f.path, key), i)
		if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			l.problem(n, path, "must be a name")
			continue
		}
		s := strings.TrimSpace(n.Value)
		if s == "" {
			l.problem(n, path, "must not be empty")
			continue
		}
		if first, dup := lines[s]; dup {
			l.problem(n, path, "%s %q is listed twice (first at line %d)", what, s, first)
			continue
		}
		lines[s] = n.Line
		out = append(out, s)
	}
	return out, lines
}

// integer reads a scalar integer.
func (l *loader) integer(n *yaml.Node, path string) (int, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		l.problem(n, path, "must be a whole number")
		return 0, false
	}
	v, err := strconv.Atoi(strings.TrimSpace(n.Value))
	if err != nil || v > 1_000_000_000 || v < -1_000_000_000 {
		l.problem(n, path, "must be a whole number, not %q", n.Value)
		return 0, false
	}
	return v, true
}

func (l *loader) duration(n *yaml.Node, path string) (Duration, bool) {
	if n == nil || n.Kind != yaml.ScalarNode {
		l.problem(n, path, "must be a duration such as \"6 months\" or \"30 days\"")
		return Duration{}, false
	}
	d, err := ParseDuration(n.Value)
	if err != nil {
		l.problem(n, path, "%v", err)
		return Duration{}, false
	}
	return d, true
}

// timeZone reads program.timezone, an IANA zone name checked against the
// zone database; absent means UTC (stored as empty).
func (l *loader) timeZone(pf *fields) string {
	if !pf.has("timezone") {
		return ""
	}
	name := l.str(pf, "timezone", true)
	if name == "" {
		return ""
	}
	if _, err := zones.Load(name); err != nil {
		l.problem(pf.line("timezone"), "program.timezone", "%v", err)
		return ""
	}
	return name
}

func (l *loader) load(data []byte) *Program {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		if m := yamlLinePattern.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.TrimPrefix(msg, fmt.Sprintf("line %d: ", line))
		l.probs = append(l.probs, Problem{File: l.file, Line: line, Message: "not valid YAML: " + msg})
		return nil
	}
	if len(doc.Content) == 0 {
		l.probs = append(l.probs, Problem{File: l.file, Line: 1, Message: "file is empty; a program needs program, old_program, new_program, transitions and emails"})
		return nil
	}
	root := l.mapping(doc.Content[0], "", "program", "catalog", "old_program", "new_program", "transitions", "tracks", "reminders", "emails")
	if root.node == nil || root.node.Kind != yaml.MappingNode {
		return nil
	}
	p := &Program{}

	for _, key := range []string{"program", "emails"} {
		if !root.has(key) {
			l.problem(root.node, key, "is required")
		}
	}

	// program
	if root.has("program") {
		pf := l.child(root, "program", "id", "name", "vendor", "currency", "timezone")
		p.ID = l.str(pf, "id", true)
		if p.ID != "" && !idPattern.MatchString(p.ID) {
			l.problem(pf.line("id"), "program.id", "%q must be lowercase letters, digits, '.', '-' or '_' (it names workflows)", p.ID)
		}
		p.Name = l.str(pf, "name", true)
		p.Vendor = l.str(pf, "vendor", true)
		p.Currency = l.str(pf, "currency", true)
		if p.Currency != "" && !currencyPattern.MatchString(p.Currency) {
			l.problem(pf.line("currency"), "program.currency", "%q must be a three-letter ISO code such as USD or EUR", p.Currency)
		}
		p.TimeZone = l.timeZone(pf)
	}

	// catalog
	cf := l.child(root, "catalog", "certifications", "competencies", "modules")
	p.Certifications, _ = l.names(cf, "certifications", false, "certification")
	p.Competencies, _ = l.names(cf, "competencies", false, "competency")
	p.Modules, _ = l.names(cf, "modules", false, "module")

	// The ladder: at the top level, or one per track.
	if !root.has("tracks") {
		for _, key := range []string{"old_program", "new_program", "transitions"} {
			if !root.has(key) {
				l.problem(root.node, key, "is required")
			}
		}
		l.ladder(root, p, p, "")
	} else {
		if !root.has("old_program") {
			l.problem(root.node, "old_program", "is required: with tracks it lists the headline tiers of the partner file's tier column")
		}
		of := l.child(root, "old_program", "tiers")
		p.OldTiers, _ = l.names(of, "tiers", true, "old tier")
		for _, key := range []string{"new_program", "transitions"} {
			if root.has(key) {
				l.problem(root.keys[key], key, "cannot be given at the top level of a program with tracks: each track has its own %s", key)
			}
		}
		l.tracks(root, p)
	}
	l.resolveUnknown()
	var allTransitions []Transition
	for _, tr := range p.TrackList() {
		allTransitions = append(allTransitions, tr.Transitions...)
	}

	// reminders
	type reminder struct {
		d    Duration
		node *yaml.Node
	}
	var rems []reminder
	seen := map[Duration]int{}
	for i, rn := range l.seq(root, "reminders", false) {
		path := fmt.Sprintf("reminders[%d]", i)
		d, ok := l.duration(rn, path)
		if !ok {
			continue
		}
		if first, dup := seen[d]; dup {
			l.problem(rn, path, "reminder %s is listed twice (first at line %d)", d, first)
			continue
		}
		seen[d] = rn.Line
		for _, t := range allTransitions {
			if t.Grace.IsZero() {
				continue
			}
			deadline := t.Grace.AddTo(referenceDate)
			if !d.SubFrom(deadline).After(referenceDate) {
				l.problem(rn, path, "reminder %s before the deadline would be at or before the launch for partners from %q, whose grace is only %s", d, t.From, t.Grace)
			}
		}
		rems = append(rems, reminder{d, rn})
	}
	sort.SliceStable(rems, func(i, j int) bool {
		// Largest offset first: the earliest reminder before a deadline.
		return rems[i].d.SubFrom(referenceDate).Before(rems[j].d.SubFrom(referenceDate))
	})
	for _, r := range rems {
		p.Reminders = append(p.Reminders, r.d)
	}

	// emails
	if root.has("emails") {
		l.emails(root, p)
	}
	return p
}

// requirement reads one node of a requirement tree. A list is shorthand for
// all_of.
func (l *loader) requirement(n *yaml.Node, path string, p *Program, depth int) (Requirement, bool) {
	n = resolve(n)
	if depth > maxRequirementDepth {
		l.problem(n, path, "requirements are nested more than %d levels deep", maxRequirementDepth)
		return Requirement{}, false
	}
	if n != nil && n.Kind == yaml.SequenceNode {
		children, ok := l.children(n, path, p, depth)
		if len(children) == 0 && ok {
			l.problem(n, path, "is an empty list; give at least one requirement or remove requires")
			return Requirement{}, false
		}
		return Requirement{AllOf: children}, ok
	}
	keys := []string{"all_of", "any_of", "at_least", "of", "certification", "count", "competency", "module", "min_revenue", "min_points"}
	f := l.mapping(n, path, keys...)
	if f.node == nil || f.node.Kind != yaml.MappingNode {
		return Requirement{}, false
	}
	var kinds []string
	for _, k := range []struct{ kind, key1, key2 string }{
		{"all_of", "all_of", ""}, {"any_of", "any_of", ""}, {"at_least", "at_least", "of"},
		{"certification", "certification", "count"}, {"competency", "competency", ""}, {"module", "module", ""},
		{"min_revenue", "min_revenue", ""}, {"min_points", "min_points", ""},
	} {
		if f.has(k.key1) || (k.key2 != "" && f.has(k.key2)) {
			kinds = append(kinds, k.kind)
		}
	}
	const oneOf = "all_of, any_of, at_least with of, certification (with count), competency, module, min_revenue or min_points"
	switch len(kinds) {
	case 0:
		if len(f.keys) == 0 && len(f.node.Content) == 0 {
			l.problem(f.node, path, "is empty; give one of %s", oneOf)
		}
		return Requirement{}, false
	case 1:
	default:
		l.problem(f.node, path, "mixes %s; a requirement is exactly one of %s (wrap several in all_of)", strings.Join(kinds, " and "), oneOf)
		return Requirement{}, false
	}
	var r Requirement
	ok := true
	switch kinds[0] {
	case "all_of", "any_of":
		key := kinds[0]
		v := f.vals[key]
		if v == nil || v.Kind != yaml.SequenceNode {
			l.problem(f.line(key), join(path, key), "must be a list of requirements")
			return r, false
		}
		if len(v.Content) == 0 {
			l.problem(v, join(path, key), "has no requirements; give at least one")
			return r, false
		}
		var children []Requirement
		children, ok = l.children(v, join(path, key), p, depth)
		if key == "all_of" {
			r.AllOf = children
		} else {
			r.AnyOf = children
		}
	case "at_least":
		if !f.has("at_least") {
			l.problem(f.line("of"), join(path, "of"), "needs at_least: how many of the list are required")
			return r, false
		}
		if !f.has("of") {
			l.problem(f.line("at_least"), join(path, "at_least"), "needs of: the list of requirements to choose from")
			return r, false
		}
		n, nok := l.integer(f.vals["at_least"], join(path, "at_least"))
		v := f.vals["of"]
		if v == nil || v.Kind != yaml.SequenceNode {
			l.problem(f.line("of"), join(path, "of"), "must be a list of requirements")
			return r, false
		}
		if len(v.Content) == 0 {
			l.problem(v, join(path, "of"), "has no requirements; give at least one")
			return r, false
		}
		r.Of, ok = l.children(v, join(path, "of"), p, depth)
		if !nok {
			return r, false
		}
		if n < 1 {
			l.problem(f.line("at_least"), join(path, "at_least"), "is %d but must be at least 1", n)
			ok = false
		} else if n > len(v.Content) {
			l.problem(f.line("at_least"), join(path, "at_least"), "is %d but of lists only %d requirements", n, len(v.Content))
			ok = false
		}
		r.AtLeast = n
	case "certification":
		r.Certification = l.str(f, "certification", true)
		r.Count = 1
		if f.has("count") {
			c, cok := l.integer(f.vals["count"], join(path, "count"))
			if cok && c < 1 {
				l.problem(f.line("count"), join(path, "count"), "is %d but must be at least 1", c)
				cok = false
			}
			r.Count = c
			ok = ok && cok
		}
		ok = l.declared(f, "certification", r.Certification, p.Certifications, "catalog.certifications") && ok
	case "competency":
		r.Competency = l.str(f, "competency", true)
		ok = l.declared(f, "competency", r.Competency, p.Competencies, "catalog.competencies")
	case "module":
		r.Module = l.str(f, "module", true)
		ok = l.declared(f, "module", r.Module, p.Modules, "catalog.modules")
	case "min_revenue":
		v := f.vals["min_revenue"]
		if v == nil || v.Kind != yaml.ScalarNode {
			l.problem(f.line("min_revenue"), join(path, "min_revenue"), "must be an amount such as 10000")
			return r, false
		}
		m, err := ParseMoney(v.Value)
		if err != nil {
			l.problem(v, join(path, "min_revenue"), "%v", err)
			return r, false
		}
		r.MinRevenue = &m
	case "min_points":
		n, nok := l.integer(f.vals["min_points"], join(path, "min_points"))
		if nok && n < 0 {
			l.problem(f.line("min_points"), join(path, "min_points"), "is %d but must not be negative", n)
			nok = false
		}
		r.MinPoints = &n
		ok = nok
	}
	return r, ok
}

func (l *loader) children(v *yaml.Node, path string, p *Program, depth int) ([]Requirement, bool) {
	out := make([]Requirement, 0, len(v.Content))
	ok := true
	for i, c := range v.Content {
		r, cok := l.requirement(c, fmt.Sprintf("%s[%d]", path, i), p, depth+1)
		ok = ok && cok
		out = append(out, r)
	}
	return out, ok
}

func (l *loader) declared(f *fields, key, name string, declared []string, where string) bool {
	if name == "" {
		return false
	}
	if slices.Contains(declared, name) {
		return true
	}
	if len(declared) == 0 {
		l.problem(f.line(key), join(f.path, key), "%q is not declared: %s is empty; declare it there", name, where)
	} else {
		l.problem(f.line(key), join(f.path, key), "%q is not declared in %s (declared: %s)", name, where, strings.Join(declared, ", "))
	}
	return false
}

// thresholds returns the numeric thresholds a tier states at its top level
// (or in a top-level all_of), keyed by what they measure.
func thresholds(r *Requirement) map[string]int64 {
	out := map[string]int64{}
	if r == nil {
		return out
	}
	add := func(x *Requirement) {
		switch {
		case x.MinPoints != nil:
			out["min_points"] = int64(*x.MinPoints)
		case x.MinRevenue != nil:
			out["min_revenue"] = int64(*x.MinRevenue)
		case x.Certification != "":
			out["certification "+x.Certification] = int64(max(x.Count, 1))
		}
	}
	add(r)
	for i := range r.AllOf {
		add(&r.AllOf[i])
	}
	return out
}

func describeThreshold(key string, v int64) string {
	switch key {
	case "min_revenue":
		return "min_revenue " + Money(v).String()
	case "min_points":
		return fmt.Sprintf("min_points %d", v)
	}
	return fmt.Sprintf("%d %s", v, strings.TrimPrefix(key, "certification "))
}

func (l *loader) checkTierOrder(p *Program, nodes map[string]*yaml.Node, path string) {
	th := make([]map[string]int64, len(p.Tiers))
	for i := range p.Tiers {
		th[i] = thresholds(p.Tiers[i].Requires)
	}
	for j := range p.Tiers {
		for i := 0; i < j; i++ {
			keys := make([]string, 0, len(th[i]))
			for k := range th[i] {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				hv, ok := th[j][k]
				if !ok || hv >= th[i][k] {
					continue
				}
				l.problem(nodes[p.Tiers[j].Name], fmt.Sprintf("%s[%d]", path, j),
					"tiers must be listed lowest first: %q needs %s but comes after %q, which needs %s",
					p.Tiers[j].Name, describeThreshold(k, hv), p.Tiers[i].Name, describeThreshold(k, th[i][k]))
			}
		}
	}
}

func (l *loader) emails(root *fields, p *Program) {
	ef := l.child(root, "emails", "from", "reply_to", "locales", "default_locale", "links", "categories", "subjects", "bodies", "sendgrid_templates")
	e := &p.Emails
	// from: either an address or {email, name}.
	if fn, ok := ef.vals["from"]; !ok {
		l.problem(ef.where(), "emails.from", "is required: {email: partners@vendor.example, name: Vendor Partner Program}")
	} else if fn != nil && fn.Kind == yaml.ScalarNode {
		e.FromEmail = l.str(ef, "from", true)
		l.address(fn, "emails.from", e.FromEmail)
	} else {
		ff := l.child(ef, "from", "email", "name")
		e.FromEmail = l.str(ff, "email", true)
		e.FromName = l.str(ff, "name", false)
		l.address(ff.line("email"), "emails.from.email", e.FromEmail)
	}
	e.ReplyTo = l.str(ef, "reply_to", false)
	l.address(ef.line("reply_to"), "emails.reply_to", e.ReplyTo)

	locs, _ := l.names(ef, "locales", false, "locale")
	if !ef.has("locales") {
		locs = []string{"en"}
	}
	for _, loc := range locs {
		if !slices.Contains(SupportedLocales, loc) {
			l.problem(ef.line("locales"), "emails.locales", "locale %q is not supported (supported: %s)", loc, strings.Join(SupportedLocales, ", "))
		}
	}
	if ef.has("locales") && !slices.Contains(locs, "en") {
		l.problem(ef.line("locales"), "emails.locales", "must include en, the language used when a partner's is unknown")
	}
	e.Locales = locs
	e.DefaultLocale = l.str(ef, "default_locale", false)
	if e.DefaultLocale == "" {
		e.DefaultLocale = "en"
	}
	if !slices.Contains(e.Locales, e.DefaultLocale) {
		l.problem(ef.line("default_locale"), "emails.default_locale", "%q is not one of locales (%s)", e.DefaultLocale, strings.Join(e.Locales, ", "))
	}

	if ef.has("links") {
		lf := l.child(ef, "links", l.keysOf(ef.vals["links"])...)
		for _, k := range slices.Sorted(maps.Keys(lf.vals)) {
			v := l.str(lf, k, true)
			if v == "" {
				continue
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				l.problem(lf.line(k), "emails.links."+k, "%q must be an absolute http:// or https:// URL", v)
				continue
			}
			if e.Links == nil {
				e.Links = map[string]string{}
			}
			e.Links[k] = v
		}
	}
	e.Categories, _ = l.names(ef, "categories", false, "category")

	if ef.has("subjects") {
		sf := l.child(ef, "subjects", e.Locales...)
		for _, loc := range slices.Sorted(maps.Keys(sf.vals)) {
			kf := l.child(sf, loc, EmailKinds...)
			for _, kind := range slices.Sorted(maps.Keys(kf.vals)) {
				s := l.str(kf, kind, true)
				if s == "" {
					continue
				}
				if e.Subjects == nil {
					e.Subjects = map[string]map[string]string{}
				}
				if e.Subjects[loc] == nil {
					e.Subjects[loc] = map[string]string{}
				}
				e.Subjects[loc][kind] = s
			}
		}
	}
	if ef.has("bodies") {
		bf := l.child(ef, "bodies", e.Locales...)
		for _, loc := range slices.Sorted(maps.Keys(bf.vals)) {
			kf := l.child(bf, loc, EmailKinds...)
			for _, kind := range slices.Sorted(maps.Keys(kf.vals)) {
				path := "emails.bodies." + loc + "." + kind
				tf := l.child(kf, kind, "text", "html")
				b := Body{Text: l.str(tf, "text", false), HTML: l.str(tf, "html", false)}
				if b.Text == "" && b.HTML == "" {
					l.problem(kf.line(kind), path, "needs text, html or both")
					continue
				}
				if e.Bodies == nil {
					e.Bodies = map[string]map[string]Body{}
				}
				if e.Bodies[loc] == nil {
					e.Bodies[loc] = map[string]Body{}
				}
				e.Bodies[loc][kind] = b
			}
		}
	}
	if ef.has("sendgrid_templates") {
		gf := l.child(ef, "sendgrid_templates", EmailKinds...)
		for _, kind := range slices.Sorted(maps.Keys(gf.vals)) {
			id := l.str(gf, kind, true)
			if id == "" {
				continue
			}
			if e.SendGridTemplates == nil {
				e.SendGridTemplates = map[string]string{}
			}
			e.SendGridTemplates[kind] = id
		}
	}
}

// keysOf lists a mapping's keys, so that free-form mappings (links) still
// get the duplicate-key check.
func (l *loader) keysOf(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
			out = append(out, k.Value)
		}
	}
	return out
}

func (l *loader) address(n *yaml.Node, field, addr string) {
	if addr == "" {
		return
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		l.problem(n, field, "%q is not an email address such as partners@vendor.example", addr)
	}
}

// ladder reads old_program, new_program and transitions from f (the file's
// top level, or one track) into lp; cat is the program whose catalog the
// requirements may name. Paths are relative to f, so a track's problems
// read "tracks[1].new_program.tiers[0]...".
func (l *loader) ladder(f *fields, cat, lp *Program, track string) {
	lt := &ladderTiers{track: track, lp: lp, line: map[string]int{}}
	l.ladders = append(l.ladders, lt)

	// old program
	var oldLines map[string]int
	if f.has("old_program") {
		of := l.child(f, "old_program", "tiers")
		lp.OldTiers, oldLines = l.names(of, "tiers", true, "old tier")
	}

	// new program
	tierNodes := map[string]*yaml.Node{}
	if f.has("new_program") {
		nf := l.child(f, "new_program", "fallback", "apply_at", "tiers")
		lp.Fallback = l.str(nf, "fallback", true)
		lp.ApplyAt = ApplyAtDeadline
		if a := l.str(nf, "apply_at", false); a != "" {
			switch ApplyAt(a) {
			case ApplyAtDeadline, ApplyAtQualification:
				lp.ApplyAt = ApplyAt(a)
			default:
				l.problem(nf.line("apply_at"), join(nf.path, "apply_at"), "%q must be deadline or qualification", a)
			}
		}
		for i, tn := range l.seq(nf, "tiers", true) {
			path := fmt.Sprintf("%s[%d]", join(nf.path, "tiers"), i)
			tf := l.mapping(tn, path, "name", "requires")
			name := l.str(tf, "name", true)
			if name == "" {
				continue
			}
			if first, dup := lt.line[name]; dup {
				l.problem(tf.line("name"), path+".name", "tier %q is declared twice (first at line %d)", name, first)
				continue
			}
			lt.line[name] = tf.line("name").Line
			tierNodes[name] = tf.node
			t := Tier{Name: name}
			if rn, ok := tf.vals["requires"]; ok && !(rn.Kind == yaml.ScalarNode && rn.Tag == "!!null") {
				if r, ok := l.requirement(rn, path+".requires", cat, 0); ok {
					t.Requires = &r
				}
			}
			lp.Tiers = append(lp.Tiers, t)
		}
		if lp.Fallback != "" {
			if line, clash := lt.line[lp.Fallback]; clash {
				l.problem(nf.line("fallback"), join(nf.path, "fallback"), "%q is also a tier (line %d); the fallback is the level of partners who meet no tier, give it its own name", lp.Fallback, line)
			}
		}
		l.checkTierOrder(lp, tierNodes, join(nf.path, "tiers"))
	}

	// transitions
	fromLine := map[string]int{}
	if !f.has("transitions") {
		return
	}
	transNode := f.keys["transitions"]
	known := func(name string) bool { return name == lp.Fallback || lt.line[name] > 0 }
	for i, tn := range l.seq(f, "transitions", true) {
		path := fmt.Sprintf("%s[%d]", join(f.path, "transitions"), i)
		tf := l.mapping(tn, path, "from", "grace", "expect", "cap")
		t := Transition{
			From:   l.str(tf, "from", true),
			Expect: l.str(tf, "expect", true),
			Cap:    l.str(tf, "cap", false),
		}
		gn, hasGrace := tf.vals["grace"]
		if !hasGrace {
			l.problem(tf.node, path+".grace", "is required (e.g. 6 months)")
		} else if d, ok := l.duration(gn, path+".grace"); ok {
			t.Grace = d
		}
		if t.From != "" {
			if oldLines[t.From] == 0 {
				l.problem(tf.line("from"), path+".from", "%q is not an old tier (old tiers: %s)", t.From, strings.Join(lp.OldTiers, ", "))
			} else if first, dup := fromLine[t.From]; dup {
				l.problem(tf.line("from"), path+".from", "a transition from %q is already defined at line %d", t.From, first)
				continue
			}
			fromLine[t.From] = tf.line("from").Line
		}
		if t.Expect != "" && !known(t.Expect) {
			l.unknown = append(l.unknown, unknownTier{tf.line("expect"), path + ".expect", t.Expect, lt})
		}
		if t.Cap != "" && !known(t.Cap) {
			l.unknown = append(l.unknown, unknownTier{tf.line("cap"), path + ".cap", t.Cap, lt})
		}
		if t.Cap != "" && t.Expect != "" && known(t.Cap) && known(t.Expect) && lp.TierRank(t.Cap) < lp.TierRank(t.Expect) {
			l.problem(tf.line("cap"), path+".cap", "%q is below the expected tier %q; partners could never reach what is expected of them", t.Cap, t.Expect)
		}
		lp.Transitions = append(lp.Transitions, t)
	}
	for _, old := range lp.OldTiers {
		if _, ok := fromLine[old]; !ok {
			n := transNode
			if n == nil {
				n = f.node
			}
			l.problem(n, join(f.path, "transitions"), "old tier %q (line %d) has no transition; add one with from: %s", old, oldLines[old], old)
		}
	}
}
