// Package delivery receives SendGrid's Event Webhook: it verifies each
// request's signature, stores every event once, keeps each email's latest
// delivery state, and tells a partner's transition when an email that
// matters (announcement, extension, outcome) bounced or was dropped.
package delivery

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"
	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"go.temporal.io/api/serviceerror"

	"github.com/tiershift/tiershift/email"
	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// Path is where the handler listens; SendGrid's Event Webhook "HTTP Post
// URL" is the public base URL followed by it.
const Path = "/sendgrid/events"

// MaxBody bounds one request. SendGrid batches events up to about 1 MB.
const MaxBody = 8 << 20

// Signaler sends a Signal to a workflow; Temporal's client.Client is one.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Beginner opens the transaction a batch of events is stored in;
// *pgxpool.Pool is one.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Handler serves SendGrid's Event Webhook.
type Handler struct {
	db      Beginner
	key     *ecdsa.PublicKey
	signals Signaler
	log     zerolog.Logger
}

// ParsePublicKey reads the verification key SendGrid shows when signed
// event webhooks are enabled (base64 DER, an ECDSA public key), refusing
// anything else before the key reaches eventwebhook, which would panic on a
// key of another type.
func ParsePublicKey(base64Key string) (*ecdsa.PublicKey, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(base64Key))
	if err != nil {
		return nil, fmt.Errorf("event webhook verification key: not base64: %w", err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("event webhook verification key: %w", err)
	}
	if _, ok := pub.(*ecdsa.PublicKey); !ok {
		return nil, fmt.Errorf("event webhook verification key: a %T, not an ECDSA key", pub)
	}
	return eventwebhook.ConvertPublicKeyBase64ToECDSA(strings.TrimSpace(base64Key))
}

// NewHandler returns the webhook handler. key verifies every request;
// signals reaches the transitions (Temporal's client).
func NewHandler(db Beginner, key *ecdsa.PublicKey, signals Signaler, log zerolog.Logger) *Handler {
	return &Handler{db: db, key: key, signals: signals, log: log}
}

