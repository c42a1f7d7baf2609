package email

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/tiershift/tiershift/program"
)

// Message is one rendered email. When TemplateID is set, SendGrid renders
// the message from its dynamic template and TemplateData; Subject, Text and
// HTML are still filled from tiershift's own templates, for the emails table
// and for providers or previews that need them.
type Message struct {
	// Locale is the locale actually used, after fallbacks.
	Locale       string         `json:"locale"`
	Subject      string         `json:"subject"`
	Text         string         `json:"text"`
	HTML         string         `json:"html"`
	TemplateID   string         `json:"template_id,omitempty"`
	TemplateData map[string]any `json:"template_data,omitempty"`
}

// Locales are the locales tiershift has built-in templates for:
// program.SupportedLocales, the one list.
var Locales = program.SupportedLocales

// Supported reports whether locale (or its base language: "fr-CA" -> "fr")
// has built-in templates.
func Supported(locale string) bool { return slices.Contains(Locales, baseLocale(locale)) }

// ParseKind returns the Kind named s, or an error listing the valid kinds.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown email kind %q (want one of %s)", s, strings.Join(names, ", "))
}

// ResolveLocale picks the locale an email is written in: the partner's
// locale when tiershift has templates for it and the program uses it (an
// empty Locales list means every built-in one), else the program's default
// locale, else English.
func ResolveLocale(locale string, s program.Emails) string {
	allowed := func(l string) bool {
		if !Supported(l) {
			return false
		}
		if len(s.Locales) == 0 {
			return true
		}
		for _, pl := range s.Locales {
			if baseLocale(pl) == l {
				return true
			}
		}
		return false
	}
	for _, c := range []string{locale, s.DefaultLocale} {
		if b := baseLocale(c); b != "" && allowed(b) {
			return b
		}
	}
	return "en"
}

func baseLocale(l string) string {
	l = strings.ToLower(strings.TrimSpace(l))
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	return l
}

// View is what every template — built-in or a program's override — sees as
// its dot. Dates, amounts and missing items are already written for the
// locale, so templates only lay them out:
//
//	{{.PartnerName}} {{.ExpectedTier}} {{.Deadline}} {{.TimeLeft}}
//	{{range .Missing}}- {{.}}{{end}}   {{if .MeetsExpected}}…{{end}}
//	{{.Links.training}}
type View struct {
	Locale       string
	Kind         Kind
	CampaignID   string
	PartnerID    string
	PartnerName  string
	ProgramName  string
	Vendor       string
	OldTier      string
	ExpectedTier string
	NewTier      string
	Fallback     string
	Outcome      string
	// TimeZone is the IANA zone Deadline and PreviousDeadline are written
	// in (and name); empty: UTC.
	TimeZone         string
	Deadline         string
	PreviousDeadline string
	// DeadlineISO is the deadline in RFC 3339, for machines and SendGrid.
	DeadlineISO string
	DaysLeft    int
	TimeLeft    string
	// OnlyLeft is TimeLeft as a subject opens with it: "Only 3 days left",
	// "Plus qu’une minute".
	OnlyLeft string
	// Missing lists what the partner still lacks for ExpectedTier, spelled out.
	Missing       []string
	MeetsExpected bool
	// AppliesNow is true when the program grants a tier as soon as it is met
	// (apply_at: qualification); otherwise it applies at the deadline.
	AppliesNow bool
	// Demoted/Promoted/Kept mirror Outcome; ToFallback is a demotion to the
	// program's fallback tier.
	Promoted, Kept, Demoted, ToFallback bool
	// SameTier is true when the tier the partner meets (or is expected to
	// reach) is the one it holds today, so there is no "new" tier to speak of.
	SameTier bool
	Links    map[string]string
	// Tracks, for a program with tracks, is one line per track the partner
	// holds: {{range .Tracks}}{{.Track}}: {{.NewTier}}{{end}}.
	Tracks []TrackView
	// TracksDemoted is true when some track's outcome is a demotion.
	TracksDemoted bool
}

