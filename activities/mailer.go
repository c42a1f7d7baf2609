package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/temporal"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/logging"
)

// Error types of SendEmail's retryable errors.
const (
	// ErrTypeRateLimited: SendGrid answered 429; the error's NextRetryDelay
	// says when its rate-limit window resets.
	ErrTypeRateLimited = "RateLimited"
	// ErrTypeEmailUnavailable: SendGrid answered 5xx, or the call failed or
	// timed out. Retry with the activity's policy.
	ErrTypeEmailUnavailable = "EmailProviderUnavailable"
	// ErrTypeEmailInProgress: another attempt of the same (workflow, step) is
	// sending right now (a timed-out attempt still running). Retry later.
	ErrTypeEmailInProgress = "EmailSendInProgress"
)

// DefaultEmailTimeout bounds one call to SendGrid when Mailer.Timeout is 0.
const DefaultEmailTimeout = 10 * time.Second

// maxRateLimitDelay caps the wait a 429's reset header may impose.
const maxRateLimitDelay = 10 * time.Minute

// EmailClient sends one message. SendGridClient is the real one; it must
// honour ctx's deadline.
type EmailClient interface {
	Send(ctx context.Context, m *sgmail.SGMailV3) (*rest.Response, error)
}

// SendGridClient calls SendGrid's v3 Mail Send API with sendgrid-go's
// request builder and an http.Client with a timeout. Unlike
// sendgrid.Client it is safe for concurrent use (it never mutates a shared
// request) and never retries by itself: Temporal retries.
type SendGridClient struct {
	request rest.Request
	http    *rest.Client
}

// NewSendGridClient builds a client for apiKey against baseURL (such as
// https://api.sendgrid.com or a sendgridstub's URL). Every call gives up
// after timeout even if the caller's context has no deadline.
func NewSendGridClient(apiKey, baseURL string, timeout time.Duration) *SendGridClient {
	if timeout <= 0 {
		timeout = DefaultEmailTimeout
	}
	req := sendgrid.GetRequest(apiKey, "/v3/mail/send", strings.TrimRight(baseURL, "/"))
	req.Method = rest.Post
	return &SendGridClient{request: req, http: &rest.Client{HTTPClient: &http.Client{Timeout: timeout}}}
}

// Send posts m.
func (c *SendGridClient) Send(ctx context.Context, m *sgmail.SGMailV3) (*rest.Response, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("sendgrid: encode message: %w", err)
	}
	req := c.request // a copy; Headers is only read
	req.Body = body
	return c.http.SendWithContext(ctx, req)
}

// Mailer holds the SendEmail activity's dependencies.
type Mailer struct {
	DB *pgxpool.Pool
	// Client sends messages; unused in capture mode.
	Client EmailClient
	// Capture records messages as 'captured' instead of sending them (no API key).
	Capture bool
	// Timeout bounds one call to the provider (DefaultEmailTimeout if 0).
	Timeout time.Duration
	Log     zerolog.Logger
}

// NewMailer returns a Mailer that sends through SendGrid at baseURL with
// apiKey, or captures every message when apiKey is empty
// (config.Config.CaptureMode). The key lives only inside the client's
// request headers; nothing logs it.
func NewMailer(db *pgxpool.Pool, apiKey, baseURL string, timeout time.Duration, log zerolog.Logger) *Mailer {
	if timeout <= 0 {
		timeout = DefaultEmailTimeout
	}
	m := &Mailer{DB: db, Capture: apiKey == "", Timeout: timeout, Log: log}
	if !m.Capture {
		m.Client = NewSendGridClient(apiKey, baseURL, timeout)
	}
	return m
}