// ServeHTTP answers SendGrid: 401 for a missing or bad signature, 400 for a
// body that is not a valid batch of events, 503 when Postgres or Temporal
// failed (SendGrid retries the batch), 204 when every event is stored. A
// refused request stores nothing and signals nothing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST SendGrid events here", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	sig := r.Header.Get(eventwebhook.VerificationHTTPHeader)
	ts := r.Header.Get(eventwebhook.TimestampHTTPHeader)
	if sig == "" || ts == "" {
		h.log.Warn().Str("remote", r.RemoteAddr).Msg("event webhook: request without a signature refused")
		http.Error(w, "missing signature", http.StatusUnauthorized)
		return
	}
	if ok, err := eventwebhook.VerifySignature(h.key, body, sig, ts); err != nil || !ok {
		h.log.Warn().Str("remote", r.RemoteAddr).Msg("event webhook: request with a bad signature refused")
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	events, err := ParseEvents(body)
	if err != nil {
		h.log.Warn().Err(err).Msg("event webhook: signed batch refused")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum, err := h.record(r.Context(), events)
	if err != nil {
		h.log.Error().Err(err).Int("events", len(events)).Msg("event webhook: batch not stored; SendGrid will retry it")
		http.Error(w, "not stored, retry", http.StatusServiceUnavailable)
		return
	}
	h.log.Info().Int("events", len(events)).Int("stored", sum.stored).Int("replays", sum.replays).
		Int("unmatched", sum.unmatched).Int("signalled", sum.signalled).Msg("event webhook: batch stored")
	w.WriteHeader(http.StatusNoContent)
}

type summary struct{ stored, replays, unmatched, signalled int }

// record stores a batch in one transaction and signals the transitions of
// undelivered emails before committing: if a signal fails the batch rolls
// back and SendGrid's retry stores and signals it again (the workflow
// ignores a step it already knows).
func (h *Handler) record(ctx context.Context, events []store.DeliveryEvent) (summary, error) {
	var sum summary
	tx, err := h.db.Begin(ctx)
	if err != nil {
		return sum, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	st := &store.Store{DB: tx}
	var undelivered []store.DeliveryRecord
	var reasons []store.DeliveryEvent
	for _, ev := range events {
		rec, err := st.RecordDeliveryEvent(ctx, ev)
		if err != nil {
			return sum, err
		}
		switch {
		case !rec.Stored:
			sum.replays++
			continue
		case !rec.Matched:
			sum.unmatched++
		}
		sum.stored++
		if rec.Matched && store.Undelivered(ev.Event) && Reaches(email.Kind(rec.Kind)) {
			undelivered = append(undelivered, rec)
			reasons = append(reasons, ev)
		}
	}
	for i, rec := range undelivered {
		ev := reasons[i]
		m := workflows.EmailUndelivered{
			ID: "delivery/" + ev.SGEventID, Step: rec.Step, Kind: rec.Kind, Event: ev.Event, Reason: ev.Reason, At: ev.At,
		}
		err := h.signals.SignalWorkflow(ctx, rec.WorkflowID, "", workflows.MessageEmailUndelivered, m)
		var notFound *serviceerror.NotFound
		switch {
		case errors.As(err, &notFound):
			// The transition has ended (an outcome email bounces after the
			// decision): Postgres keeps the state for status and report.
			h.log.Info().Str(logging.CampaignID, rec.CampaignID).Str(logging.PartnerID, rec.PartnerID).
				Str("step", rec.Step).Str("event", ev.Event).Msg("event webhook: transition already closed; undelivered email recorded in Postgres only")
		case err != nil:
			return sum, fmt.Errorf("signal %s of undelivered %s: %w", rec.WorkflowID, rec.Step, err)
		default:
			sum.signalled++
			h.log.Info().Str(logging.CampaignID, rec.CampaignID).Str(logging.PartnerID, rec.PartnerID).
				Str("step", rec.Step).Str("event", ev.Event).Msg("event webhook: transition told its email was not delivered")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return sum, fmt.Errorf("commit: %w", err)
	}
	return sum, nil
}

// Reaches reports whether an undelivered email of kind matters to the
// partner's transition: the announcement, an extension and the outcome tell
// the partner its deadline or its tier; a reminder that bounced is followed
// by the next one and is only recorded.
func Reaches(kind email.Kind) bool {
	return kind == email.KindAnnouncement || kind == email.KindExtended || kind == email.KindOutcome
}

// ParseEvents reads a batch of SendGrid events: a JSON array of objects,
// each with sg_event_id, event and timestamp (Unix seconds), and the custom
// arguments tiershift set (email_id, dedupe_key) at the top level, as
// SendGrid sends them. One bad event refuses the whole batch. The stored
// payload drops the recipient's address (the emails row has it).
func ParseEvents(body []byte) ([]store.DeliveryEvent, error) {
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("events: not a JSON array of objects: %w", err)
	}
	out := make([]store.DeliveryEvent, 0, len(raw))
	for i, fields := range raw {
		str := func(k string) (string, error) {
			v, ok := fields[k]
			if !ok || string(v) == "null" {
				return "", nil
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				// SendGrid sends some custom args as numbers.
				var n json.Number
				if json.Unmarshal(v, &n) == nil {
					return n.String(), nil
				}
				return "", fmt.Errorf("events[%d].%s: not a string", i, k)
			}
			return s, nil
		}
		var ev store.DeliveryEvent
		var err error
		var emailID string
		for _, f := range []struct {
			key string
			dst *string
		}{{"sg_event_id", &ev.SGEventID}, {"event", &ev.Event}, {"reason", &ev.Reason}, {"email_id", &emailID}, {"dedupe_key", &ev.DedupeKey}} {
			if *f.dst, err = str(f.key); err != nil {
				return nil, err
			}
		}
		if ev.SGEventID == "" || len(ev.SGEventID) > 200 {
			return nil, fmt.Errorf("events[%d].sg_event_id: missing or longer than 200 characters", i)
		}
		if ev.Event == "" || len(ev.Event) > 40 {
			return nil, fmt.Errorf("events[%d].event: missing or longer than 40 characters", i)
		}
		if ev.Reason == "" {
			if ev.Reason, err = str("response"); err != nil { // deferred and delivered say it there
				return nil, err
			}
		}
		if len(ev.Reason) > 2000 {
			ev.Reason = ev.Reason[:2000]
		}
		if emailID != "" {
			if ev.EmailID, err = strconv.ParseInt(emailID, 10, 64); err != nil || ev.EmailID <= 0 {
				return nil, fmt.Errorf("events[%d].email_id: %q is not an email row ID", i, emailID)
			}
		}
		var secs int64
		if err := json.Unmarshal(fields["timestamp"], &secs); err != nil || secs <= 0 {
			return nil, fmt.Errorf("events[%d].timestamp: want Unix seconds", i)
		}
		ev.At = time.Unix(secs, 0).UTC()
		delete(fields, "email")
		if ev.Payload, err = json.Marshal(fields); err != nil {
			return nil, fmt.Errorf("events[%d]: %w", i, err)
		}
		out = append(out, ev)
	}
	return out, nil
}
