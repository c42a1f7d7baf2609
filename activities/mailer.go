package activities

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.temporal.io/sdk/temporal"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
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
	// ErrTypeEmailUnconfirmed: an earlier attempt may have been accepted by
	// SendGrid (no answer was recorded) and its Email Activity does not show
	// the message yet. The error's NextRetryDelay says when to look again;
	// after Mailer.ConfirmWindow the message is sent again.
	ErrTypeEmailUnconfirmed = "EmailSendUnconfirmed"
)

// DefaultConfirmWindow is how long, by default, a send whose answer was lost
// is looked for in SendGrid's Email Activity before it is sent again.
// SendGrid lists an accepted message within seconds to a few minutes.
const DefaultConfirmWindow = 5 * time.Minute

// maxConfirmPoll bounds the wait between two Email Activity lookups.
const maxConfirmPoll = 30 * time.Second

// ErrActivityUnavailable is FindSent's answer when the message cannot be
// looked up at all: SendGrid's Email Activity endpoint refused the request
// (401, 403 or 404: the account lacks the paid Email Activity add-on, or the
// key its "Email Activity" read permission — SendGrid's answer does not say
// which), or the dedupe key cannot be put in a query. The error wraps an
// *ActivityLookupError saying which endpoint answered what.
var ErrActivityUnavailable = errors.New("sendgrid: the Email Activity lookup is unavailable")

// activityEndpoint is the Email Activity request FindSent makes, as logs name it.
const activityEndpoint = "GET /v3/messages"

// ActivityLookupError is what one Email Activity lookup got: the endpoint,
// its HTTP status and SendGrid's error text, so a log says what happened
// rather than guessing why.
type ActivityLookupError struct {
	Endpoint string
	Status   int
	Answer   string
}

func (e *ActivityLookupError) Error() string {
	return fmt.Sprintf("sendgrid: %s answered %d: %s", e.Endpoint, e.Status, e.Answer)
}

// Unwrap makes an answer that refuses the lookup (401, 403, 404) an
// ErrActivityUnavailable.
func (e *ActivityLookupError) Unwrap() error {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return ErrActivityUnavailable
	}
	return nil
}

// DefaultEmailTimeout bounds one call to SendGrid when Mailer.Timeout is 0.
const DefaultEmailTimeout = 10 * time.Second

// maxRateLimitDelay caps the wait a 429's reset header may impose.
const maxRateLimitDelay = 10 * time.Minute

// EmailClient sends one message and finds messages already accepted.
// SendGridClient is the real one; it must honour ctx's deadline.
type EmailClient interface {
	Send(ctx context.Context, m *sgmail.SGMailV3) (*rest.Response, error)
	// FindSent returns the message ID of an accepted message whose
	// custom_args.dedupe_key is key, "" when there is none (yet), or
	// ErrActivityUnavailable.
	FindSent(ctx context.Context, key string) (string, error)
}

// SendGridClient calls SendGrid's v3 Mail Send API with sendgrid-go's
// request builder and an http.Client with a timeout. Unlike
// sendgrid.Client it is safe for concurrent use (it never mutates a shared
// request) and never retries by itself: Temporal retries.
type SendGridClient struct {
	request  rest.Request
	activity rest.Request
	http     *rest.Client
}

