package email

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
)

func TestArticle(t *testing.T) {
	for phrase, want := range map[string]string{
		"Enterprise": "an", "Elite": "an", "Advanced": "an", "Authorized Reseller": "an", "Independent": "an",
		"Operator": "an", "Ultimate": "an", "Upgrade": "an", "Unlimited": "an", "Honorary Partner": "an",
		"Premier": "a", "Professional": "a", "Registered": "a", "Gold Certified": "a", "Ready": "a",
		"Solution Provider": "a", "Unified": "a", "Universal": "a", "Utility": "a", "European": "a", "One-Stop": "a",
		"MSP": "an", "ISV": "an", "F5 Networks": "a", "VAR": "a", "IBM": "an", "SAP": "an",
		"8-seat": "an", "11th": "an", "18,000": "an", "80": "an", "2nd": "a", "110": "a", "1,100": "a", "": "a",
	} {
		if got := Article(phrase); got != want {
			t.Errorf("Article(%q) = %q, want %q", phrase, got, want)
		}
	}
}

func TestAnBeforeVowelTierNames(t *testing.T) {
	d := sample(KindAnnouncement)
	d.OldTier = "Enterprise"
	m, err := Render(KindAnnouncement, "en", d, program.Emails{})
	if err != nil {
		t.Fatal(err)
	}
	for part, body := range map[string]string{"text": m.Text, "html": html.UnescapeString(m.HTML)} {
		if !strings.Contains(body, "As an Enterprise partner today") {
			t.Errorf("%s: want %q:\n%s", part, "As an Enterprise partner today", body)
		}
	}
	d = sample(KindOutcome)
	d.NewTier, d.ExpectedTier, d.Outcome, d.Missing = "Elite", "Premier", program.OutcomePromoted, nil
	m, err = Render(KindOutcome, "en", d, program.Emails{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "you are an Elite partner") || !strings.Contains(m.HTML, "you are an <strong>Elite</strong> partner") {
		t.Errorf("outcome lacks \"an Elite\":\n%s\n%s", m.Text, m.HTML)
	}
	d.NewTier = "Premier"
	m, _ = Render(KindOutcome, "en", d, program.Emails{})
	if !strings.Contains(m.Text, "you are a Premier partner") {
		t.Errorf("outcome lacks \"a Premier\":\n%s", m.Text)
	}
}

func TestFrenchTimeLeftSubject(t *testing.T) {
	for left, want := range map[time.Duration]string{
		time.Minute:        "Plus qu’une minute pour",
		30 * time.Minute:   "Plus que 30\u00a0minutes pour",
		time.Hour:          "Plus qu’une heure pour",
		24 * time.Hour:     "Plus qu’un jour pour",
		2 * 24 * time.Hour: "Plus que 2\u00a0jours pour",
	} {
		d := sample(KindReminder)
		d.Now = d.Deadline.Add(-left)
		m, err := Render(KindReminder, "fr", d, program.Emails{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(m.Subject, want) {
			t.Errorf("%v left: subject %q, want it to start with %q", left, m.Subject, want)
		}
	}
}

func TestQualifiedSameTier(t *testing.T) {
	for _, applyAt := range []program.ApplyAt{program.ApplyAtDeadline, program.ApplyAtQualification} {
		d := sample(KindQualified)
		d.OldTier, d.ExpectedTier, d.NewTier, d.ApplyAt = "Professional", "Professional", "Professional", applyAt
		for loc, banned := range map[string][]string{
			"en": {"new tier", "until then you keep"},
			"fr": {"nouveau niveau", "d’ici là, vous conservez"},
		} {
			m, err := Render(KindQualified, loc, d, program.Emails{})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range banned {
				if strings.Contains(m.Text, b) || strings.Contains(html.UnescapeString(m.HTML), b) {
					t.Errorf("%s %s: same old and new tier, yet the email says %q:\n%s", loc, applyAt, b, m.Text)
				}
			}
			keep := map[string]string{"en": "You keep your Professional tier", "fr": "Vous conservez votre niveau Professional"}[loc]
			if !strings.Contains(m.Text, keep) {
				t.Errorf("%s %s: want %q:\n%s", loc, applyAt, keep, m.Text)
			}
		}
		// A different new tier still speaks of the new tier.
		d.OldTier = "Enterprise"
		m, _ := Render(KindQualified, "en", d, program.Emails{})
		if !strings.Contains(m.Text, "Your new tier") {
			t.Errorf("%s: different tiers lost \"Your new tier\":\n%s", applyAt, m.Text)
		}
	}
}

func TestTrainingIsEnglish(t *testing.T) {
	for _, kind := range Kinds {
		m, err := Render(kind, "en", sample(kind), program.Emails{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(m.Text+m.HTML), "trainings") {
			t.Errorf("%s: \"trainings\" is not English:\n%s", kind, m.Text)
		}
		if !strings.Contains(m.HTML, ">Go to training</a>") || !strings.Contains(m.Text, "Training: https://learn.example.com/") {
			t.Errorf("%s: training link missing:\n%s", kind, m.Text)
		}
	}
}

func TestFooterHasNoCampaignSlug(t *testing.T) {
	for _, loc := range Locales {
		d := sample(KindReminder)
		d.CampaignID = "rehearsal-20261202-160142"
		m, err := Render(KindReminder, loc, d, program.Emails{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Subject+m.Text+m.HTML, d.CampaignID) {
			t.Errorf("%s: internal campaign slug in the email:\n%s", loc, m.HTML)
		}
		if !strings.Contains(m.HTML, d.PartnerID) {
			t.Errorf("%s: the partner ID should stay as the reference:\n%s", loc, m.HTML)
		}
	}
}

// TestDemotionSaysWhatHappensNext: once the transition has ended nothing
// re-examines a tier by itself, so the demotion email must not promise it.
func TestDemotionSaysWhatHappensNext(t *testing.T) {
	for _, newTier := range []string{"Registered", "Advanced"} { // to the fallback, and to a tier
		d := sample(KindOutcome)
		d.NewTier = newTier
		for loc, want := range map[string][]string{
			"en": {"will not change by itself", "reply to this email"},
			"fr": {"ne changera", "de lui-même", "répondez à cet e-mail"},
		} {
			m, err := Render(KindOutcome, loc, d, program.Emails{})
			if err != nil {
				t.Fatal(err)
			}
			for _, body := range []string{m.Text, html.UnescapeString(m.HTML)} {
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("%s to %s: want %q:\n%s", loc, newTier, w, body)
					}
				}
				for _, b := range []string{"sera alors réexaminé.", "pourra être réexaminé", "will then be reviewed", "can be reviewed and raised"} {
					if strings.Contains(body, b) {
						t.Errorf("%s to %s: promises an automatic review (%q):\n%s", loc, newTier, b, body)
					}
				}
			}
		}
	}
}

var (
	// "a" before a capitalised word starting with a vowel letter (tier and
	// vendor names in the examples have no "a Unified"-style exceptions),
	// and "an" before one starting with a consonant letter.
	badA  = regexp.MustCompile(`\ba [AEIO]`)
	badAn = regexp.MustCompile(`\ban [B-DF-HJ-NP-TV-Z][a-z]`)
	// "que 1 " with any space: French elides to "qu’un(e)".
	badQue = regexp.MustCompile(`que 1[\s\x{00a0}]`)
	// Signs of a field that rendered empty.
	emptyField = regexp.MustCompile(`<strong>\s*</strong>|<li>\s*</li>|href=""|«[\s\x{00a0}]*»|\([\s\x{00a0}]*\)|[^\s] {2,}[^\s]| [,.](\s|$)|\b(le|du|au|by|to|the|a|an|de)[\s\x{00a0}]*[.,:]`)
)

// TestRenderEveryCombinationOfTheExamples renders every kind × locale ×
// outcome × (old tier = new tier or not) for every transition of the example
// programs, at several times left, and checks the defects partners saw.
func TestRenderEveryCombinationOfTheExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*/program.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("example programs: %v %v", files, err)
	}
	const slug = "internal-campaign-slug-7f3a"
	renders := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := program.Load(f, src)
		if err != nil {
			t.Fatal(err)
		}
		launch := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for _, tr := range p.Transitions {
			deadline, err := p.Deadline(tr.From, launch)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := p.Evaluate(tr.From, program.Facts{})
			if err != nil {
				t.Fatal(err)
			}
			other := p.Fallback
			if other == tr.From {
				other = p.Tiers[len(p.Tiers)-1].Name
			}
			for _, kind := range Kinds {
				for _, loc := range Locales {
					for _, outcome := range []program.Outcome{program.OutcomePromoted, program.OutcomeKept, program.OutcomeDemoted} {
						for _, same := range []bool{true, false} {
							lefts := []time.Duration{30 * 24 * time.Hour}
							if kind == KindReminder { // the only kind that says how long is left
								lefts = []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour, 30 * 24 * time.Hour}
							}
							for _, left := range lefts {
								d := DataFor(p, slug, "P-7", "Dupont, Martin et Associés", ev, deadline, deadline.Add(-left))
								d.Outcome = outcome
								d.NewTier = other
								if same {
									d.NewTier = tr.From
								}
								if outcome != program.OutcomeDemoted || kind == KindQualified {
									d.Missing = nil
								}
								if kind == KindExtended {
									d.PreviousDeadline = deadline.AddDate(0, -1, 0)
								}
								m, err := Render(kind, loc, d, p.Emails)
								if err != nil {
									t.Fatal(err)
								}
								renders++
								name := filepath.Base(filepath.Dir(f)) + "/" + tr.From + "/" + string(kind) + "/" + loc + "/" + string(outcome)
								for part, body := range map[string]string{"subject": m.Subject, "text": m.Text, "html": html.UnescapeString(m.HTML)} {
									if strings.Contains(body, slug) {
										t.Errorf("%s %s: internal campaign slug", name, part)
									}
									if loc == "en" {
										if s := badA.FindString(body); s != "" {
											t.Errorf("%s %s: %q", name, part, s)
										}
										if s := badAn.FindString(body); s != "" {
											t.Errorf("%s %s: %q", name, part, s)
										}
									}
									if s := badQue.FindString(body); s != "" {
										t.Errorf("%s %s: %q", name, part, s)
									}
									if strings.Contains(body, "<no value>") || strings.Contains(body, "{{") {
										t.Errorf("%s %s: template residue", name, part)
									}
									if part != "html" {
										if s := emptyField.FindString(body); s != "" {
											t.Errorf("%s %s: empty field near %q:\n%s", name, part, s, body)
										}
									}
								}
								if s := emptyField.FindString(htmlBody(m.HTML)); s != "" {
									t.Errorf("%s html: empty field near %q", name, s)
								}
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d renders checked", renders)
}

// htmlBody is the visible text of a rendered HTML email, one line per tag,
// so the empty-field check reads the words a partner sees.
func htmlBody(s string) string {
	s = s[strings.Index(s, "<body"):]
	s = inlineTag.ReplaceAllString(s, "<$1>")
	s = blockTag.ReplaceAllString(s, "\n")
	return html.UnescapeString(s)
}

var (
	inlineTag = regexp.MustCompile(`(?s)<(strong|li|a)\b[^>]*>`)
	blockTag  = regexp.MustCompile(`<(/?)(p|br|tr|td|table|ul|body)\b[^>]*>`)
)
