package program

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func loadExample(t testing.TB, name string) *Program {
	t.Helper()
	file := filepath.Join("..", "examples", name, "program.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(file, data)
	if err != nil {
		t.Fatalf("load %s:\n%v", file, err)
	}
	return p
}

func certs(kv ...any) map[string]int {
	m := map[string]int{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(int)
	}
	return m
}

func TestEvaluate(t *testing.T) {
	type tc struct {
		name     string
		example  string
		track    string
		old      string
		facts    Facts
		newTier  string
		outcome  Outcome
		meets    bool
		missing  []Missing
		modifyFn func(p *Program)
	}
	allComps := []string{"Infrastructure Virtualization", "Business Continuity", "Desktop Virtualization"}
	vmChoice := []string{"Business Continuity", "Desktop Virtualization", "Virtualization Management"}
	cases := []tc{
		{name: "vmware enterprise keeps", example: "vmware-2009", old: "Enterprise",
			facts:   Facts{Certifications: certs("VTSP", 2), Competencies: []string{"Infrastructure Virtualization"}, Revenue: 1000000},
			newTier: "Enterprise", outcome: OutcomeKept, meets: true},
		{name: "vmware enterprise with 1 VTSP demoted to Professional", example: "vmware-2009", old: "Enterprise",
			facts:   Facts{Certifications: certs("VTSP", 1)},
			newTier: "Professional", outcome: OutcomeDemoted,
			missing: []Missing{
				{Kind: MissingCertification, Name: "VTSP", Have: 1, Need: 2},
				{Kind: MissingCompetency, Name: "Infrastructure Virtualization", Have: 0, Need: 1},
				{Kind: MissingRevenue, Have: 0, Need: 1000000},
			}},
		{name: "vmware enterprise with no VTSP falls to Registered", example: "vmware-2009", old: "Enterprise",
			facts:   Facts{Certifications: certs("VSP", 3), Competencies: []string{"Infrastructure Virtualization"}, Revenue: 5000000},
			newTier: "Registered", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingCertification, Name: "VTSP", Have: 0, Need: 2}}},
		{name: "vmware enterprise revenue short by a cent", example: "vmware-2009", old: "Enterprise",
			facts:   Facts{Certifications: certs("VTSP", 2), Competencies: []string{"Infrastructure Virtualization"}, Revenue: 999999},
			newTier: "Professional", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingRevenue, Have: 999999, Need: 1000000}}},
		{name: "vmware premier with everything keeps", example: "vmware-2009", old: "Premier",
			facts:   Facts{Certifications: certs("VTSP", 4), Competencies: allComps, Revenue: 100000000},
			newTier: "Premier", outcome: OutcomeKept, meets: true},
		{name: "vmware premier with one optional competency", example: "vmware-2009", old: "Premier",
			facts:   Facts{Certifications: certs("VTSP", 4), Competencies: []string{"Infrastructure Virtualization", "Business Continuity"}, Revenue: 100000000},
			newTier: "Enterprise", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingChoice, Options: vmChoice, Have: 1, Need: 2}}},
		{name: "vmware professional promoted only up to cap Enterprise", example: "vmware-2009", old: "Professional",
			facts:   Facts{Certifications: certs("VTSP", 4), Competencies: allComps, Revenue: 100000000},
			newTier: "Enterprise", outcome: OutcomePromoted, meets: true},
		{name: "vmware professional without cap reaches Premier", example: "vmware-2009", old: "Professional",
			facts:    Facts{Certifications: certs("VTSP", 4), Competencies: allComps, Revenue: 100000000},
			modifyFn: func(p *Program) { p.Transitions[0].Cap = "" },
			newTier:  "Premier", outcome: OutcomePromoted, meets: true},
		{name: "vmware professional with nothing", example: "vmware-2009", old: "Professional",
			facts:   Facts{},
			newTier: "Registered", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingCertification, Name: "VTSP", Have: 0, Need: 1}}},
		{name: "puppet gold with Service Delivery becomes Solution Provider", example: "puppet-2022", old: "Gold",
			facts:   Facts{Certifications: certs("Service Delivery", 1)},
			newTier: "Solution Provider", outcome: OutcomePromoted, meets: true},
		{name: "puppet gold without becomes Authorized Reseller", example: "puppet-2022", old: "Gold",
			facts:   Facts{Certifications: certs("Puppet Practitioner", 2)},
			newTier: "Authorized Reseller", outcome: OutcomeKept, meets: true},
		{name: "puppet service delivery without the certification", example: "puppet-2022", old: "Service Delivery",
			facts:   Facts{},
			newTier: "Authorized Reseller", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingCertification, Name: "Service Delivery", Have: 0, Need: 1}}},
		{name: "microsoft 119 points is Certified", example: "microsoft-2004", old: "Gold Certified Partner",
			facts:   Facts{Points: 119},
			newTier: "Certified", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingPoints, Have: 119, Need: 120}}},
		{name: "microsoft 120 points is Gold Certified", example: "microsoft-2004", old: "Gold Certified Partner",
			facts:   Facts{Points: 120},
			newTier: "Gold Certified", outcome: OutcomeKept, meets: true},
		{name: "microsoft 49 points certified partner falls to Registered Member", example: "microsoft-2004", old: "Certified Partner",
			facts:   Facts{Points: 49},
			newTier: "Registered Member", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingPoints, Have: 49, Need: 50}}},
		{name: "microsoft registered member with 60 points promoted", example: "microsoft-2004", old: "Registered Member",
			facts:   Facts{Points: 60},
			newTier: "Certified", outcome: OutcomePromoted, meets: true},
		// Red Hat: one ladder per module track; money is in cents.
		{name: "redhat resell premier without RHCSA falls to Ready", example: "redhat-pex", track: "Resell", old: "Premier",
			facts:   Facts{Certifications: certs("RHCE", 2), Revenue: 48000000, Points: 350},
			newTier: "Ready", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingCertification, Name: "RHCSA", Have: 0, Need: 1}}},
		{name: "redhat resell ready on points with low licence sales", example: "redhat-pex", track: "Resell", old: "Ready",
			facts:   Facts{Revenue: 500000, Points: 60},
			newTier: "Ready", outcome: OutcomeKept, meets: true},
		{name: "redhat resell ready below one tranche and 50 points", example: "redhat-pex", track: "Resell", old: "Ready",
			facts:   Facts{Revenue: 2000000, Points: 40},
			newTier: "Registered", outcome: OutcomeDemoted,
			missing: []Missing{{Kind: MissingChoice, Options: []string{"revenue 25000 USD", "50 points"}, Have: 0, Need: 1}}},
		{name: "redhat sell with advanced on points", example: "redhat-pex", track: "Sell With", old: "Advanced",
			facts:   Facts{Points: 150},
			newTier: "Advanced", outcome: OutcomeKept, meets: true},
		{name: "redhat sell with ready promoted to premier", example: "redhat-pex", track: "Sell With", old: "Ready",
			facts:   Facts{Points: 400},
			newTier: "Premier", outcome: OutcomePromoted, meets: true},
		{name: "redhat distribution ready with 200 tranches promoted", example: "redhat-pex", track: "Distribution", old: "Ready",
			facts:   Facts{Revenue: 500000000, Certifications: certs("RHCSA", 2)},
			newTier: "Advanced", outcome: OutcomePromoted, meets: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := loadExample(t, c.example)
			if c.modifyFn != nil {
				c.modifyFn(p)
			}
			if c.track != "" {
				tp, ok := p.TrackProgram(c.track)
				if !ok {
					t.Fatalf("no track %q", c.track)
				}
				p = tp.Program
			}
			ev, err := p.Evaluate(c.old, c.facts)
			if err != nil {
				t.Fatal(err)
			}
			if ev.NewTier != c.newTier || ev.Outcome != c.outcome || ev.MeetsExpected != c.meets || ev.OldTier != c.old {
				t.Errorf("got new=%q outcome=%q meets=%v; want new=%q outcome=%q meets=%v", ev.NewTier, ev.Outcome, ev.MeetsExpected, c.newTier, c.outcome, c.meets)
			}
			if !reflect.DeepEqual(ev.Missing, c.missing) {
				t.Errorf("missing:\n got %+v\nwant %+v", ev.Missing, c.missing)
			}
			if got := p.Meets(ev.NewTier, c.facts); !got {
				t.Errorf("Meets(%q) = false for the tier Evaluate chose", ev.NewTier)
			}
		})
	}
}