// NewSendGridClient builds a client for apiKey against baseURL (such as
// https://api.sendgrid.com or a sendgridstub's URL). Every call gives up
// after timeout even if the caller's context has no deadline.
func NewSendGridClient(apiKey, baseURL string, timeout time.Duration) *SendGridClient {
	if timeout <= 0 {
		timeout = DefaultEmailTimeout
	}
	host := strings.TrimRight(baseURL, "/")
	req := sendgrid.GetRequest(apiKey, "/v3/mail/send", host)
	req.Method = rest.Post
	activity := sendgrid.GetRequest(apiKey, "/v3/messages", host)
	activity.Method = rest.Get
	return &SendGridClient{request: req, activity: activity, http: &rest.Client{HTTPClient: &http.Client{Timeout: timeout}}}
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

// FindSent asks SendGrid's Email Activity API (GET /v3/messages) for the
// message whose custom argument dedupe_key is key.
func (c *SendGridClient) FindSent(ctx context.Context, key string) (string, error) {
	if strings.ContainsAny(key, `"'\`) {
		return "", fmt.Errorf("%w: dedupe key %q cannot be quoted in a query", ErrActivityUnavailable, key)
	}
	req := c.activity // a copy; QueryParams is set afresh
	req.QueryParams = map[string]string{"limit": "1", "query": `unique_args['dedupe_key']="` + key + `"`}
	resp, err := c.http.SendWithContext(ctx, req)
	if err != nil {
		return "", fmt.Errorf("sendgrid: Email Activity: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", &ActivityLookupError{Endpoint: activityEndpoint, Status: resp.StatusCode, Answer: apiErrorText(resp.Body)}
	}
	var page struct {
		Messages []struct {
			MsgID string `json:"msg_id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
		return "", fmt.Errorf("sendgrid: Email Activity: decode answer: %w", err)
	}
	if len(page.Messages) == 0 {
		return "", nil
	}
	return page.Messages[0].MsgID, nil
}

// Mailer holds the SendEmail activity's dependencies. Its rows in the
// emails table are read and written through package store.
type Mailer struct {
	DB *pgxpool.Pool
	// Client sends messages; unused in capture mode.
	Client EmailClient
	// Capture records messages as 'captured' instead of sending them (no API key).
	Capture bool
	// Timeout bounds one call to the provider (DefaultEmailTimeout if 0).
	Timeout time.Duration
	// ConfirmWindow is how long a send whose answer was lost is looked for
	// in SendGrid's Email Activity before it is sent again
	// (DefaultConfirmWindow if 0).
	ConfirmWindow time.Duration
	Log           zerolog.Logger
	// Metrics, when set, counts each email handled, by kind and status.
	Metrics Recorder
}

func (m *Mailer) store() *store.Store { return store.New(m.DB) }

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
// is committed. An attempt claims the row under its lock (SELECT … FOR
// UPDATE NOWAIT; an overlapping attempt gets a retryable
// EmailSendInProgress error) and commits unconfirmed_since before its
// request; only SendGrid's answer clears it. Every request increments
// attempts.
//
// Outcomes:
//   - 2xx: sent. Capture mode: captured (logged, nothing sent).
//   - A permanent problem with this one message — an address net/mail
//     rejects, a template that does not render, a program without a from
//     address, SendGrid's 400/401/403/413 and other 4xx — is a result with
//     Status failed and the reason (SendGrid's errors[].message), not an
//     error: the row says failed, the workflow records it (EmailFailed) and
//     goes on with the partner's transition; an operator sees it in the
//     emails table. A bad address is deliberately not an error: failing
//     the activity would only make the workflow handle the same fact as an
//     error path, and nothing retries its way out of a malformed address.
//   - 429: retryable ApplicationError of type RateLimited whose
//     NextRetryDelay is the time until X-RateLimit-Reset.
//   - 5xx, 408, network errors and timeouts: retryable
//     EmailProviderUnavailable error; the row stays pending.
//
// A lost answer is not a duplicate: if the worker dies mid-request, the
// answer times out, or the mark cannot be written, the row stays pending
// and unconfirmed, and the next attempt looks the message up by its
// custom_args.dedupe_key (workflow_id + "/" + step) in SendGrid's Email
// Activity before sending (see confirm). Only when the API key cannot read
// the Email Activity is it sent again unseen: at least once, never lost.
func (m *Mailer) SendEmail(ctx context.Context, in SendEmailInput) (SendEmailResult, error) {
	res, err := m.sendEmail(ctx, in)
	if err == nil && !res.AlreadyDone && m.Metrics != nil {
		m.Metrics.Email(string(in.Kind), res.Status)
	}
	return res, err
}

func (m *Mailer) sendEmail(ctx context.Context, in SendEmailInput) (SendEmailResult, error) {
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
	locale := msg.Locale
	if locale == "" {
		locale = in.Locale
	}
	// The first attempt writes the row already claimed (unconfirmed, one
	// attempt): nobody else can hold a row that did not exist, so a first
	// send costs one round trip before SendGrid and one after.
	claimed := status == EmailPending && !m.Capture
	insertedID, inserted, err := m.store().InsertEmail(ctx, store.OutgoingEmail{
		WorkflowID: in.WorkflowID, Step: in.Step, CampaignID: in.CampaignID, PartnerID: in.PartnerID,
		Kind: string(in.Kind), Locale: locale, To: in.To,
		Subject: msg.Subject, Text: msg.Text, HTML: msg.HTML, TemplateID: msg.TemplateID,
		Status: status, Error: reason,
	}, claimed)
	if err != nil {
		return SendEmailResult{}, fmt.Errorf("send email: %w", err)
	}
	if inserted && claimed {
		return m.send(ctx, in, log, claim{id: insertedID, attempt: 1}, to, msg)
	}

	c, err := m.claim(ctx, in, log)
	if err != nil {
		return SendEmailResult{}, err
	}
	if c.done != nil {
		res := *c.done
		res.AlreadyDone = !inserted
		switch {
		case inserted && res.Status == EmailFailed:
			log.Warn().Str("error", res.Error).Msg("email not sent: permanent failure")
		case !c.foundInActivity:
			log.Info().Str("status", res.Status).Msg("email already handled; not sending again")
		}
		return res, nil
	}
	return m.send(ctx, in, log, c, to, msg)
}

// claim is one attempt's right to send: the row is pending, no other
// attempt is sending it, and unconfirmed_since is now set and committed, so
// a later attempt knows this one may have reached SendGrid.
type claim struct {
	id      int64
	attempt int
	// done is set instead when there is nothing to send: the row was
	// already marked, or an earlier attempt's message was found in
	// SendGrid's Email Activity.
	done *SendEmailResult
	// foundInActivity says done comes from SendGrid's Email Activity.
	foundInActivity bool
}

// claim locks the row (NOWAIT: an overlapping attempt gets a retryable
// EmailSendInProgress error), settles an earlier attempt whose outcome is
// unknown, and marks the row unconfirmed before the send. The lock, and so a
// Postgres connection, is held through that settling's Email Activity
// lookup (rare: only after a lost answer), so two attempts never both
// decide to resend; it is released before the send itself.
func (m *Mailer) claim(ctx context.Context, in SendEmailInput, log zerolog.Logger) (claim, error) {
	var c claim
	row, err := m.store().ClaimEmail(ctx, in.WorkflowID, in.Step, func(r store.EmailRow) (store.EmailClaim, error) {
		if r.Status != EmailPending {
			c.done = &SendEmailResult{Status: r.Status, MessageID: r.ProviderMessageID, Error: r.Error}
			return store.EmailClaim{}, nil
		}
		if r.UnconfirmedSince != nil && !m.Capture {
			msgID, err := m.confirm(ctx, in, log, r.Now.Sub(*r.UnconfirmedSince))
			if err != nil {
				return store.EmailClaim{}, err
			}
			if msgID != "" {
				c.done, c.foundInActivity = &SendEmailResult{Status: EmailSent, MessageID: msgID}, true
				return store.EmailClaim{SentAs: msgID}, nil
			}
		}
		// Capture mode: nothing leaves the process, so no unknown outcome.
		return store.EmailClaim{Attempt: !m.Capture}, nil
	})
	if errors.Is(err, store.ErrEmailLocked) {
		return claim{}, temporal.NewApplicationError(
			fmt.Sprintf("send email %s/%s: another attempt is sending it", in.WorkflowID, in.Step), ErrTypeEmailInProgress)
	}
	if err != nil {
		return claim{}, fmt.Errorf("send email: %w", err)
	}
	c.id, c.attempt = row.ID, row.Attempts
	return c, nil
}

// confirm settles an earlier attempt that may have reached SendGrid (it
// began age ago and never recorded an answer): it returns the message ID
// when SendGrid's Email Activity shows the message, and "" when it is safe
// to send — SendGrid has not shown it for ConfirmWindow, or this account
// cannot read its Email Activity (then a duplicate is possible and logged).
// Before the window has passed it returns a retryable EmailSendUnconfirmed
// error, since SendGrid takes a while to list what it accepted.
func (m *Mailer) confirm(ctx context.Context, in SendEmailInput, log zerolog.Logger, age time.Duration) (string, error) {
	key := in.WorkflowID + "/" + in.Step
	msgID, err := m.Client.FindSent(ctx, key)
	switch {
	case errors.Is(err, ErrActivityUnavailable):
		ev := log.Warn().Str("unconfirmed_for", logging.Duration(age))
		var lookup *ActivityLookupError
		if errors.As(err, &lookup) {
			ev = ev.Str("endpoint", lookup.Endpoint).Int("http_status", lookup.Status).Str("answer", lookup.Answer)
		} else {
			ev = ev.Err(err)
		}
		ev.Msg("email: an earlier attempt got no answer and SendGrid's Email Activity lookup was refused, so whether SendGrid accepted it is unknown; sending again (a duplicate is possible; README: Email Activity access)")
		return "", nil
	case err != nil:
		return "", temporal.NewApplicationError(fmt.Sprintf("send email %s: look up an earlier attempt: %v", key, err), ErrTypeEmailUnavailable)
	case msgID != "":
		log.Info().Str("message_id", msgID).Str("unconfirmed_for", logging.Duration(age)).
			Msg("email: an earlier attempt's message is in SendGrid's Email Activity; not sending again")
		return msgID, nil
	}
	window := m.ConfirmWindow
	if window <= 0 {
		window = DefaultConfirmWindow
	}
	if age >= window {
		log.Warn().Str("unconfirmed_for", logging.Duration(age)).
			Msg("email: an earlier attempt's message is not in SendGrid's Email Activity; sending again")
		return "", nil
	}
	wait := min(window-age, maxConfirmPoll)
	return "", temporal.NewApplicationErrorWithOptions(
		fmt.Sprintf("send email %s: an earlier attempt may have been accepted; looking again in %s", key, wait.Round(time.Second)),
		ErrTypeEmailUnconfirmed, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
}

// send makes the claimed attempt's one request to SendGrid and records its
// answer. Only an answer clears unconfirmed_since: after a timeout or a lost
// connection the message may have been accepted, and the next attempt
// settles that first.
func (m *Mailer) send(ctx context.Context, in SendEmailInput, log zerolog.Logger, c claim, to *mail.Address, msg email.Message) (SendEmailResult, error) {
	if m.Capture {
		if err := m.store().MarkEmailCaptured(ctx, c.id); err != nil {
			return SendEmailResult{}, fmt.Errorf("send email: %w", err)
		}
		log.Info().Str("locale", msg.Locale).
			Str("template_id", msg.TemplateID).Msg("email captured (no SendGrid API key)")
		return SendEmailResult{Status: EmailCaptured}, nil
	}

	timeout := m.Timeout
	if timeout <= 0 {
		timeout = DefaultEmailTimeout
	}
	sendCtx, cancel := context.WithTimeout(ctx, timeout)
	start := time.Now()
	resp, sendErr := m.Client.Send(sendCtx, m.build(in, c.id, to, msg))
	cancel()
	elapsed := time.Since(start)

	// Whatever happened, say why in the row. The mark uses a context that
	// survives the activity's cancellation: the provider may have accepted
	// the message.
	markCtx, markCancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer markCancel()
	mark := func(status, providerID, errText string, answered bool) error {
		o := store.EmailOutcome{Status: status, ProviderMessageID: providerID, Error: errText, Answered: answered}
		if err := m.store().MarkEmail(markCtx, c.id, o); err != nil {
			return fmt.Errorf("send email %s/%s: %w", in.WorkflowID, in.Step, err)
		}
		return nil
	}

	if sendErr != nil {
		text := "sendgrid: " + sendErr.Error()
		if errors.Is(sendErr, context.DeadlineExceeded) || isTimeout(sendErr) {
			text = fmt.Sprintf("sendgrid: no answer within %s", timeout)
		}
		// A request that never connected cannot have been accepted.
		if err := mark(EmailPending, "", text, neverConnected(sendErr)); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		if ctx.Err() != nil { // the activity itself was cancelled or timed out
			return SendEmailResult{}, ctx.Err()
		}
		log.Warn().Err(sendErr).Str("elapsed", logging.Duration(elapsed)).Int("attempt", c.attempt).Msg("email: provider unreachable; will retry")
		return SendEmailResult{}, temporal.NewApplicationError(text, ErrTypeEmailUnavailable)
	}

	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		id := header(resp, "X-Message-Id")
		if err := mark(EmailSent, id, "", true); err != nil {
			// Accepted but not marked: the row stays unconfirmed, and the
			// retry finds the message in the Email Activity before sending.
			log.Error().Err(err).Str("message_id", id).Msg("email accepted by SendGrid but not marked sent; the retry will look it up before sending")
			return SendEmailResult{}, err
		}
		log.Info().Str("message_id", id).Str("elapsed", logging.Duration(elapsed)).Int("attempt", c.attempt).Msg("email sent")
		return SendEmailResult{Status: EmailSent, MessageID: id}, nil

	case code == http.StatusTooManyRequests:
		delay := rateLimitDelay(resp, time.Now())
		text := fmt.Sprintf("sendgrid 429: rate limited; retry in %s", delay.Round(time.Second))
		if err := mark(EmailPending, "", text, true); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		log.Warn().Str("retry_in", logging.Duration(delay)).Msg("email: rate limited by SendGrid")
		return SendEmailResult{}, temporal.NewApplicationErrorWithOptions(text, ErrTypeRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: delay})

	case code >= 500 || code == http.StatusRequestTimeout || code < 200 || (code >= 300 && code < 400):
		text := fmt.Sprintf("sendgrid %d: %s", code, apiErrorText(resp.Body))
		if err := mark(EmailPending, "", text, true); err != nil {
			log.Error().Err(err).Msg("email: could not record attempt")
		}
		log.Warn().Int("http_status", code).Int("attempt", c.attempt).Msg("email: SendGrid unavailable; will retry")
		return SendEmailResult{}, temporal.NewApplicationError(text, ErrTypeEmailUnavailable)

	default: // 400, 401, 403, 413 and other 4xx: this message will never go through as is.
		text := fmt.Sprintf("sendgrid %d: %s", code, apiErrorText(resp.Body))
		if err := mark(EmailFailed, "", text, true); err != nil {
			return SendEmailResult{}, err
		}
		log.Error().Int("http_status", code).Str("error", text).Msg("email rejected by SendGrid")
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
	// The rule the partner file reader applies at import: an address that
	// imported is one this sends to.
	addr := strings.TrimSpace(in.To)
	if err := program.CheckEmailAddress(addr); err != nil {
		// The address itself is not quoted: this reason is logged and
		// kept in the emails row, and an address is personal data.
		var ae *program.AddressError
		reason := err.Error()
		if errors.As(err, &ae) {
			reason = "the address " + ae.Reason
		}
		return nil, msg, "bad email address in the partner's email column: " + reason
	}
	to = &mail.Address{Address: addr}
	if in.ToName != "" {
		to.Name = in.ToName
		if RecipientName(in.ToName) == "" {
			m.Log.Warn().Str(logging.PartnerID, in.PartnerID).Str("step", in.Step).
				Msg("email: the partner's name is only control characters or spaces; sending to the address without a name")
		}
	}
	if strings.TrimSpace(in.Settings.FromEmail) == "" && !m.Capture {
		return nil, msg, "the program's emails.from_email is empty"
	}
	if HasCalendar(in.Kind) {
		if _, err := DeadlineCalendar(in, msg.Locale); err != nil {
			return nil, msg, err.Error()
		}
	}
	return to, msg, ""
}

// maxCategories is SendGrid's limit per message.
const maxCategories = 10

// build writes the request. Its custom_args come back on every Event
// Webhook event: email_id (the emails row) matches the event to its email,
// dedupe_key also finds the message in the Email Activity.
func (m *Mailer) build(in SendEmailInput, emailID int64, to *mail.Address, msg email.Message) *sgmail.SGMailV3 {
	s := in.Settings
	out := sgmail.NewV3Mail()
	out.SetFrom(sgmail.NewEmail(s.FromName, s.FromEmail))
	if s.ReplyTo != "" {
		out.SetReplyTo(sgmail.NewEmail("", s.ReplyTo))
	}
	out.Subject = msg.Subject
	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(RecipientName(to.Name), to.Address))
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
	if HasCalendar(in.Kind) {
		// prepare has written it once already: it cannot fail here.
		if cal, err := DeadlineCalendar(in, msg.Locale); err == nil {
			a := sgmail.NewAttachment()
			a.SetContent(base64.StdEncoding.EncodeToString(cal))
			a.SetType(CalendarContentType)
			a.SetFilename(CalendarFilename)
			a.SetDisposition("attachment")
			out.AddAttachment(a)
		}
	}
	out.SetCustomArg("campaign_id", in.CampaignID)
	out.SetCustomArg("partner_id", in.PartnerID)
	out.SetCustomArg("kind", string(in.Kind))
	out.SetCustomArg("dedupe_key", in.WorkflowID+"/"+in.Step)
	out.SetCustomArg("email_id", strconv.FormatInt(emailID, 10))
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

// neverConnected reports whether a failed request never reached SendGrid.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
