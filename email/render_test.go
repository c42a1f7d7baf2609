package email

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
)

var deadline = time.Date(2009, time.October, 14, 0, 0, 0, 0, time.UTC)

var missing = []program.Missing{
	{Kind: program.MissingCertification, Name: "VTSP", Have: 1, Need: 2},
	{Kind: program.MissingCompetency, Name: "Infrastructure Virtualization"},
	{Kind: program.MissingModule, Name: "Sales Fundamentals"},
	{Kind: program.MissingRevenue, Have: 750_000, Need: 1_000_000},
	{Kind: program.MissingPoints, Have: 119, Need: 120},
	{Kind: program.MissingChoice, Options: []string{"Business Continuity", "Desktop Virtualization", "Virtualization Management"}, Have: 1, Need: 2},
}

// wantMissing is how each item of missing must read, per locale.
var wantMissing = map[string][]string{
	"en": {
		"2 VTSP certifications: you have 1",
		"the Infrastructure Virtualization competency",
		"the Sales Fundamentals training module",
		"$10,000 in revenue: you have $7,500",
		"120 points: you have 119",
		"2 of: Business Continuity, Desktop Virtualization, Virtualization Management (you have 1)",
	},
	"fr": {
		"2\u00a0certifications VTSP\u00a0: vous en avez 1",
		"la compétence Infrastructure Virtualization",
		"le module de formation Sales Fundamentals",
		"10\u00a0000\u00a0$ de chiffre d’affaires\u00a0: vous en avez 7\u00a0500\u00a0$",
		"120\u00a0points\u00a0: vous en avez 119",
		"2 parmi\u00a0: Business Continuity, Desktop Virtualization, Virtualization Management (vous en avez 1)",
	},
}

var wantDeadline = map[string]string{"en": "October 14, 2009", "fr": "14\u00a0octobre 2009"}

func sample(kind Kind) Data {
	d := Data{
		CampaignID: "c1", PartnerID: "P-42", PartnerName: "Acme Cloud Services",
		ProgramName: "Partner Connect", Vendor: "VMware", Currency: "USD",
		OldTier: "Premier", ExpectedTier: "Principal", Deadline: deadline,
		Now:      deadline.AddDate(0, 0, -30),
		Missing:  missing,
		Fallback: "Registered",
		Links:    map[string]string{"training": "https://learn.example.com/", "portal": "https://partners.example.com/"},
	}
	switch kind {
	case KindExtended:
		d.PreviousDeadline = deadline.AddDate(0, -1, 0)
	case KindQualified:
		d.Missing = nil
		d.NewTier = "Principal"
	case KindOutcome:
		d.NewTier, d.Outcome = "Registered", program.OutcomeDemoted
	}
	return d
}

func TestRenderEveryKindAndLocale(t *testing.T) {
	for _, loc := range Locales {
		for _, kind := range Kinds {
			t.Run(loc+"/"+string(kind), func(t *testing.T) {
				d := sample(kind)
				m, err := Render(kind, loc, d, program.Emails{})
				if err != nil {
					t.Fatal(err)
				}
				if m.Locale != loc || m.Subject == "" || m.Text == "" || m.HTML == "" {
					t.Fatalf("incomplete message: %+v", m)
				}
				if m.TemplateID != "" || m.TemplateData != nil {
					t.Errorf("unexpected dynamic template: %+v", m)
				}
				if strings.ContainsAny(m.Subject, "\n\r") {
					t.Errorf("subject has a line break: %q", m.Subject)
				}
				for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
					for _, want := range []string{d.PartnerName, wantDeadline[loc]} {
						if !strings.Contains(body, want) {
							t.Errorf("%s lacks %q:\n%s", part, want, body)
						}
					}
					if len(d.Missing) > 0 {
						for _, want := range wantMissing[loc] {
							if !strings.Contains(body, want) {
								t.Errorf("%s lacks missing item %q:\n%s", part, want, body)
							}
						}
					}
					if kind == KindExtended && !strings.Contains(body, FormatDate(d.PreviousDeadline, loc)) {
						t.Errorf("%s lacks the previous deadline:\n%s", part, body)
					}
					if strings.Contains(body, "<no value>") || strings.Contains(body, "{{") {
						t.Errorf("%s has template residue:\n%s", part, body)
					}
				}
				if !strings.HasPrefix(m.HTML, "<!DOCTYPE html>") || !strings.Contains(m.HTML, `lang="`+loc+`"`) {
					t.Errorf("html is not a whole document in %s:\n%s", loc, m.HTML)
				}
			})
		}
	}
}

