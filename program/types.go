// Package program is tiershift's domain model: a vendor's old and new partner
// programs described as data, and the eligibility rules that decide which new
// tier a partner reaches and what it still misses.
//
// The package is pure: no I/O, no clocks, no randomness. Workflow code calls
// it directly, so every function must be deterministic for the same inputs.
// The one lookup outside its inputs is Load's check of program.timezone
// against the zone database (package zones); the deadline functions take
// the zone as a *time.Location, loaded by their caller.
package program

import "time"

// Program is one partner-program overhaul, loaded from a program file. Every
// field is plain data so the whole value can travel in a workflow input and
// be replayed years later with the same result.
type Program struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Vendor   string `json:"vendor"`
	Currency string `json:"currency"`
	// TimeZone is the IANA zone the program's deadlines are kept in
	// ("Europe/Paris"): a grace period in days or months ends at the end of
	// that day there. Empty means UTC; omitted from JSON then, so programs
	// stored before it was added read back unchanged.
	TimeZone string `json:"timezone,omitempty"`

	// Catalog declares every certification, competency and module name the
	// requirements may mention, so a typo is a load error, not a silent demotion.
	Certifications []string `json:"certifications,omitempty"`
	Competencies   []string `json:"competencies,omitempty"`
	Modules        []string `json:"modules,omitempty"`

	// OldTiers are the tier names partners hold today.
	OldTiers []string `json:"old_tiers"`
	// Tiers is the new program, lowest first.
	Tiers []Tier `json:"tiers"`
	// Fallback is the tier of partners who meet no tier (VMware's Registered).
	Fallback string `json:"fallback"`
	// ApplyAt says when a partner that qualifies early gets its new tier.
	ApplyAt ApplyAt `json:"apply_at"`

	Transitions []Transition `json:"transitions"`
	// Tracks, when set, are ladders of their own: a partner holds a level in
	// each track it takes part in (Red Hat's Distribution, Resell and Sell
	// With modules; Microsoft's competency areas) and each track is decided
	// on its own. With tracks, OldTiers still lists the partner's headline
	// tier (the partner file's tier column) but Tiers, Fallback, ApplyAt and
	// Transitions are empty: every track has its own. A program without
	// tracks is one implicit track made of those top-level fields, so its
	// JSON (stored with campaigns and in workflow histories) is unchanged.
	Tracks []Track `json:"tracks,omitempty"`
	// Reminders are offsets before the deadline, largest first.
	Reminders []Duration `json:"reminders,omitempty"`
	Emails    Emails     `json:"emails"`
}

// Track is one ladder of a program with tracks: its own old tiers, new
// tiers, fallback and transitions. Requirements read the partner's shared
// facts (certifications and points count in every track).
type Track struct {
	// Name is how the partner file, the plan, emails and search attributes
	// name the track; it never contains ':' or '|', the partner file's
	// separators.
	Name        string       `json:"name"`
	OldTiers    []string     `json:"old_tiers"`
	Tiers       []Tier       `json:"tiers"`
	Fallback    string       `json:"fallback"`
	ApplyAt     ApplyAt      `json:"apply_at"`
	Transitions []Transition `json:"transitions"`
}

// TrackLevel is a partner's current level in one track, as the partner
// file's tracks column gives it ("Resell:Advanced").
type TrackLevel struct {
	Track string `json:"track"`
	Tier  string `json:"tier"`
}

// TrackEvaluation is what the rules say about a partner in one track. Track
// is empty for the implicit track of a program without tracks.
type TrackEvaluation struct {
	Track string `json:"track,omitempty"`
	Evaluation
}

// ApplyAt is when the new tier of a partner that qualifies early applies.
type ApplyAt string

const (
	// ApplyAtDeadline keeps the old tier until the deadline (the default).
	ApplyAtDeadline ApplyAt = "deadline"
	// ApplyAtQualification grants the expected tier as soon as it is met.
	ApplyAtQualification ApplyAt = "qualification"
)

// Tier is one level of the new program and what it takes to hold it.
type Tier struct {
	Name     string       `json:"name"`
	Requires *Requirement `json:"requires,omitempty"`
}

// Requirement is one node of a tier's requirement tree. Exactly one of its
// groups of fields is set: a combinator (AllOf, AnyOf, AtLeast+Of) or a leaf
// (Certification+Count, Competency, Module, MinRevenue, MinPoints).
type Requirement struct {
	AllOf   []Requirement `json:"all_of,omitempty"`
	AnyOf   []Requirement `json:"any_of,omitempty"`
	AtLeast int           `json:"at_least,omitempty"`
	Of      []Requirement `json:"of,omitempty"`

	Certification string `json:"certification,omitempty"`
	Count         int    `json:"count,omitempty"`
	Competency    string `json:"competency,omitempty"`
	Module        string `json:"module,omitempty"`
	MinRevenue    *Money `json:"min_revenue,omitempty"`
	MinPoints     *int   `json:"min_points,omitempty"`
}

// Transition says what happens to the partners of one old tier.
type Transition struct {
	From string `json:"from"`
	// Grace is counted from the campaign's launch date.
	Grace Duration `json:"grace"`
	// Expect is the new tier the partner is expected to reach by its deadline.
	Expect string `json:"expect"`
	// Cap, when set, is the highest new tier partners of this old tier may get.
	Cap string `json:"cap,omitempty"`
}