// SendEmail renders and sends one message at most once per (WorkflowID, Step).
//
// The emails row is written (status pending) before the send and marked
// after: sent with SendGrid's X-Message-Id, captured, or failed. A call that
// finds the row sent, captured or failed returns it with AlreadyDone and
// does nothing else, so a retried activity never sends twice once its mark
// is committed. While it sends, the attempt holds the row's lock (SELECT …
// FOR UPDATE NOWAIT); an overlapping attempt of the same step — a timed-out
// attempt still running — gets a retryable EmailSendInProgress error
// instead of sending too. Every try increments attempts.
//
// Outcomes:
//   - 2xx: sent. Capture mode: captured (logged, nothing sent).
//   - A permanent problem with this one message — an address net/mail
//     rejects, a template that does not render, a program without a from
//     address, SendGrid's 400/401/403/413 and other 4xx — is a result with
//     Status failed and the reason (SendGrid's errors[].message), not an
//     error: the row says failed, the workflow records it (EmailFailed) and
//     goes on with the partner's transition; an operator sees it in the
//     emails table. A bad address is deliberately not a
//     BadEmailAddress ApplicationError: failing the activity would only make
//     the workflow handle the same fact as an error path, and nothing
//     retries its way out of a malformed address.
//   - 429: retryable ApplicationError of type RateLimited whose
//     NextRetryDelay is the time until X-RateLimit-Reset.
//   - 5xx, 408, network errors and timeouts: retryable
//     EmailProviderUnavailable error; the row stays pending.
//
// Remaining duplicate window: if the worker crashes (or the database write
// fails) after SendGrid accepted the message but before the row is marked
// sent, or SendGrid accepts a request whose response never arrives in time,
// the row stays pending and the retry sends the message again — at least
// once, never silently lost. Every message carries custom_args.dedupe_key =
// workflow_id + "/" + step (plus campaign_id, partner_id, kind), which
// SendGrid echoes in its Event Webhook; a reconciliation job can match those
// events (and X-Message-Id) to the emails row to mark it and spot the rare
// duplicate.
func (m *Mailer) SendEmail(ctx context.Context, in SendEmailInput) (SendEmailResult, error) {
	if in.WorkflowID == "" || in.Step == "" {
		return SendEmailResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("send email: workflow ID %q and step %q must both be set", in.WorkflowID, in.Step), ErrTypeInvalidInput, nil)
	}
	log := m.Log.With().
		Str(logging.CampaignID, in.CampaignID).Str(logging.PartnerID, in.PartnerID).
		Str(logging.WorkflowID, in.WorkflowID).Str("step", in.Step).Str("kind", string(in.Kind)).Logger()

	to, msg, reason := m.prepare(in)
	status := EmailPending
	if reason != "" {
		status = EmailFailed
	}
	var templateID *string
	if msg.TemplateID != "" {
		templateID = &msg.TemplateID
	}
	locale := msg.Locale
	if locale == "" {
		locale = in.Locale
	}
	var errText *string
	if reason != "" {
		errText = &reason
	}
	var insertedID int64
	err := m.DB.QueryRow(ctx, `
		INSERT INTO emails (workflow_id, step, campaign_id, partner_id, kind, locale, to_email,
		                    subject, body_text, body_html, template_id, status, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (workflow_id, step) DO NOTHING
		RETURNING id`,
		in.WorkflowID, in.Step, in.CampaignID, in.PartnerID, string(in.Kind), locale, in.To,
		msg.Subject, msg.Text, msg.HTML, templateID, status, errText).Scan(&insertedID)
	inserted := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return SendEmailResult{}, fmt.Errorf("send email: record %s/%s: %w", in.WorkflowID, in.Step, err)
	}

	tx, err := m.DB.Begin(ctx)
	if err != nil {
		return SendEmailResult{}, fmt.Errorf("send email: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	var (
		id            int64
		rowStatus     string
		providerID    *string
		rowError      *string
		attemptsSoFar int
	)
	err = tx.QueryRow(ctx, `
		SELECT id, status, provider_message_id, error, attempts FROM emails
		WHERE workflow_id = $1 AND step = $2
		FOR UPDATE NOWAIT`, in.WorkflowID, in.Step).Scan(&id, &rowStatus, &providerID, &rowError, &attemptsSoFar)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
			return SendEmailResult{}, temporal.NewApplicationError(
				fmt.Sprintf("send email %s/%s: another attempt is sending it", in.WorkflowID, in.Step), ErrTypeEmailInProgress)
		}
		return SendEmailResult{}, fmt.Errorf("send email: read %s/%s: %w", in.WorkflowID, in.Step, err)
	}

	if rowStatus != EmailPending {
		res := SendEmailResult{Status: rowStatus, MessageID: deref(providerID), Error: deref(rowError), AlreadyDone: !inserted}
		if inserted && rowStatus == EmailFailed {
			log.Warn().Str("to", in.To).Str("error", res.Error).Msg("email not sent: permanent failure")
		} else {
			log.Info().Str("status", rowStatus).Msg("email already handled; not sending again")
		}
		return res, tx.Commit(ctx)
	}

	if m.Capture {
		if _, err := tx.Exec(ctx, `UPDATE emails SET status = 'captured', attempts = attempts + 1, sent_at = now(), error = NULL WHERE id = $1`, id); err != nil {
			return SendEmailResult{}, fmt.Errorf("send email: mark captured: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return SendEmailResult{}, fmt.Errorf("send email: mark captured: %w", err)
		}
		log.Info().Str("to", to.Address).Str("subject", msg.Subject).Str("locale", msg.Locale).
			Str("template_id", msg.TemplateID).Msg("email captured (no SendGrid API key)")
		return SendEmailResult{Status: EmailCaptured}, nil
	}

	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultEmailTimeout
	}
	sendCtx, cancel := context.WithTimeout(ctx, timeout)
	start := time.Now()
	resp, sendErr := m.Client.Send(sendCtx, m.build(in, to, msg))
	cancel()
	elapsed := time.Since(start)

	// Whatever happened, count the attempt and say why in the row. The
	// mark uses a context that survives the activity's cancellation: the
	// provider may have accepted the message.
	markCtx, markCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer markCancel()
	mark := func(status string, providerID, errText *string) error {
		_, err := tx.Exec(markCtx, `
			UPDATE emails SET status = $2, provider_message_id = COALESCE($3, provider_message_id), error = $4,
			       attempts = attempts + 1, sent_at = CASE WHEN $2 = 'sent' THEN now() ELSE sent_at END
			WHERE id = $1`, id, status, providerID, errText)
		if err == nil {
			err = tx.Commit(markCtx)
		}
		if err != nil {
			return fmt.Errorf("send email: mark %s %s/%s: %w", status, in.WorkflowID, in.Step, err)
		}
		return nil
	}

	if sendErr != nil {
		text := "sendgrid: " + sendErr.Error()
		if errors.Is(sendErr, context.DeadlineExceeded) || isTimeout(sendErr) {
			text = fmt.Sprintf("sendgrid: no answer within %s", timeout)
		}
		if err := mark(EmailPending, nil, &text); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		if ctx.Err() != nil { // the activity itself was cancelled or timed out
			return SendEmailResult{}, ctx.Err()
		}
		log.Warn().Err(sendErr).Dur("elapsed", elapsed).Int("attempt", attemptsSoFar+1).Msg("email: provider unreachable; will retry")
		return SendEmailResult{}, temporal.NewApplicationError(text, ErrTypeEmailUnavailable)
	}

	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		id := header(resp, "X-Message-Id")
		if err := mark(EmailSent, &id, nil); err != nil {
			// Accepted but not marked: the duplicate window. Retrying the
			// activity resends; say so loudly.
			log.Error().Err(err).Str("message_id", id).Msg("email accepted by SendGrid but not marked sent; a retry will send it again")
			return SendEmailResult{}, err
		}
		log.Info().Str("message_id", id).Dur("elapsed", elapsed).Int("attempt", attemptsSoFar+1).Msg("email sent")
		return SendEmailResult{Status: EmailSent, MessageID: id}, nil

	case code == http.StatusTooManyRequests:
		delay := rateLimitDelay(resp, time.Now())
		text := fmt.Sprintf("sendgrid 429: rate limited; retry in %s", delay.Round(time.Second))
		if err := mark(EmailPending, nil, &text); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		log.Warn().Dur("retry_in", delay).Msg("email: rate limited by SendGrid")
		return SendEmailResult{}, temporal.NewApplicationErrorWithOptions(text, ErrTypeRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: delay})

	case code >= 500 || code == http.StatusRequestTimeout || code < 200 || (code >= 300 && code < 400):
		text := fmt.Sprintf("sendgrid %d: %s", code, apiErrorText(resp.Body))
		if err := mark(EmailPending, nil, &text); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		log.Warn().Int("http_status", code).Int("attempt", attemptsSoFar+1).Msg("email: SendGrid unavailable; will retry")
		return SendEmailResult{}, temporal.NewApplicationError(text, ErrTypeEmailUnavailable)

	default: // 400, 401, 403, 413 and other 4xx: this message will never go through as is.
		text := fmt.Sprintf("sendgrid %d: %s", code, apiErrorText(resp.Body))
		if err := mark(EmailFailed, nil, &text); err != nil {
			return SendEmailResult{}, err
		}
		log.Error().Int("http_status", code).Str("to", to.Address).Str("error", text).Msg("email rejected by SendGrid")
		return SendEmailResult{Status: EmailFailed, Error: text}, nil
	}
}

