package activities

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/sendgridstub"
	"github.com/tiershift/tiershift/program"
)

type mailerFixture struct {
	db     *pgtest.DB
	stub   *sendgridstub.Stub
	mailer *Mailer
}

func newMailerFixture(t *testing.T, timeout time.Duration) *mailerFixture {
	t.Helper()
	db := pgtest.New(t)
	stub := sendgridstub.New()
	t.Cleanup(stub.Close)
	m := NewMailer(db.Pool, sendgridstub.Key, stub.URL, timeout, zerolog.New(zerolog.NewTestWriter(t)))
	return &mailerFixture{db: db, stub: stub, mailer: m}
}

func testEmailInput(step string) SendEmailInput {
	deadline := time.Date(2009, time.October, 14, 0, 0, 0, 0, time.UTC)
	return SendEmailInput{
		WorkflowID: "transition/c1/P-42",
		Step:       step,
		CampaignID: "c1",
		PartnerID:  "P-42",
		Kind:       email.KindReminder,
		To:         "alice@acme.example",
		ToName:     "Alice Martin",
		Locale:     "fr",
		Data: email.Data{
			CampaignID: "c1", PartnerID: "P-42", PartnerName: "Acme Cloud", ProgramName: "Partner Connect",
			Vendor: "VMware", Currency: "USD", OldTier: "Premier", ExpectedTier: "Principal",
			Deadline: deadline, Now: deadline.AddDate(0, 0, -30),
			Missing: []program.Missing{{Kind: program.MissingCertification, Name: "VTSP", Have: 1, Need: 2}},
		},
		Settings: program.Emails{
			FromEmail: "partners@vmware.example", FromName: "VMware Partner Network", ReplyTo: "help@vmware.example",
			Categories: []string{"partner-connect-2009"},
		},
	}
}

type emailRow struct {
	status, providerID, errText, subject, locale string
	attempts                                     int
	sent                                         bool
	// unconfirmed: an attempt reached for SendGrid and recorded no answer.
	unconfirmed bool
}

func (f *mailerFixture) row(t *testing.T, in SendEmailInput) emailRow {
	t.Helper()
	var r emailRow
	err := f.db.Pool.QueryRow(context.Background(), `
		SELECT status, coalesce(provider_message_id, ''), coalesce(error, ''), subject, locale, attempts,
		       sent_at IS NOT NULL, unconfirmed_since IS NOT NULL
		FROM emails WHERE workflow_id = $1 AND step = $2`, in.WorkflowID, in.Step).
		Scan(&r.status, &r.providerID, &r.errText, &r.subject, &r.locale, &r.attempts, &r.sent, &r.unconfirmed)
	if err != nil {
		t.Fatalf("emails row %s/%s: %v", in.WorkflowID, in.Step, err)
	}
	return r
}

func TestSendEmailOncePerStep(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	ctx := context.Background()
	in := testEmailInput("reminder/0/30d")

	first, err := f.mailer.SendEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != EmailSent || first.MessageID == "" || first.AlreadyDone {
		t.Fatalf("first = %+v", first)
	}
	// The activity is retried after the server accepted (e.g. the worker
	// lost the completion): nothing is sent again.
	second, err := f.mailer.SendEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != EmailSent || second.MessageID != first.MessageID || !second.AlreadyDone {
		t.Fatalf("second = %+v", second)
	}
	if n := f.stub.Accepted(); n != 1 {
		t.Fatalf("stub accepted %d messages, want 1", n)
	}
	if c := f.stub.CountByDedupeKey()[in.WorkflowID+"/"+in.Step]; c != 1 {
		t.Fatalf("dedupe key count = %d", c)
	}
	r := f.row(t, in)
	if r.status != EmailSent || r.providerID != first.MessageID || r.attempts != 1 || !r.sent || r.locale != "fr" {
		t.Fatalf("row = %+v", r)
	}
	// Another step is another message.
	other := in
	other.Step = "reminder/0/7d"
	if res, err := f.mailer.SendEmail(ctx, other); err != nil || res.Status != EmailSent {
		t.Fatalf("other step: %+v %v", res, err)
	}
	if n := f.stub.Accepted(); n != 2 {
		t.Fatalf("stub accepted %d, want 2", n)
	}
}