func TestEvaluateUnknownOldTier(t *testing.T) {
	p := loadExample(t, "vmware-2009")
	if _, err := p.Evaluate("Platinum", Facts{}); err == nil {
		t.Fatal("want an error for an unknown old tier")
	}
}

func TestRanksAndTimes(t *testing.T) {
	p := loadExample(t, "vmware-2009")
	for name, want := range map[string]int{"Registered": 0, "Professional": 1, "Enterprise": 2, "Premier": 3, "Gold": -1} {
		if got := p.TierRank(name); got != want {
			t.Errorf("TierRank(%q) = %d, want %d", name, got, want)
		}
	}
	launch := time.Date(2009, time.April, 14, 9, 0, 0, 0, time.UTC)
	for old, want := range map[string]time.Time{
		"Professional": time.Date(2009, time.October, 14, 9, 0, 0, 0, time.UTC),
		"Enterprise":   time.Date(2010, time.January, 14, 9, 0, 0, 0, time.UTC),
		"Premier":      time.Date(2010, time.January, 14, 9, 0, 0, 0, time.UTC),
	} {
		got, err := p.Deadline(old, launch)
		if err != nil || !got.Equal(want) {
			t.Errorf("Deadline(%s) = %v, %v; want %v", old, got, err, want)
		}
	}
	if _, err := p.Deadline("Nope", launch); err == nil {
		t.Error("Deadline of unknown old tier: want error")
	}
	dl := time.Date(2009, time.October, 14, 9, 0, 0, 0, time.UTC)
	got := p.ReminderTimes(dl)
	want := []time.Time{dl.AddDate(0, 0, -90), dl.AddDate(0, 0, -30), dl.AddDate(0, 0, -7), dl.AddDate(0, 0, -1)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReminderTimes = %v, want %v", got, want)
	}
	if !p.IsOldTier("Premier") || p.IsOldTier("Registered") {
		t.Error("IsOldTier")
	}
	if !p.HasCertification("VTSP") || p.HasCertification("vtsp") || !p.HasCompetency("Business Continuity") || p.HasModule("Resell") {
		t.Error("Has*")
	}
	if tr, ok := p.Transition("Enterprise"); !ok || tr.Expect != "Enterprise" || tr.Grace != (Duration{Months: 9}) {
		t.Errorf("Transition(Enterprise) = %+v, %v", tr, ok)
	}
	if !p.Meets("Registered", Facts{}) || p.Meets("Gold", Facts{}) || p.Meets("Professional", Facts{}) {
		t.Error("Meets")
	}
}

func TestRemindersSortedLargestFirst(t *testing.T) {
	src := minimalProgram(`reminders: [1 day, 2 weeks, 1 month, 3 days]`)
	p, err := Load("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Duration{{Months: 1}, {Days: 14}, {Days: 3}, {Days: 1}}
	if !reflect.DeepEqual(p.Reminders, want) {
		t.Errorf("Reminders = %v, want %v", p.Reminders, want)
	}
}

func TestAllExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../examples/*/program.yaml")
	if len(files) < 5 {
		t.Fatalf("found only %d example programs", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Load(f, data); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

// TestRehearsalRunsInMinutes keeps `make demo` and the end-to-end test
// short: every grace period of the rehearsal is minutes.
func TestRehearsalRunsInMinutes(t *testing.T) {
	p := loadExample(t, "rehearsal")
	for _, tr := range p.Transitions {
		if tr.Grace.Months != 0 || tr.Grace.Days != 0 || tr.Grace.Minutes > 10 {
			t.Errorf("rehearsal grace %v should be minutes", tr.Grace)
		}
	}
}