// prepare validates the recipient and renders the message; reason is set
// when the message can never be sent.
func (m *Mailer) prepare(in SendEmailInput) (to *mail.Address, msg email.Message, reason string) {
	var err error
	msg, err = email.Render(in.Kind, in.Locale, in.Data, in.Settings)
	if err != nil {
		return nil, email.Message{}, "render: " + err.Error()
	}
	addr := strings.TrimSpace(in.To)
	to, err = mail.ParseAddress(addr)
	if err != nil || addr == "" {
		return nil, msg, fmt.Sprintf("bad email address %q: %v", in.To, errOr(err, "empty"))
	}
	if at := strings.LastIndexByte(to.Address, '@'); at < 0 || !strings.Contains(to.Address[at+1:], ".") {
		return nil, msg, fmt.Sprintf("bad email address %q: the domain has no dot", in.To)
	}
	if in.ToName != "" {
		to.Name = in.ToName
	}
	if strings.TrimSpace(in.Settings.FromEmail) == "" && !m.Capture {
		return nil, msg, "the program's emails.from_email is empty"
	}
	return to, msg, ""
}

// maxCategories is SendGrid's limit per message.
const maxCategories = 10

func (m *Mailer) build(in SendEmailInput, to *mail.Address, msg email.Message) *sgmail.SGMailV3 {
	s := in.Settings
	out := sgmail.NewV3Mail()
	out.SetFrom(sgmail.NewEmail(s.FromName, s.FromEmail))
	if s.ReplyTo != "" {
		out.SetReplyTo(sgmail.NewEmail("", s.ReplyTo))
	}
	out.Subject = msg.Subject
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(to.Name, to.Address))
	if msg.TemplateID != "" {
		out.SetTemplateID(msg.TemplateID)
		for k, v := range msg.TemplateData {
			p.SetDynamicTemplateData(k, v)
		}
	} else {
		// SendGrid requires text/plain before text/html.
		out.AddContent(sgmail.NewContent("text/plain", msg.Text), sgmail.NewContent("text/html", msg.HTML))
	}
	out.AddPersonalizations(p)
	out.SetCustomArg("campaign_id", in.CampaignID)
	out.SetCustomArg("partner_id", in.PartnerID)
	out.SetCustomArg("kind", string(in.Kind))
	out.SetCustomArg("dedupe_key", in.WorkflowID+"/"+in.Step)
	cats := []string{"tiershift", string(in.Kind)}
	for _, c := range s.Categories {
		if c = strings.TrimSpace(c); c != "" && !slices.Contains(cats, c) && len(cats) < maxCategories {
			cats = append(cats, c)
		}
	}
	out.AddCategories(cats...)
	return out
}

