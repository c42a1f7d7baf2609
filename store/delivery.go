package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery states an email can be in, from SendGrid's Event Webhook.
// Events of other types (open, click, unsubscribe…) are stored but do not
// change the state.
const (
	DeliveryProcessed  = "processed"
	DeliveryDeferred   = "deferred"
	DeliveryDelivered  = "delivered"
	DeliveryBounce     = "bounce"
	DeliveryDropped    = "dropped"
	DeliverySpamReport = "spamreport"
)

// deliveryRank orders states that share a timestamp (SendGrid's are whole
// seconds, so processed and delivered often do): the later in a message's
// life wins.
var deliveryRank = map[string]int{
	DeliveryProcessed: 1, DeliveryDeferred: 2, DeliveryDelivered: 3,
	DeliveryBounce: 4, DeliveryDropped: 4, DeliverySpamReport: 5,
}

// IsDeliveryState reports whether event changes an email's delivery state.
func IsDeliveryState(event string) bool { _, ok := deliveryRank[event]; return ok }

// Undelivered reports whether a delivery state means the partner never got
// the message.
func Undelivered(state string) bool { return state == DeliveryBounce || state == DeliveryDropped }

// DeliveryEvent is one event of SendGrid's Event Webhook, validated.
type DeliveryEvent struct {
	SGEventID string
	Event     string
	At        time.Time
	Reason    string
	// EmailID and DedupeKey are the custom_args tiershift set on the
	// message; EmailID (0 when absent) wins.
	EmailID   int64
	DedupeKey string
	// Payload is the event as received, minus the recipient's address.
	Payload json.RawMessage
}

// DeliveryRecord is what storing one event did.
type DeliveryRecord struct {
	// Stored is false for an event already stored (a replay).
	Stored bool
	// Matched is false when no email row has the event's custom_args.
	Matched bool
	// StateChanged is true when the event became the email's latest state.
	StateChanged bool
	// The matched email.
	EmailID    int64
	WorkflowID string
	Step       string
	Kind       string
	CampaignID string
	PartnerID  string
}

// RecordDeliveryEvent stores one event once (by sg_event_id) and, when it
// is a delivery state later than the email's current one (by the event's
// timestamp, then by the order of a message's life), makes it the email's
// delivery state. Run it inside a transaction with the batch's other events.
func (s *Store) RecordDeliveryEvent(ctx context.Context, ev DeliveryEvent) (DeliveryRecord, error) {
	var r DeliveryRecord
	var emailID *int64
	err := s.DB.QueryRow(ctx, `
		SELECT id, workflow_id, step, kind, campaign_id, partner_id FROM emails
		WHERE ($1 > 0 AND id = $1) OR ($1 = 0 AND $2 <> '' AND workflow_id || '/' || step = $2)
		LIMIT 1`, ev.EmailID, ev.DedupeKey).Scan(&r.EmailID, &r.WorkflowID, &r.Step, &r.Kind, &r.CampaignID, &r.PartnerID)
	switch {
	case err == nil:
		r.Matched, emailID = true, &r.EmailID
	case !errors.Is(err, pgx.ErrNoRows):
		return r, fmt.Errorf("match delivery event %s to its email: %w", ev.SGEventID, err)
	}
	tag, err := s.DB.Exec(ctx, `
		INSERT INTO email_events (sg_event_id, email_id, event, occurred_at, reason, payload)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sg_event_id) DO NOTHING`,
		ev.SGEventID, emailID, ev.Event, ev.At, nullIfEmpty(ev.Reason), ev.Payload)
	if err != nil {
		return r, fmt.Errorf("store delivery event %s: %w", ev.SGEventID, err)
	}
	r.Stored = tag.RowsAffected() == 1
	if !r.Stored || !r.Matched || !IsDeliveryState(ev.Event) {
		return r, nil
	}
	tag, err = s.DB.Exec(ctx, `
		UPDATE emails SET delivery_state = $2, delivery_at = $3, delivery_reason = $4
		WHERE id = $1 AND (delivery_at IS NULL OR delivery_at < $3 OR (delivery_at = $3 AND
		      CASE delivery_state WHEN 'processed' THEN 1 WHEN 'deferred' THEN 2 WHEN 'delivered' THEN 3
		                          WHEN 'bounce' THEN 4 WHEN 'dropped' THEN 4 ELSE 5 END < $5))`,
		r.EmailID, ev.Event, ev.At, nullIfEmpty(ev.Reason), deliveryRank[ev.Event])
	if err != nil {
		return r, fmt.Errorf("update delivery state of email %d: %w", r.EmailID, err)
	}
	r.StateChanged = tag.RowsAffected() == 1
	return r, nil
}

// EmailDelivery is one email's delivery state, for status and report.
type EmailDelivery struct {
	EmailID   int64
	PartnerID string
	Step      string
	Kind      string
	State     string
	At        time.Time
	Reason    string
}

// UndeliveredEmails lists a campaign's emails (of one partner when
// partnerID is set) whose latest delivery state is a bounce or a drop:
// the partners who were never reached, and with what.
func (s *Store) UndeliveredEmails(ctx context.Context, campaignID, partnerID string) ([]EmailDelivery, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT id, partner_id, step, kind, delivery_state, delivery_at, coalesce(delivery_reason, '')
		FROM emails
		WHERE campaign_id = $1 AND ($2 = '' OR partner_id = $2) AND delivery_state IN ('bounce', 'dropped')
		ORDER BY partner_id, id`, campaignID, partnerID)
	if err != nil {
		return nil, fmt.Errorf("list undelivered emails of campaign %q: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (EmailDelivery, error) {
		var d EmailDelivery
		err := row.Scan(&d.EmailID, &d.PartnerID, &d.Step, &d.Kind, &d.State, &d.At, &d.Reason)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("list undelivered emails of campaign %q: %w", campaignID, err)
	}
	return out, nil
}
