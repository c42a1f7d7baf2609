package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// TestEmailsListsAndShowsCapturedEmails: what capture mode recorded is
// readable without SQL, per campaign and per partner, as text and as HTML.
func TestEmailsListsAndShowsCapturedEmails(t *testing.T) {
	f := opsDB(t)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Premier"})
	ids := map[string]int64{}
	for _, e := range []struct{ partner, step, kind, locale, status, delivery string }{
		{"p1", "announcement", "announcement", "en", "captured", ""},
		{"p1", "reminder/1 month/r0", "reminder", "en", "sent", "delivered"},
		{"p2", "announcement", "announcement", "fr", "sent", "bounce"},
	} {
		var id int64
		if err := f.db.Pool.QueryRow(context.Background(), `
			INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email, subject, body_text, body_html, status, delivery_state, sent_at)
			VALUES ($1, $2, $3, $4, $5, $6, $4 || '@example.com', 'Subject of ' || $2, 'Text of ' || $4 || ' ' || $2, '<p>HTML of ' || $4 || '</p>', $7, nullif($8, ''), now())
			RETURNING id`, workflows.WorkflowID(f.campaign, e.partner), e.step, f.campaign, e.partner, e.kind, e.locale, e.status, e.delivery).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[e.partner+"/"+e.step] = id
	}

	out := opsMust(t, "emails", "--campaign", f.campaign)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("list:\n%s", out)
	}
	for i, want := range [][]string{
		{strconv.FormatInt(ids["p1/announcement"], 10), "p1", "announcement", "en", "captured", "-"},
		{strconv.FormatInt(ids["p1/reminder/1 month/r0"], 10), "p1", "reminder", "en", "sent", "delivered"},
		{strconv.FormatInt(ids["p2/announcement"], 10), "p2", "announcement", "fr", "sent", "bounce"},
	} {
		if got := strings.Fields(lines[i+1]); len(got) < 6 || strings.Join(got[:6], " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q, want it to start with %q", i, lines[i+1], want)
		}
	}
	if strings.Contains(out, "@example.com") {
		t.Errorf("the list shows addresses:\n%s", out)
	}

	var list []store.EmailSummary
	if err := json.Unmarshal([]byte(opsMust(t, "emails", "--campaign", f.campaign, "--partner", "p2", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].PartnerID != "p2" || list[0].DeliveryState != "bounce" || list[0].Kind != "announcement" {
		t.Errorf("p2's emails = %+v", list)
	}

	html := filepath.Join(t.TempDir(), "email.html")
	out = opsMust(t, "emails", "--id", strconv.FormatInt(ids["p2/announcement"], 10), "--html", html)
	for _, want := range []string{"Subject of announcement", "p2@example.com", "Text of p2 announcement", "bounce", "written to " + html} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(html); err != nil || string(b) != "<p>HTML of p2</p>" {
		t.Errorf("html file = %q, %v", b, err)
	}

	for _, args := range [][]string{
		{"emails"},
		{"emails", "--campaign", f.campaign, "--id", "1"},
		{"emails", "--campaign", "no-such-campaign"},
		{"emails", "--id", "999999999"},
		{"emails", "--campaign", f.campaign, "--html", html},
		{"emails", "--campaign", f.campaign, "--format", "xml"},
		{"emails", "--campaign", "bad/id"},
	} {
		if _, errOut, code := opsRun(t, args...); code != exitInput {
			t.Errorf("starter %s: exit %d, want %d\n%s", strings.Join(args, " "), code, exitInput, errOut)
		}
	}
}