func TestSendEmailRequestShape(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	in := testEmailInput("announcement")
	in.Kind = email.KindAnnouncement
	if _, err := f.mailer.SendEmail(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	msgs := f.stub.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	m := msgs[0]
	if got := strings.Join(m.ContentTypes, ","); got != "text/plain,text/html" {
		t.Errorf("content order = %s", got)
	}
	want := map[string]string{"campaign_id": "c1", "partner_id": "P-42", "kind": "announcement", "dedupe_key": "transition/c1/P-42/announcement"}
	for k, v := range want {
		if m.CustomArgs[k] != v {
			t.Errorf("custom_args[%s] = %q, want %q", k, m.CustomArgs[k], v)
		}
	}
	if got := strings.Join(m.Categories, ","); got != "tiershift,announcement,partner-connect-2009" {
		t.Errorf("categories = %s", got)
	}
	if m.To != "alice@acme.example" || m.ToName != "Alice Martin" || m.From != "partners@vmware.example" || m.FromName != "VMware Partner Network" || m.ReplyTo != "help@vmware.example" {
		t.Errorf("addresses: %+v", m)
	}
	if !strings.Contains(m.Subject, "Principal") || !strings.Contains(m.Text, "Acme Cloud") || !strings.Contains(m.HTML, "<!DOCTYPE html>") {
		t.Errorf("content: subject %q", m.Subject)
	}
	if m.TemplateID != "" {
		t.Errorf("template_id = %q", m.TemplateID)
	}
}

func TestSendEmailDynamicTemplate(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	in := testEmailInput("reminder/0/30d")
	in.Settings.SendGridTemplates = map[string]string{"reminder": "d-abc123"}
	res, err := f.mailer.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailSent {
		t.Fatalf("%+v %v", res, err)
	}
	m := f.stub.Messages()[0]
	if m.TemplateID != "d-abc123" || len(m.ContentTypes) != 0 {
		t.Errorf("template_id %q, content %v", m.TemplateID, m.ContentTypes)
	}
	if m.DynamicTemplateData["partner_name"] != "Acme Cloud" || !strings.Contains(m.DynamicTemplateData["deadline"].(string), "octobre 2009") {
		t.Errorf("dynamic_template_data = %v", m.DynamicTemplateData)
	}
}

func TestSendEmailPendingRowIsResent(t *testing.T) {
	// A crash after the row was written but before any attempt reached for
	// SendGrid leaves it pending and not unconfirmed: the retry just sends.
	f := newMailerFixture(t, 2*time.Second)
	in := testEmailInput("reminder/0/30d")
	f.db.Exec(t, `INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email, subject, body_text, body_html)
		VALUES ($1, $2, 'c1', 'P-42', 'reminder', 'fr', $3, 's', 't', 'h')`, in.WorkflowID, in.Step, in.To)
	res, err := f.mailer.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailSent || res.AlreadyDone {
		t.Fatalf("%+v %v", res, err)
	}
	if f.stub.Accepted() != 1 {
		t.Fatalf("accepted %d", f.stub.Accepted())
	}
	if r := f.row(t, in); r.status != EmailSent || r.attempts != 1 {
		t.Fatalf("row = %+v", r)
	}
}

func TestSendEmailPermanentRejection(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply sendgridstub.Reply
		want  string
	}{
		{"400", sendgridstub.BadRequest("The from address does not match a verified Sender Identity."), "sendgrid 400: The from address does not match a verified Sender Identity."},
		{"401", sendgridstub.Unauthorized(), "sendgrid 401: The provided authorization grant is invalid, expired, or revoked"},
		{"413", sendgridstub.Reply{Status: http.StatusRequestEntityTooLarge, Message: "payload too large"}, "sendgrid 413: payload too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newMailerFixture(t, 2*time.Second)
			f.stub.Enqueue(tc.reply)
			in := testEmailInput("outcome")
			res, err := f.mailer.SendEmail(context.Background(), in)
			if err != nil {
				t.Fatalf("want a result, got error %v", err)
			}
			if res.Status != EmailFailed || res.Error != tc.want {
				t.Fatalf("result = %+v", res)
			}
			if r := f.row(t, in); r.status != EmailFailed || r.errText != tc.want || r.attempts != 1 {
				t.Fatalf("row = %+v", r)
			}
			// A retry (or a replay) does not try again.
			again, err := f.mailer.SendEmail(context.Background(), in)
			if err != nil || again.Status != EmailFailed || !again.AlreadyDone || f.stub.Requests() != 1 {
				t.Fatalf("again = %+v %v, requests %d", again, err, f.stub.Requests())
			}
		})
	}
}