func TestRenderOutcomeWording(t *testing.T) {
	seen := map[string]bool{}
	for _, loc := range Locales {
		for _, tc := range []struct {
			outcome program.Outcome
			newTier string
		}{{program.OutcomePromoted, "Elite"}, {program.OutcomeKept, "Principal"}, {program.OutcomeDemoted, "Registered"}, {program.OutcomeDemoted, "Advanced"}} {
			d := sample(KindOutcome)
			d.Outcome, d.NewTier = tc.outcome, tc.newTier
			if tc.outcome != program.OutcomeDemoted {
				d.Missing = nil
			}
			m, err := Render(KindOutcome, loc, d, program.Emails{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Subject+m.Text, tc.newTier) {
				t.Errorf("%s %s: new tier %s missing:\n%s", loc, tc.outcome, tc.newTier, m.Text)
			}
			key := m.Subject + m.Text
			if seen[key] {
				t.Errorf("%s %s/%s: same wording as another outcome", loc, tc.outcome, tc.newTier)
			}
			seen[key] = true
			fallback := tc.newTier == "Registered"
			regain := map[string]string{"en": "This is not final", "fr": "n’est pas définitive"}[loc]
			if got := strings.Contains(m.Text, regain); got != fallback {
				t.Errorf("%s %s/%s: fallback explanation present=%v, want %v:\n%s", loc, tc.outcome, tc.newTier, got, fallback, m.Text)
			}
		}
	}
}

func TestRenderAlreadyMeets(t *testing.T) {
	d := sample(KindAnnouncement)
	d.Missing = nil
	for loc, want := range map[string]string{"en": "you already meet every requirement of Principal", "fr": "vous remplissez déjà toutes les conditions du niveau Principal"} {
		m, err := Render(KindAnnouncement, loc, d, program.Emails{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Text, want) || !strings.Contains(html.UnescapeString(m.HTML), want) {
			t.Errorf("%s: want %q in\n%s", loc, want, m.Text)
		}
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	d := sample(KindReminder)
	d.PartnerName = `<script>alert("x")</script> & Co`
	m, err := Render(KindReminder, "en", d, program.Emails{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "<script>") {
		t.Fatalf("partner name not escaped in HTML:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;") {
		t.Fatalf("escaped name missing:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, d.PartnerName) {
		t.Errorf("plain text must keep the name as is:\n%s", m.Text)
	}
}

func TestRenderLocaleFallback(t *testing.T) {
	d := sample(KindReminder)
	for _, tc := range []struct {
		locale string
		s      program.Emails
		want   string
	}{
		{"fr-CA", program.Emails{}, "fr"},
		{"FR", program.Emails{}, "fr"},
		{"de", program.Emails{DefaultLocale: "fr"}, "fr"},
		{"de", program.Emails{}, "en"},
		{"", program.Emails{DefaultLocale: "xx"}, "en"},
		{"fr", program.Emails{Locales: []string{"en"}, DefaultLocale: "en"}, "en"},
	} {
		m, err := Render(KindReminder, tc.locale, d, tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if m.Locale != tc.want {
			t.Errorf("locale %q with %+v: got %s, want %s", tc.locale, tc.s, m.Locale, tc.want)
		}
	}
}

func TestRenderOverrides(t *testing.T) {
	s := program.Emails{
		Subjects: map[string]map[string]string{"fr": {"reminder": "Rappel pour {{.PartnerName}} : {{.TimeLeft}}"}},
		Bodies: map[string]map[string]program.Body{"fr": {"reminder": {
			Text: "Texte maison. {{range .Missing}}[{{.}}]{{end}}",
			HTML: `<p class="custom">HTML maison {{.PartnerName}}</p>{{template "missing" .}}`,
		}}},
	}
	d := sample(KindReminder)
	d.PartnerName = "A<b>"
	m, err := Render(KindReminder, "fr", d, s)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Rappel pour A<b> : 30\u00a0jours" {
		t.Errorf("subject = %q", m.Subject)
	}
	if !strings.HasPrefix(m.Text, "Texte maison. [2\u00a0certifications VTSP") {
		t.Errorf("text = %q", m.Text)
	}
	if !strings.Contains(m.HTML, `<p class="custom">HTML maison A&lt;b&gt;</p>`) || !strings.Contains(m.HTML, "<li>la compétence") || !strings.Contains(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("html override not used inside the layout:\n%s", m.HTML)
	}
	// Other kinds and locales keep the built-ins.
	en, err := Render(KindReminder, "en", d, s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(en.Text, "maison") {
		t.Errorf("fr override leaked into en")
	}
	if err := ValidateOverrides(s); err != nil {
		t.Errorf("valid overrides rejected: %v", err)
	}
}

func TestRenderSendGridTemplate(t *testing.T) {
	s := program.Emails{SendGridTemplates: map[string]string{"reminder": "d-123abc"}}
	m, err := Render(KindReminder, "fr", sample(KindReminder), s)
	if err != nil {
		t.Fatal(err)
	}
	if m.TemplateID != "d-123abc" {
		t.Fatalf("template id = %q", m.TemplateID)
	}
	td := m.TemplateData
	if td["partner_name"] != "Acme Cloud Services" || td["deadline"] != wantDeadline["fr"] || td["subject"] != m.Subject || td["days_left"] != 30 {
		t.Errorf("template data = %v", td)
	}
	if got := fmt.Sprint(td["missing"]); !strings.Contains(got, wantMissing["fr"][0]) {
		t.Errorf("missing not pre-rendered in fr: %v", got)
	}
	if m.Text == "" || m.HTML == "" {
		t.Errorf("built-in text/html should still be rendered for the record")
	}
	other, err := Render(KindAnnouncement, "fr", sample(KindAnnouncement), s)
	if err != nil || other.TemplateID != "" {
		t.Errorf("announcement should not use the reminder template: %v %q", err, other.TemplateID)
	}
}

func TestValidateOverridesRejects(t *testing.T) {
	for name, s := range map[string]program.Emails{
		"parse":       {Subjects: map[string]map[string]string{"en": {"reminder": "{{.PartnerName"}}},
		"html parse":  {Bodies: map[string]map[string]program.Body{"fr": {"outcome": {HTML: "<p>{{if .Promoted}}</p>"}}}},
		"bad field":   {Bodies: map[string]map[string]program.Body{"en": {"reminder": {Text: "{{.PartnerNmae}}"}}}},
		"bad locale":  {Subjects: map[string]map[string]string{"de": {"reminder": "Hallo"}}},
		"bad kind":    {Subjects: map[string]map[string]string{"en": {"remind": "Hi"}}},
		"sg bad kind": {SendGridTemplates: map[string]string{"outcomes": "d-1"}},
	} {
		if err := ValidateOverrides(s); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	bad := program.Emails{Subjects: map[string]map[string]string{"en": {"reminder": "{{.PartnerName"}}}
	if _, err := Render(KindReminder, "en", sample(KindReminder), bad); err == nil {
		t.Error("Render with a broken override: no error")
	}
	if _, err := Render(Kind("nope"), "en", sample(KindReminder), program.Emails{}); err == nil {
		t.Error("Render of an unknown kind: no error")
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{FormatDate(time.Date(2009, 10, 1, 0, 0, 0, 0, time.UTC), "fr"), "1er\u00a0octobre 2009"},
		{FormatDate(time.Date(2009, 10, 14, 15, 4, 0, 0, time.UTC), "en"), "October 14, 2009 at 15:04 UTC"},
		{FormatDate(time.Date(2009, 10, 14, 15, 4, 0, 0, time.UTC), "fr"), "14\u00a0octobre 2009 à 15\u00a0h\u00a004 UTC"},
		{FormatDate(time.Date(2009, 10, 14, 2, 0, 0, 0, time.FixedZone("CEST", 2*3600)), "en"), "October 14, 2009"},
		{FormatMoney(1_000_000, "USD", "en"), "$10,000"},
		{FormatMoney(1_000_000, "USD", "fr"), "10\u00a0000\u00a0$"},
		{FormatMoney(250_050, "EUR", "fr"), "2\u00a0500,50\u00a0€"},
		{FormatMoney(123_456_789, "CHF", "en"), "1,234,567.89 CHF"},
		{FormatMoney(100, "", "en"), "1"},
		{FormatTimeLeft(deadline.Add(-90*time.Minute), deadline, "en"), "2 hours"},
		{FormatTimeLeft(deadline.Add(-5*time.Minute), deadline, "fr"), "5\u00a0minutes"},
		{FormatTimeLeft(deadline.Add(-24*time.Hour), deadline, "en"), "1 day"},
		{DescribeMissing(program.Missing{Kind: program.MissingCertification, Name: "VCP", Need: 1}, "USD", "en"), "1 VCP certification: you have none"},
		{DescribeMissing(program.Missing{Kind: program.MissingCertification, Name: "VCP", Need: 1}, "USD", "fr"), "1\u00a0certification VCP\u00a0: vous n’en avez aucune"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestDataFor(t *testing.T) {
	p := &program.Program{Name: "Partner Connect", Vendor: "VMware", Currency: "USD", Fallback: "Registered",
		Emails: program.Emails{Links: map[string]string{"training": "https://t"}}}
	ev := program.Evaluation{OldTier: "Premier", ExpectedTier: "Principal", NewTier: "Registered", Outcome: program.OutcomeDemoted, Missing: missing[:1]}
	d := DataFor(p, "c1", "P-1", "Acme", ev, deadline, deadline.AddDate(0, 0, -7))
	if d.ProgramName != "Partner Connect" || d.ExpectedTier != "Principal" || d.Fallback != "Registered" || d.ApplyAt != program.ApplyAtDeadline || len(d.Missing) != 1 || d.Links["training"] != "https://t" {
		t.Fatalf("DataFor = %+v", d)
	}
	p.Emails.Links["training"] = "changed"
	if d.Links["training"] != "https://t" {
		t.Error("DataFor must copy links")
	}
	if _, err := Render(KindOutcome, "en", d, p.Emails); err != nil {
		t.Fatal(err)
	}
}

func TestParseKind(t *testing.T) {
	if k, err := ParseKind("reminder"); err != nil || k != KindReminder {
		t.Fatal(k, err)
	}
	if _, err := ParseKind("reminders"); err == nil || !strings.Contains(err.Error(), "announcement") {
		t.Fatal(err)
	}
}
