package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPlanDeadlinesInPartnersZone: the VMware program keeps its deadlines
// in Palo Alto (America/Los_Angeles). Launched 14 April 2009 00:00 UTC,
// which is 13 April 17:00 PDT there, a Professional partner's 6 months end
// on 13 October 2009 at 23:59:59 PDT (UTC−7), 06:59:59 UTC on the 14th:
// 08:59 in Paris (CEST, UTC+2) for a partner in France, 15:59 in Tokyo
// (JST, UTC+9) for one whose file names Asia/Tokyo, and 23:59 on the 13th
// in Palo Alto for one in the US, which has several zones.
func TestPlanDeadlinesInPartnersZone(t *testing.T) {
	partners := planWriteFile(t, t.TempDir(), "p.csv", "partner_id,name,email,country,tier,timezone\n"+
		"FR-1,Un,un@x.example,FR,Professional,\n"+
		"JP-1,Two,two@x.example,FR,Professional,Asia/Tokyo\n"+
		"US-1,Three,three@x.example,US,Professional,\n"+
		// Enterprise has nine months, not six: its last day is 2010-01-13,
		// which ends at 23:59:59 PST (UTC-8), 08:59:59 the next morning in
		// Paris (UTC+1 in January).
		"FR-2,Deux,deux@x.example,FR,Enterprise,\n")
	args := []string{"--program", vmwareProgram, "--partners", partners, "--at", "2009-09-01", "--launch", "2009-04-14"}

	code, out, errOut := planRun(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	planWantAll(t, out, "DEADLINE",
		"2009-10-14 08:59 Europe/Paris", "2009-10-14 15:59 Asia/Tokyo", "2009-10-13 23:59 America/Los_Angeles",
		"2010-01-14 08:59 Europe/Paris")

	code, out, errOut = planRun(t, append(args, "--format", "csv")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := map[string][2]string{
		"FR-1": {"2009-10-14T08:59:59+02:00", "Europe/Paris"},
		"JP-1": {"2009-10-14T15:59:59+09:00", "Asia/Tokyo"},
		"US-1": {"2009-10-13T23:59:59-07:00", "America/Los_Angeles"},
		"FR-2": {"2010-01-14T08:59:59+01:00", "Europe/Paris"},
	}
	recs := planCSVRecords(t, out)
	if len(recs) != 5 {
		t.Fatalf("records %v", recs)
	}
	for _, rec := range recs[1:] {
		if w := want[rec[0]]; rec[6] != w[0] || rec[7] != w[1] {
			t.Errorf("csv %s: deadline %q in %q, want %q in %q", rec[0], rec[6], rec[7], w[0], w[1])
		}
	}

	code, out, errOut = planRun(t, append(args, "--format", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Partners []struct {
			PartnerID string `json:"partner_id"`
			Deadline  string `json:"deadline"`
			TimeZone  string `json:"time_zone"`
		} `json:"partners"`
	}
	if err := json.NewDecoder(strings.NewReader(out)).Decode(&got); err != nil || len(got.Partners) != 4 {
		t.Fatalf("json %v: %s", err, out)
	}
	for _, p := range got.Partners {
		if w := want[p.PartnerID]; p.Deadline != w[0] || p.TimeZone != w[1] {
			t.Errorf("json %s: deadline %q in %q, want %q in %q", p.PartnerID, p.Deadline, p.TimeZone, w[0], w[1])
		}
	}
}

// TestPreviewNamesThePartnersZone: preview writes the deadline as the
// workflow's email would, in the partner's zone (the FR partner: Paris),
// naming it, in English and French.
func TestPreviewNamesThePartnersZone(t *testing.T) {
	partners := planWriteFile(t, t.TempDir(), "p.csv", "partner_id,name,email,country,tier\nFR-1,Un,un@x.example,FR,Professional\n")
	for locale, want := range map[string]string{
		"en": "October 14, 2009 at 08:59 Paris time",
		"fr": "14\u00a0octobre 2009 à 8\u00a0h\u00a059, heure de Paris",
	} {
		out, err := execute(t, "preview", "--program", vmwareProgram, "--partners", partners, "--partner", "FR-1",
			"--kind", "announcement", "--launch", "2009-04-14", "--locale", locale)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(out, want) < 2 || strings.Contains(out, "UTC") {
			t.Errorf("%s: want %q in the Deadline line and the email, no UTC:\n%s", locale, want, out)
		}
	}
}