func TestSendEmailRejectedAddressRule(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	f.stub.RejectAddress("bounce@acme.example", 400, "Does not contain a valid address.")
	in := testEmailInput("announcement")
	in.To = "bounce@acme.example"
	res, err := f.mailer.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailFailed || !strings.Contains(res.Error, "Does not contain a valid address.") {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestSendEmailBadAddress(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	for i, addr := range []string{"not an address", "", "alice@localhost"} {
		in := testEmailInput("announcement")
		in.WorkflowID += string(rune('a' + i))
		in.To = addr
		res, err := f.mailer.SendEmail(context.Background(), in)
		if err != nil {
			t.Fatalf("%q: want a failed result, got error %v", addr, err)
		}
		if res.Status != EmailFailed || !strings.Contains(res.Error, "bad email address") || res.AlreadyDone {
			t.Fatalf("%q: %+v", addr, res)
		}
		if addr != "" && strings.Contains(res.Error, addr) {
			t.Errorf("the failure reason, which is logged, quotes the address: %q", res.Error)
		}
		if r := f.row(t, in); r.status != EmailFailed || !strings.Contains(r.errText, "bad email address") || r.subject == "" {
			t.Fatalf("%q: row %+v", addr, r)
		}
	}
	if f.stub.Requests() != 0 {
		t.Fatalf("bad addresses reached SendGrid: %d requests", f.stub.Requests())
	}
}

func TestSendEmailRateLimited(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	reset := time.Now().Add(42 * time.Second)
	f.stub.Enqueue(sendgridstub.RateLimited(reset))
	in := testEmailInput("reminder/0/30d")
	_, err := f.mailer.SendEmail(context.Background(), in)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeRateLimited || appErr.NonRetryable() {
		t.Fatalf("want retryable RateLimited, got %v", err)
	}
	if d := appErr.NextRetryDelay(); d < 39*time.Second || d > 43*time.Second {
		t.Fatalf("NextRetryDelay = %s, want ≈ 42s", d)
	}
	if r := f.row(t, in); r.status != EmailPending || r.attempts != 1 {
		t.Fatalf("row = %+v", r)
	}
	res, err := f.mailer.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailSent {
		t.Fatalf("after reset: %+v %v", res, err)
	}
}

func TestSendEmailServerErrorThenRecovery(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	f.stub.Enqueue(sendgridstub.ServerError(), sendgridstub.ServerError())
	in := testEmailInput("reminder/0/30d")
	for i := 1; i <= 2; i++ {
		_, err := f.mailer.SendEmail(context.Background(), in)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != ErrTypeEmailUnavailable || appErr.NonRetryable() {
			t.Fatalf("try %d: want retryable %s, got %v", i, ErrTypeEmailUnavailable, err)
		}
		if r := f.row(t, in); r.status != EmailPending || r.attempts != i || !strings.Contains(r.errText, "sendgrid 500") {
			t.Fatalf("try %d: row = %+v", i, r)
		}
	}
	res, err := f.mailer.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailSent {
		t.Fatalf("after recovery: %+v %v", res, err)
	}
	if f.stub.Accepted() != 1 || f.stub.Requests() != 3 {
		t.Fatalf("accepted %d of %d requests", f.stub.Accepted(), f.stub.Requests())
	}
	if r := f.row(t, in); r.status != EmailSent || r.attempts != 3 || r.errText != "" {
		t.Fatalf("row = %+v", r)
	}
}

func TestSendEmailHangTimesOut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := newMailerFixture(t, timeout)
	f.stub.Enqueue(sendgridstub.Hang())
	in := testEmailInput("reminder/0/30d")
	start := time.Now()
	_, err := f.mailer.SendEmail(context.Background(), in)
	elapsed := time.Since(start)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeEmailUnavailable {
		t.Fatalf("want a retryable timeout, got %v", err)
	}
	if elapsed > timeout+2*time.Second {
		t.Fatalf("gave up after %s, want ≈ %s", elapsed, timeout)
	}
	// No answer: SendGrid may have accepted it, and the row says so.
	if r := f.row(t, in); r.status != EmailPending || r.attempts != 1 || !r.unconfirmed || !strings.Contains(r.errText, "no answer within") {
		t.Fatalf("row = %+v", r)
	}
}

// wantRetry fails unless err is a retryable ApplicationError of type typ.
func wantRetry(t *testing.T, err error, typ string) (nextRetryDelay time.Duration) {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != typ || appErr.NonRetryable() {
		t.Fatalf("want a retryable %s error, got %v", typ, err)
	}
	return appErr.NextRetryDelay()
}

func TestSendEmailLostAnswerIsNotSentTwice(t *testing.T) {
	// SendGrid accepts the message but its answer never arrives (or the
	// worker dies waiting): the retry finds it in the Email Activity.
	f := newMailerFixture(t, 300*time.Millisecond)
	f.stub.Enqueue(sendgridstub.AcceptSilently())
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	_, err := f.mailer.SendEmail(ctx, in)
	wantRetry(t, err, ErrTypeEmailUnavailable)
	if r := f.row(t, in); r.status != EmailPending || !r.unconfirmed || r.attempts != 1 {
		t.Fatalf("after the lost answer: row = %+v", r)
	}

	res, err := f.mailer.SendEmail(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	accepted := f.stub.Messages()
	if len(accepted) != 1 {
		t.Fatalf("SendGrid accepted %d messages, want 1", len(accepted))
	}
	if res.Status != EmailSent || !res.AlreadyDone || !strings.HasPrefix(res.MessageID, accepted[0].MessageID) {
		t.Fatalf("retry = %+v, want sent as %s… by the earlier attempt", res, accepted[0].MessageID)
	}
	if f.stub.ActivityLookups() != 1 {
		t.Fatalf("%d Email Activity lookups, want 1", f.stub.ActivityLookups())
	}
	if r := f.row(t, in); r.status != EmailSent || r.unconfirmed || r.providerID != res.MessageID || !r.sent || r.attempts != 1 {
		t.Fatalf("row = %+v", r)
	}
	// Settled: a third call neither sends nor looks anything up.
	if res, err := f.mailer.SendEmail(ctx, in); err != nil || res.Status != EmailSent || f.stub.ActivityLookups() != 1 || f.stub.Accepted() != 1 {
		t.Fatalf("third call: %+v %v (%d lookups, %d accepted)", res, err, f.stub.ActivityLookups(), f.stub.Accepted())
	}
}

func TestSendEmailUnseenMessageIsSentAfterConfirmWindow(t *testing.T) {
	// The request hangs and SendGrid never accepted it. The retry does not
	// find it, waits while SendGrid might still list it, then sends.
	f := newMailerFixture(t, 300*time.Millisecond)
	f.mailer.ConfirmWindow = time.Hour
	f.stub.Enqueue(sendgridstub.Hang())
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	_, err := f.mailer.SendEmail(ctx, in)
	wantRetry(t, err, ErrTypeEmailUnavailable)

	_, err = f.mailer.SendEmail(ctx, in)
	if d := wantRetry(t, err, ErrTypeEmailUnconfirmed); d <= 0 || d > maxConfirmPoll {
		t.Fatalf("NextRetryDelay = %s, want (0, %s]", d, maxConfirmPoll)
	}
	if f.stub.Accepted() != 0 || f.stub.ActivityLookups() != 1 {
		t.Fatalf("while unconfirmed: %d accepted, %d lookups", f.stub.Accepted(), f.stub.ActivityLookups())
	}
	if r := f.row(t, in); r.status != EmailPending || !r.unconfirmed || r.attempts != 1 {
		t.Fatalf("while unconfirmed: row = %+v", r)
	}

	// The window has passed (the row's clock, not the test's, decides).
	f.db.Exec(t, `UPDATE emails SET unconfirmed_since = unconfirmed_since - interval '2 hours' WHERE workflow_id = $1 AND step = $2`, in.WorkflowID, in.Step)
	res, err := f.mailer.SendEmail(ctx, in)
	if err != nil || res.Status != EmailSent || res.AlreadyDone {
		t.Fatalf("after the window: %+v %v", res, err)
	}
	if f.stub.Accepted() != 1 || f.stub.ActivityLookups() != 2 {
		t.Fatalf("after the window: %d accepted, %d lookups", f.stub.Accepted(), f.stub.ActivityLookups())
	}
	if r := f.row(t, in); r.status != EmailSent || r.unconfirmed || r.attempts != 2 || r.providerID != res.MessageID {
		t.Fatalf("after the window: row = %+v", r)
	}
}

func TestSendEmailWithoutActivityAccessSendsAgain(t *testing.T) {
	// Without Email Activity access nothing can tell a lost answer from a
	// lost request: the message is sent again (at least once, never lost).
	f := newMailerFixture(t, 300*time.Millisecond)
	f.stub.SetActivity(false, 0)
	f.stub.Enqueue(sendgridstub.AcceptSilently())
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	_, err := f.mailer.SendEmail(ctx, in)
	wantRetry(t, err, ErrTypeEmailUnavailable)
	res, err := f.mailer.SendEmail(ctx, in)
	if err != nil || res.Status != EmailSent {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if n := f.stub.CountByDedupeKey()[in.WorkflowID+"/"+in.Step]; n != 2 {
		t.Fatalf("SendGrid accepted the message %d times, want 2", n)
	}
	if r := f.row(t, in); r.status != EmailSent || r.unconfirmed || r.attempts != 2 {
		t.Fatalf("row = %+v", r)
	}
}

func TestFindSentRefusesAKeyItCannotQuote(t *testing.T) {
	// Partner IDs may hold quotes; such a key cannot be put in an Email
	// Activity query, so it is reported as not lookable-up, unasked.
	stub := sendgridstub.New()
	defer stub.Close()
	c := NewSendGridClient(sendgridstub.Key, stub.URL, time.Second)
	for _, key := range []string{`transition/c1/O"Brien/outcome`, `transition/c1/O'Brien/outcome`, `transition/c1/a\b/outcome`} {
		if _, err := c.FindSent(context.Background(), key); !errors.Is(err, ErrActivityUnavailable) || !strings.Contains(err.Error(), "cannot be quoted") {
			t.Errorf("key %s: %v; want ErrActivityUnavailable saying it cannot be quoted", key, err)
		}
	}
	if stub.Requests() != 0 {
		t.Fatalf("%d requests reached SendGrid", stub.Requests())
	}
	if id, err := c.FindSent(context.Background(), "transition/c1/P-42/outcome"); err != nil || id != "" {
		t.Fatalf("plain key, nothing sent: %q %v", id, err)
	}
}

func TestSendEmailRefusedConnectionIsNotUnconfirmed(t *testing.T) {
	// A request that never connected cannot have been accepted: the retry
	// sends without looking anything up.
	f := newMailerFixture(t, 2*time.Second)
	down := sendgridstub.New()
	down.Close()
	f.mailer.Client = NewSendGridClient(sendgridstub.Key, down.URL, time.Second)
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	_, err := f.mailer.SendEmail(ctx, in)
	wantRetry(t, err, ErrTypeEmailUnavailable)
	if r := f.row(t, in); r.status != EmailPending || r.unconfirmed || r.attempts != 1 {
		t.Fatalf("row = %+v", r)
	}
	f.mailer.Client = NewSendGridClient(sendgridstub.Key, f.stub.URL, time.Second)
	if res, err := f.mailer.SendEmail(ctx, in); err != nil || res.Status != EmailSent {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if f.stub.ActivityLookups() != 0 || f.stub.Accepted() != 1 {
		t.Fatalf("%d lookups, %d accepted", f.stub.ActivityLookups(), f.stub.Accepted())
	}
}

func TestSendEmailConcurrentAttemptBacksOff(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	f.db.Exec(t, `INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email, subject, body_text, body_html)
		VALUES ($1, $2, 'c1', 'P-42', 'reminder', 'fr', $3, 's', 't', 'h')`, in.WorkflowID, in.Step, in.To)
	// Another attempt holds the row while it sends.
	tx, err := f.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM emails WHERE workflow_id = $1 AND step = $2 FOR UPDATE`, in.WorkflowID, in.Step); err != nil {
		t.Fatal(err)
	}
	_, err = f.mailer.SendEmail(ctx, in)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != ErrTypeEmailInProgress || appErr.NonRetryable() {
		t.Fatalf("want retryable %s, got %v", ErrTypeEmailInProgress, err)
	}
	if f.stub.Requests() != 0 {
		t.Fatal("sent while another attempt held the row")
	}
}

func TestSendEmailCaptureMode(t *testing.T) {
	db := pgtest.New(t)
	stub := sendgridstub.New()
	defer stub.Close()
	m := NewMailer(db.Pool, "", stub.URL, time.Second, zerolog.New(zerolog.NewTestWriter(t)))
	if !m.Capture || m.Client != nil {
		t.Fatalf("no key must mean capture mode: %+v", m)
	}
	in := testEmailInput("announcement")
	res, err := m.SendEmail(context.Background(), in)
	if err != nil || res.Status != EmailCaptured {
		t.Fatalf("%+v %v", res, err)
	}
	again, err := m.SendEmail(context.Background(), in)
	if err != nil || again.Status != EmailCaptured || !again.AlreadyDone {
		t.Fatalf("again: %+v %v", again, err)
	}
	if stub.Requests() != 0 {
		t.Fatal("capture mode sent a request")
	}
	f := &mailerFixture{db: db}
	if r := f.row(t, in); r.status != EmailCaptured || r.attempts != 1 || !strings.Contains(r.subject, "Principal") {
		t.Fatalf("row = %+v", r)
	}
}

func TestSendEmailMissingKey(t *testing.T) {
	f := newMailerFixture(t, time.Second)
	in := testEmailInput("")
	_, err := f.mailer.SendEmail(context.Background(), in)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeInvalidInput {
		t.Fatalf("got %v", err)
	}
}

func TestSendEmailInActivityEnvironment(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	f.mailer.Register(env)
	val, err := env.ExecuteActivity(contract.SendEmail.Name(), testEmailInput("announcement"))
	if err != nil {
		t.Fatal(err)
	}
	var res SendEmailResult
	if err := val.Get(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != EmailSent || res.MessageID == "" {
		t.Fatalf("result = %+v", res)
	}
	if f.stub.Accepted() != 1 {
		t.Fatalf("accepted %d", f.stub.Accepted())
	}
}