// rateLimitDelay is the time until X-RateLimit-Reset (Unix seconds), at
// least a second and at most maxRateLimitDelay; 0 (the retry policy's own
// backoff) when the header is missing or unreadable.
func rateLimitDelay(resp *rest.Response, now time.Time) time.Duration {
	v := header(resp, "X-RateLimit-Reset")
	secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || secs <= 0 {
		return 0
	}
	d := time.Unix(secs, 0).Sub(now)
	return min(max(d, time.Second), maxRateLimitDelay)
}

// apiErrorText joins SendGrid's errors[].message (with their fields), or
// falls back to the raw body.
func apiErrorText(body string) string {
	var parsed struct {
		Errors []struct {
			Message string  `json:"message"`
			Field   *string `json:"field"`
		} `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &parsed); err == nil && len(parsed.Errors) > 0 {
		parts := make([]string, 0, len(parsed.Errors))
		for _, e := range parsed.Errors {
			if e.Field != nil && *e.Field != "" {
				parts = append(parts, *e.Field+": "+e.Message)
			} else {
				parts = append(parts, e.Message)
			}
		}
		return strings.Join(parts, "; ")
	}
	body = strings.TrimSpace(body)
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	if body == "" {
		return "(empty body)"
	}
	return body
}

func header(resp *rest.Response, name string) string {
	if v := http.Header(resp.Headers).Get(name); v != "" {
		return v
	}
	for k, vs := range resp.Headers { // non-canonical keys
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func errOr(err error, fallback string) string {
	if err != nil {
		return err.Error()
	}
	return fallback
}