// TrackView is one track of a partner as templates see it, written for the
// locale like View.
type TrackView struct {
	Track, OldTier, ExpectedTier, NewTier, Outcome string
	Missing                                        []string
	MeetsExpected                                  bool
	Promoted, Kept, Demoted, ToFallback            bool
}

func newView(kind Kind, locale string, d Data) View {
	v := View{
		Locale:        locale,
		Kind:          kind,
		CampaignID:    d.CampaignID,
		PartnerID:     d.PartnerID,
		PartnerName:   d.PartnerName,
		ProgramName:   d.ProgramName,
		Vendor:        d.Vendor,
		OldTier:       d.OldTier,
		ExpectedTier:  d.ExpectedTier,
		NewTier:       d.NewTier,
		Fallback:      d.Fallback,
		Outcome:       string(d.Outcome),
		TimeZone:      d.TimeZone,
		Deadline:      FormatDateIn(d.Deadline, locale, d.TimeZone),
		DeadlineISO:   d.Deadline.UTC().Format(time.RFC3339),
		DaysLeft:      DaysLeft(d.Now, d.Deadline),
		TimeLeft:      FormatTimeLeft(d.Now, d.Deadline, locale),
		OnlyLeft:      FormatOnlyLeft(d.Now, d.Deadline, locale),
		MeetsExpected: len(d.Missing) == 0,
		AppliesNow:    d.ApplyAt == program.ApplyAtQualification,
		Promoted:      d.Outcome == program.OutcomePromoted,
		Kept:          d.Outcome == program.OutcomeKept,
		Demoted:       d.Outcome == program.OutcomeDemoted,
		Links:         d.Links,
	}
	v.ToFallback = v.Demoted && d.Fallback != "" && d.NewTier == d.Fallback
	target := d.NewTier
	if target == "" {
		target = d.ExpectedTier
	}
	v.SameTier = target == d.OldTier
	if v.Links == nil {
		v.Links = map[string]string{}
	}
	if !d.PreviousDeadline.IsZero() {
		v.PreviousDeadline = FormatDateIn(d.PreviousDeadline, locale, d.TimeZone)
	}
	for _, m := range d.Missing {
		v.Missing = append(v.Missing, DescribeMissing(m, d.Currency, locale))
	}
	for _, t := range d.Tracks {
		tv := TrackView{Track: t.Track, OldTier: t.OldTier, ExpectedTier: t.ExpectedTier, NewTier: t.NewTier, Outcome: string(t.Outcome),
			MeetsExpected: len(t.Missing) == 0, Promoted: t.Outcome == program.OutcomePromoted, Kept: t.Outcome == program.OutcomeKept,
			Demoted: t.Outcome == program.OutcomeDemoted}
		tv.ToFallback = tv.Demoted && t.Fallback != "" && t.NewTier == t.Fallback
		for _, m := range t.Missing {
			tv.Missing = append(tv.Missing, DescribeMissing(m, d.Currency, locale))
		}
		v.Tracks = append(v.Tracks, tv)
		v.TracksDemoted = v.TracksDemoted || tv.Demoted
	}
	return v
}

// templateData is the view as SendGrid dynamic templates see it: snake_case
// keys, every value already written for the locale.
func (v View) templateData(subject string) map[string]any {
	missing := v.Missing
	if missing == nil {
		missing = []string{}
	}
	m := map[string]any{
		"subject":           subject,
		"locale":            v.Locale,
		"kind":              string(v.Kind),
		"campaign_id":       v.CampaignID,
		"partner_id":        v.PartnerID,
		"partner_name":      v.PartnerName,
		"program_name":      v.ProgramName,
		"vendor":            v.Vendor,
		"old_tier":          v.OldTier,
		"expected_tier":     v.ExpectedTier,
		"new_tier":          v.NewTier,
		"fallback":          v.Fallback,
		"outcome":           v.Outcome,
		"deadline":          v.Deadline,
		"time_zone":         v.TimeZone,
		"deadline_iso":      v.DeadlineISO,
		"previous_deadline": v.PreviousDeadline,
		"days_left":         v.DaysLeft,
		"time_left":         v.TimeLeft,
		"only_left":         v.OnlyLeft,
		"same_tier":         v.SameTier,
		"missing":           missing,
		"meets_expected":    v.MeetsExpected,
		"applies_now":       v.AppliesNow,
		"to_fallback":       v.ToFallback,
		"links":             v.Links,
	}
	if len(v.Tracks) > 0 {
		tracks := make([]map[string]any, len(v.Tracks))
		for i, t := range v.Tracks {
			missing := t.Missing
			if missing == nil {
				missing = []string{}
			}
			tracks[i] = map[string]any{"track": t.Track, "old_tier": t.OldTier, "expected_tier": t.ExpectedTier, "new_tier": t.NewTier,
				"outcome": t.Outcome, "missing": missing, "meets_expected": t.MeetsExpected, "to_fallback": t.ToFallback}
		}
		m["tracks"] = tracks
	}
	return m
}