// Emails holds what a program says about its partner emails.
type Emails struct {
	FromEmail     string   `json:"from_email"`
	FromName      string   `json:"from_name,omitempty"`
	ReplyTo       string   `json:"reply_to,omitempty"`
	Locales       []string `json:"locales"`
	DefaultLocale string   `json:"default_locale"`
	// Links are named URLs the templates show, such as "training" and "portal".
	Links map[string]string `json:"links,omitempty"`
	// Subjects overrides the built-in subject lines: locale -> kind -> text/template.
	Subjects map[string]map[string]string `json:"subjects,omitempty"`
	// Bodies overrides the built-in bodies: locale -> kind -> {text, html} templates.
	Bodies map[string]map[string]Body `json:"bodies,omitempty"`
	// SendGridTemplates names a SendGrid dynamic template ID per kind; when set,
	// SendGrid renders that kind and tiershift sends only the template data.
	SendGridTemplates map[string]string `json:"sendgrid_templates,omitempty"`
	// Categories are added to every message, for SendGrid statistics.
	Categories []string `json:"categories,omitempty"`
}

// Body is a program's own template for one email kind in one locale.
type Body struct {
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
}

// Money is an amount in the program's currency, in hundredths (cents), so
// revenue thresholds compare exactly.
type Money int64

// Facts is what tiershift knows about a partner that the rules look at.
type Facts struct {
	// Certifications maps a certification name to how many the partner holds.
	Certifications map[string]int `json:"certifications,omitempty"`
	Competencies   []string       `json:"competencies,omitempty"`
	Modules        []string       `json:"modules,omitempty"`
	Revenue        Money          `json:"revenue"`
	Points         int            `json:"points"`
}

// MissingKind names what a missing item is about, for rendering.
type MissingKind string

const (
	MissingCertification MissingKind = "certification"
	MissingCompetency    MissingKind = "competency"
	MissingModule        MissingKind = "module"
	MissingRevenue       MissingKind = "revenue"
	MissingPoints        MissingKind = "points"
	// MissingChoice is an any_of or at_least group: Need of Options, Have met.
	MissingChoice MissingKind = "choice"
)

// Missing is one thing a partner lacks for a tier, structured so that emails
// can render it in the partner's language ("2 VTSP certifications: you have 1").
type Missing struct {
	Kind MissingKind `json:"kind"`
	Name string      `json:"name,omitempty"`
	// Options lists the alternatives of a choice, each already described.
	Options []string `json:"options,omitempty"`
	Have    int64    `json:"have"`
	Need    int64    `json:"need"`
}

// Outcome is the result of a transition, comparing the new tier's position
// with the expected tier's.
type Outcome string

const (
	OutcomePromoted Outcome = "promoted"
	OutcomeKept     Outcome = "kept"
	OutcomeDemoted  Outcome = "demoted"
)

// Evaluation is what the rules say about one partner's facts.
type Evaluation struct {
	OldTier      string `json:"old_tier"`
	ExpectedTier string `json:"expected_tier"`
	// NewTier is the highest tier met (within the transition's cap), or the fallback.
	NewTier string  `json:"new_tier"`
	Outcome Outcome `json:"outcome"`
	// MeetsExpected is true when the facts meet the expected tier's requirements.
	MeetsExpected bool `json:"meets_expected"`
	// Missing lists what the partner lacks for its expected tier.
	Missing []Missing `json:"missing,omitempty"`
}

// Duration is a calendar-aware length: months and days follow the calendar
// (6 months from 14 April is 14 October), minutes are exact, so rehearsal
// campaigns can run in minutes.
type Duration struct {
	Months  int `json:"months,omitempty"`
	Days    int `json:"days,omitempty"`
	Minutes int `json:"minutes,omitempty"`
}

// AddTo returns t moved forward by d.
func (d Duration) AddTo(t time.Time) time.Time {
	return t.AddDate(0, d.Months, d.Days).Add(time.Duration(d.Minutes) * time.Minute)
}

// SubFrom returns t moved back by d.
func (d Duration) SubFrom(t time.Time) time.Time {
	return t.AddDate(0, -d.Months, -d.Days).Add(-time.Duration(d.Minutes) * time.Minute)
}

// EndOfDayFrom is the deadline a grace period d sets from launch, kept in
// loc. A grace period in whole days, weeks or months ends at the end of its
// last day there, 23:59:59 local time: the calendar step is taken on
// launch's date in loc (14 April + 6 months = 14 October), whatever the
// hour of the launch and whatever DST change lies between. A grace period
// with hours or minutes (rehearsals) is exact, as AddTo counts it. The
// result is in UTC, as workflow times are.
func (d Duration) EndOfDayFrom(launch time.Time, loc *time.Location) time.Time {
	if d.Minutes != 0 {
		return d.AddTo(launch).UTC()
	}
	l := launch.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 12, 0, 0, 0, loc).AddDate(0, d.Months, d.Days)
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, loc).UTC()
}

// IsZero reports whether d has no length.
func (d Duration) IsZero() bool { return d == Duration{} }
