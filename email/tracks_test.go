package email

import (
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/program"
)

// tracksData is a partner of a two-track program: demoted in Resell (to
// the track's fallback, missing a certification), promoted in Sell With.
func tracksData() Data {
	p := &program.Program{Name: "Partner Experience", Vendor: "Red Hat", Currency: "USD",
		Tracks: []program.Track{{Name: "Resell", Fallback: "Registered"}, {Name: "Sell With", Fallback: "Referral"}},
		Emails: program.Emails{Links: map[string]string{"portal": "https://p"}}}
	evs := []program.TrackEvaluation{
		{Track: "Resell", Evaluation: program.Evaluation{OldTier: "Premier", ExpectedTier: "Premier", NewTier: "Registered", Outcome: program.OutcomeDemoted,
			Missing: []program.Missing{{Kind: program.MissingCertification, Name: "RHCSA", Need: 1}}}},
		{Track: "Sell With", Evaluation: program.Evaluation{OldTier: "Ready", ExpectedTier: "Ready", NewTier: "Advanced", Outcome: program.OutcomePromoted, MeetsExpected: true}},
	}
	return DataForTracks(p, "c1", "P-1", "Acme", evs, deadline, deadline.AddDate(0, 0, -7))
}

func TestTracksOutcomeNamesEachTrack(t *testing.T) {
	d := tracksData()
	if len(d.Tracks) != 2 || d.Tracks[0].Fallback != "Registered" || d.Tracks[1].Fallback != "Referral" || d.Fallback != "" {
		t.Fatalf("DataForTracks = %+v", d)
	}
	for _, c := range []struct {
		locale string
		want   []string
	}{
		{"en", []string{
			"Resell: you are Registered; we had hoped for Premier, and these requirements were not yet met:\n  - 1 RHCSA certification: you have none",
			"Sell With: you are Advanced, above the Ready level we expected.",
			"A level that went down will not change by itself",
		}},
		{"fr", []string{
			"Resell : vous êtes Registered ; nous espérions le niveau Premier, et ces conditions n’étaient pas encore remplies :\n  – 1\u00a0certification RHCSA\u00a0: vous n’en avez aucune",
			"Sell With : vous êtes Advanced, au-delà du niveau Ready prévu.",
			"Un niveau qui a baissé ne changera pas de lui-même",
		}},
	} {
		msg, err := Render(KindOutcome, c.locale, d, program.Emails{Locales: []string{"en", "fr"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range c.want {
			if !strings.Contains(msg.Text, w) {
				t.Errorf("%s text lacks %q:\n%s", c.locale, w, msg.Text)
			}
		}
		for _, w := range []string{"<strong>Resell</strong>", "<strong>Sell With</strong>", "<li>"} {
			if !strings.Contains(msg.HTML, w) {
				t.Errorf("%s HTML lacks %q", c.locale, w)
			}
		}
	}
}

func TestTracksEveryKindRendersEveryTrack(t *testing.T) {
	d := tracksData()
	d.PreviousDeadline = deadline.AddDate(0, -1, 0)
	for _, loc := range Locales {
		for _, kind := range Kinds {
			msg, err := Render(kind, loc, d, program.Emails{Locales: Locales})
			if err != nil {
				t.Fatalf("%s %s: %v", loc, kind, err)
			}
			if msg.Subject == "" || !strings.Contains(msg.Text, "Resell") || !strings.Contains(msg.Text, "Sell With") {
				t.Errorf("%s %s does not name both tracks:\n%s\n%s", loc, kind, msg.Subject, msg.Text)
			}
			// Only the outcome speaks of new tiers; the others of what is expected.
			if (kind == KindOutcome) != strings.Contains(msg.Text, "Advanced") {
				t.Errorf("%s %s: the new tier Advanced appears only in the outcome:\n%s", loc, kind, msg.Text)
			}
		}
	}
	// A reminder lists what is missing per track.
	msg, _ := Render(KindReminder, "en", d, program.Emails{})
	if !strings.Contains(msg.Text, "Resell: Premier expected; still missing:\n  - 1 RHCSA certification: you have none") ||
		!strings.Contains(msg.Text, "Sell With: Ready expected, and you meet every requirement.") {
		t.Errorf("reminder:\n%s", msg.Text)
	}
}

func TestTracksTemplateData(t *testing.T) {
	d := tracksData()
	msg, err := Render(KindOutcome, "en", d, program.Emails{SendGridTemplates: map[string]string{"outcome": "d-1"}})
	if err != nil {
		t.Fatal(err)
	}
	tracks, ok := msg.TemplateData["tracks"].([]map[string]any)
	if !ok || len(tracks) != 2 || tracks[0]["track"] != "Resell" || tracks[0]["to_fallback"] != true || tracks[1]["outcome"] != "promoted" {
		t.Errorf("template data tracks = %#v", msg.TemplateData["tracks"])
	}
	// A program without tracks sends no tracks key.
	plain := sampleData()
	plain.Now = time.Date(2009, 9, 1, 0, 0, 0, 0, time.UTC)
	msg, err = Render(KindOutcome, "en", plain, program.Emails{SendGridTemplates: map[string]string{"outcome": "d-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.TemplateData["tracks"]; ok {
		t.Error("untracked template data has a tracks key")
	}
}