//go:embed templates
var templateFS embed.FS

// funcs are the functions every template may call: {{article .OldTier}}
// is "a" or "an" for the tier name that follows (see Article).
var funcs = map[string]any{
	"join":    strings.Join,
	"article": Article,
}

// builtin holds one locale's parsed templates.
type builtin struct {
	layout  *htmltemplate.Template // never executed; cloned per kind and override
	subject map[Kind]*texttemplate.Template
	text    map[Kind]*texttemplate.Template
	html    map[Kind]*htmltemplate.Template
	// tracks* render every kind for a program with tracks (tracks.*.tmpl):
	// one line per track, the kind chosen inside with {{if eq .Kind ...}}.
	tracksSubject *texttemplate.Template
	tracksText    *texttemplate.Template
	tracksHTML    *htmltemplate.Template
}

var (
	builtinsOnce sync.Once
	builtins     map[string]*builtin
	builtinsErr  error
)

func loadBuiltins() (map[string]*builtin, error) {
	builtinsOnce.Do(func() {
		builtins, builtinsErr = parseBuiltins(templateFS)
	})
	return builtins, builtinsErr
}

func parseBuiltins(fsys fs.FS) (map[string]*builtin, error) {
	out := map[string]*builtin{}
	for _, loc := range Locales {
		read := func(name string) (string, error) {
			b, err := fs.ReadFile(fsys, "templates/"+loc+"/"+name)
			return string(b), err
		}
		src, err := read("layout.html.tmpl")
		if err != nil {
			return nil, err
		}
		layout, err := htmltemplate.New("layout").Funcs(funcs).Parse(src)
		if err != nil {
			return nil, fmt.Errorf("email templates: %s/layout.html.tmpl: %w", loc, err)
		}
		b := &builtin{layout: layout, subject: map[Kind]*texttemplate.Template{}, text: map[Kind]*texttemplate.Template{}, html: map[Kind]*htmltemplate.Template{}}
		// parse reads one kind's (or tracks') subject, text and HTML.
		parse := func(base string, subject, text **texttemplate.Template, html **htmltemplate.Template) error {
			for _, part := range []string{"subject", "txt", "html"} {
				name := base + "." + part + ".tmpl"
				src, err := read(name)
				if err == nil {
					switch part {
					case "subject":
						*subject, err = parseText(loc+"/"+name, src)
					case "txt":
						*text, err = parseText(loc+"/"+name, src)
					case "html":
						*html, err = parseHTML(layout, src)
					}
				}
				if err != nil {
					return fmt.Errorf("email templates: %s/%s: %w", loc, name, err)
				}
			}
			return nil
		}
		for _, k := range Kinds {
			var st, tt *texttemplate.Template
			var ht *htmltemplate.Template
			if err := parse(string(k), &st, &tt, &ht); err != nil {
				return nil, err
			}
			b.subject[k], b.text[k], b.html[k] = st, tt, ht
		}
		if err := parse("tracks", &b.tracksSubject, &b.tracksText, &b.tracksHTML); err != nil {
			return nil, err
		}
		out[loc] = b
	}
	return out, nil
}

