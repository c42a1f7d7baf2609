package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

func TestForgetPartnerBlanksPersonalDataKeepsTheAuditAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s, db := newStore(t)
	if _, err := s.ImportPartners(ctx, "c1", rows(baseRows()...), "import:a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ApplyFactChange(ctx, "p1", program.FactChange{Op: program.OpCertEarned, Name: "VSP", Source: "crm"}, testProgram("v1")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p1", "p2"} {
		db.Exec(t, `INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email, subject, body_text, body_html, status, provider_message_id)
			VALUES ($1, 'announcement', 'c1', $2, 'announcement', 'en', $2 || '@example.com', 'Hello Partner ' || $2, 'Dear Partner ' || $2, '<p>Dear Partner ' || $2 || '</p>', 'sent', 'sg-' || $2)`,
			"transition/c1/"+p, p)
	}

	db.Exec(t, `INSERT INTO email_events (sg_event_id, email_id, event, occurred_at, reason, payload)
		SELECT 'ev-' || partner_id, id, 'bounce', now(), '550 no such user ' || partner_id || '@example.com',
		       jsonb_build_object('email', partner_id || '@example.com', 'event', 'bounce') FROM emails`)
	got, err := s.ForgetPartner(ctx, "p1", "dpo", "request 2026-117")
	if err != nil {
		t.Fatal(err)
	}
	if got.Partners != 1 || got.Emails != 1 || got.EmailEvents != 1 || got.FactChanges != 1 || got.ErasedAt.IsZero() {
		t.Fatalf("first erasure: %+v", got)
	}
	if len(got.Enrollments) != 1 || got.Enrollments[0].WorkflowID != "transition/c1/p1" || got.Enrollments[0].PartnerID != "p1" {
		t.Fatalf("enrollments: %+v", got.Enrollments)
	}
	// Nothing of p1's name or address is left anywhere.
	for _, q := range []string{
		`SELECT count(*) FROM partners WHERE partner_id = 'p1' AND (name <> '' OR email <> '')`,
		`SELECT count(*) FROM emails WHERE partner_id = 'p1' AND (to_email <> '' OR subject <> '' OR body_text <> '' OR body_html <> '')`,
		`SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p1' AND (old_value IS NOT NULL OR new_value IS NOT NULL)`,
		`SELECT count(*) FROM (SELECT row_to_json(t)::text AS j FROM partners t UNION ALL SELECT row_to_json(t)::text FROM emails t
			UNION ALL SELECT row_to_json(t)::text FROM partner_fact_changes t UNION ALL SELECT row_to_json(t)::text FROM email_events t) a
			WHERE j LIKE '%Partner p1%' OR j LIKE '%p1@example.com%'`,
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%d rows still hold personal data: %s", n, q)
		}
	}
	// What the audit needs stays: the tier, the facts, the enrollment, the
	// email's kind, status and provider ID, which fact changed and when.
	if n := count(t, db, `SELECT count(*) FROM partners WHERE partner_id = 'p1' AND tier = 'Premier' AND points = 5 AND erased_at IS NOT NULL`); n != 1 {
		t.Errorf("partner row lost its tier or facts")
	}
	if n := count(t, db, `SELECT count(*) FROM emails WHERE partner_id = 'p1' AND kind = 'announcement' AND status = 'sent' AND provider_message_id = 'sg-p1' AND created_at IS NOT NULL`); n != 1 {
		t.Errorf("email row lost its audit fields")
	}
	if n := count(t, db, `SELECT count(*) FROM partner_fact_changes WHERE partner_id = 'p1' AND field = 'certifications' AND source = 'crm'`); n != 1 {
		t.Errorf("fact change lost its field or source")
	}
	if n := count(t, db, `SELECT count(*) FROM enrollments WHERE partner_id = 'p1' AND old_tier = 'Premier'`); n != 1 {
		t.Errorf("enrollment lost")
	}
	// Other partners are untouched.
	if n := count(t, db, `SELECT count(*) FROM email_events WHERE sg_event_id = 'ev-p1' AND event = 'bounce' AND email_id IS NOT NULL`); n != 1 {
		t.Errorf("delivery event lost its kind")
	}
	if n := count(t, db, `SELECT count(*) FROM email_events WHERE sg_event_id = 'ev-p2' AND payload ? 'email'`); n != 1 {
		t.Errorf("p2's delivery event was blanked too")
	}
	if n := count(t, db, `SELECT count(*) FROM emails WHERE partner_id = 'p2' AND body_text = 'Dear Partner p2'`); n != 1 {
		t.Errorf("p2's email was blanked too")
	}
	if p2, _ := s.LoadPartner(ctx, "p2"); p2.Name != "Partner p2" || p2.Email != "p2@example.com" {
		t.Errorf("p2 was blanked too: %+v", p2)
	}
	if n := count(t, db, `SELECT count(*) FROM erasures WHERE partner_id = 'p1' AND actor = 'dpo' AND reason = 'request 2026-117' AND partners = 1 AND emails = 1 AND fact_changes = 1`); n != 1 {
		t.Errorf("audit rows for the erasure: %d", n)
	}

	// Again: nothing changes, no second audit row, the first erasure's time.
	again, err := s.ForgetPartner(ctx, "p1", "dpo", "request 2026-117")
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || !again.ErasedAt.Equal(got.ErasedAt) {
		t.Errorf("second erasure: %+v (first %+v)", again, got)
	}
	if n := count(t, db, `SELECT count(*) FROM erasures`); n != 1 {
		t.Errorf("%d audit rows after erasing twice", n)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM erasures`); err == nil {
		t.Error("the erasure audit accepted a delete")
	}

	if _, err := s.ForgetPartner(ctx, "nobody", "dpo", "r"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown partner: %v", err)
	}
	if _, err := s.ForgetPartner(ctx, "p2", "dpo", ""); !errors.Is(err, store.ErrInvalidInput) {
		t.Errorf("no reason: %v", err)
	}
	if refs, err := s.CampaignEnrollments(ctx, "c1"); err != nil || len(refs) != 3 || refs[0].PartnerID != "p1" || refs[2].WorkflowID != "transition/c1/p3" {
		t.Errorf("campaign enrollments: %+v, %v", refs, err)
	}
}