func parseText(name, src string) (*texttemplate.Template, error) {
	return texttemplate.New(name).Funcs(funcs).Option("missingkey=zero").Parse(src)
}

// parseHTML parses src as the "content" of a copy of the locale's layout.
func parseHTML(layout *htmltemplate.Template, src string) (*htmltemplate.Template, error) {
	t, err := layout.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := t.New("content").Parse(src); err != nil {
		return nil, err
	}
	return t, nil
}

// overrideCache keeps parsed program overrides, keyed by locale, part and source.
var overrideCache sync.Map

func overrideText(loc, part, src string) (*texttemplate.Template, error) {
	key := loc + "\x00" + part + "\x00" + src
	if t, ok := overrideCache.Load(key); ok {
		return t.(*texttemplate.Template), nil
	}
	t, err := parseText(loc+" "+part+" override", src)
	if err != nil {
		return nil, err
	}
	overrideCache.Store(key, t)
	return t, nil
}

func overrideHTML(b *builtin, loc, src string) (*htmltemplate.Template, error) {
	key := loc + "\x00html\x00" + src
	if t, ok := overrideCache.Load(key); ok {
		return t.(*htmltemplate.Template), nil
	}
	t, err := parseHTML(b.layout, src)
	if err != nil {
		return nil, err
	}
	overrideCache.Store(key, t)
	return t, nil
}

// Render writes the email of kind for one partner in locale (falling back
// as ResolveLocale says). A program's overrides replace the built-in subject,
// text or HTML of that locale and kind, each independently; an HTML override
// is the content of the shared layout (header, footer), not a whole
// document. When the program names a SendGrid dynamic template for kind,
// the message carries its TemplateID and TemplateData (the View in
// snake_case, with missing items already written in the locale).
func Render(kind Kind, locale string, d Data, s program.Emails) (Message, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return Message{}, err
	}
	all, err := loadBuiltins()
	if err != nil {
		return Message{}, err
	}
	loc := ResolveLocale(locale, s)
	b := all[loc]
	v := newView(kind, loc, d)

	subjectT, textT, htmlT := b.subject[kind], b.text[kind], b.html[kind]
	if len(d.Tracks) > 0 {
		subjectT, textT, htmlT = b.tracksSubject, b.tracksText, b.tracksHTML
	}
	if src, ok := s.Subjects[loc][string(kind)]; ok && strings.TrimSpace(src) != "" {
		if subjectT, err = overrideText(loc, "subject", src); err != nil {
			return Message{}, fmt.Errorf("email: %s subject override for %s: %w", loc, kind, err)
		}
	}
	if body, ok := s.Bodies[loc][string(kind)]; ok {
		if strings.TrimSpace(body.Text) != "" {
			if textT, err = overrideText(loc, "text", body.Text); err != nil {
				return Message{}, fmt.Errorf("email: %s text override for %s: %w", loc, kind, err)
			}
		}
		if strings.TrimSpace(body.HTML) != "" {
			if htmlT, err = overrideHTML(b, loc, body.HTML); err != nil {
				return Message{}, fmt.Errorf("email: %s html override for %s: %w", loc, kind, err)
			}
		}
	}

	var msg Message
	msg.Locale = loc
	var buf bytes.Buffer
	if err := subjectT.Execute(&buf, v); err != nil {
		return Message{}, fmt.Errorf("email: %s subject for %s: %w", loc, kind, err)
	}
	msg.Subject = oneLine(buf.String())
	buf.Reset()
	if err := textT.Execute(&buf, v); err != nil {
		return Message{}, fmt.Errorf("email: %s text for %s: %w", loc, kind, err)
	}
	msg.Text = tidyText(buf.String())
	buf.Reset()
	if err := htmlT.ExecuteTemplate(&buf, "layout", struct {
		View
		Subject string
	}{v, msg.Subject}); err != nil {
		return Message{}, fmt.Errorf("email: %s html for %s: %w", loc, kind, err)
	}
	msg.HTML = buf.String()
	if msg.Subject == "" {
		return Message{}, fmt.Errorf("email: %s subject for %s is empty", loc, kind)
	}
	if id := strings.TrimSpace(s.SendGridTemplates[string(kind)]); id != "" {
		msg.TemplateID = id
		msg.TemplateData = v.templateData(msg.Subject)
	}
	return msg, nil
}

// oneLine makes a subject a single header-safe line: line breaks and tabs
// become spaces and runs of ASCII spaces collapse. No-break spaces (French
// typography) are kept.
func oneLine(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ", "\t", " ").Replace(s)
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return strings.TrimSpace(s)
}

// tidyText trims trailing spaces and collapses runs of blank lines that
// template actions leave behind.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]string, 0, len(lines))
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}

// ValidateOverrides checks a program's email settings: every override names
// a known locale and kind, parses, and renders against sample data (so a
// misspelt field such as {{.PartnerNmae}} is caught at load, not at the
// deadline), and every SendGrid template is for a known kind. The program
// loader or the launch command calls it; it reports every problem at once.
func ValidateOverrides(s program.Emails) error {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	checkKey := func(where, loc, kind string) bool {
		ok := true
		if !Supported(loc) || baseLocale(loc) != loc {
			add("%s: locale %q has no built-in templates (have %s)", where, loc, strings.Join(Locales, ", "))
			ok = false
		}
		if _, err := ParseKind(kind); err != nil {
			add("%s.%s: %v", where, loc, err)
			ok = false
		}
		return ok
	}
	sample := sampleData()
	try := func(where string, kind Kind, loc string, settings program.Emails) {
		if _, err := Render(kind, loc, sample, settings); err != nil {
			add("%s: %v", where, err)
		}
	}
	for _, loc := range slices.Sorted(maps.Keys(s.Subjects)) {
		for _, kind := range slices.Sorted(maps.Keys(s.Subjects[loc])) {
			where := fmt.Sprintf("emails.subjects.%s.%s", loc, kind)
			if !checkKey("emails.subjects", loc, kind) {
				continue
			}
			try(where, Kind(kind), loc, program.Emails{Locales: []string{loc}, Subjects: map[string]map[string]string{loc: {kind: s.Subjects[loc][kind]}}})
		}
	}
	for _, loc := range slices.Sorted(maps.Keys(s.Bodies)) {
		for _, kind := range slices.Sorted(maps.Keys(s.Bodies[loc])) {
			where := fmt.Sprintf("emails.bodies.%s.%s", loc, kind)
			if !checkKey("emails.bodies", loc, kind) {
				continue
			}
			body := s.Bodies[loc][kind]
			if body.Text != "" {
				try(where+".text", Kind(kind), loc, program.Emails{Locales: []string{loc}, Bodies: map[string]map[string]program.Body{loc: {kind: {Text: body.Text}}}})
			}
			if body.HTML != "" {
				try(where+".html", Kind(kind), loc, program.Emails{Locales: []string{loc}, Bodies: map[string]map[string]program.Body{loc: {kind: {HTML: body.HTML}}}})
			}
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(s.SendGridTemplates)) {
		if _, err := ParseKind(kind); err != nil {
			add("emails.sendgrid_templates: %v", err)
		} else if strings.TrimSpace(s.SendGridTemplates[kind]) == "" {
			add("emails.sendgrid_templates.%s: empty template ID", kind)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func sampleData() Data {
	deadline := time.Date(2009, time.October, 14, 0, 0, 0, 0, time.UTC)
	return Data{
		CampaignID: "sample", PartnerID: "P-1", PartnerName: "Example Partner",
		ProgramName: "Partner Program", Vendor: "Vendor", Currency: "USD",
		OldTier: "Premier", ExpectedTier: "Premier", NewTier: "Registered", Fallback: "Registered",
		Outcome: program.OutcomeDemoted, Deadline: deadline, PreviousDeadline: deadline.AddDate(0, -1, 0),
		Now:     deadline.AddDate(0, 0, -30),
		Missing: []program.Missing{{Kind: program.MissingCertification, Name: "VTSP", Have: 1, Need: 2}},
		Links:   map[string]string{"training": "https://example.com/training", "portal": "https://example.com/portal"},
	}
}
