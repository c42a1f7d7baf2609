package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EmailSummary is one email as a list shows it: no body, no address.
type EmailSummary struct {
	ID            int64  `json:"id"`
	PartnerID     string `json:"partner_id"`
	Kind          string `json:"kind"`
	Step          string `json:"step"`
	Locale        string `json:"locale"`
	Status        string `json:"status"`
	DeliveryState string `json:"delivery_state,omitempty"`
	Subject       string `json:"subject"`
	// At is when it was sent or captured, else when it was decided.
	At time.Time `json:"at"`
}

// Email is one email in full, as sent or captured.
type Email struct {
	EmailSummary
	WorkflowID        string    `json:"workflow_id"`
	CampaignID        string    `json:"campaign_id"`
	To                string    `json:"to"`
	Text              string    `json:"text"`
	HTML              string    `json:"html"`
	TemplateID        string    `json:"template_id,omitempty"`
	ProviderMessageID string    `json:"provider_message_id,omitempty"`
	Error             string    `json:"error,omitempty"`
	Attempts          int       `json:"attempts"`
	DeliveryAt        time.Time `json:"delivery_at,omitzero"`
	DeliveryReason    string    `json:"delivery_reason,omitempty"`
}

const emailSummaryColumns = `id, partner_id, kind, step, locale, status, coalesce(delivery_state, ''), subject, coalesce(sent_at, created_at)`

// ListEmails lists a campaign's emails, or one partner's when partnerID is
// set, in the order they were decided, at most limit of them.
func (s *Store) ListEmails(ctx context.Context, campaignID, partnerID string, limit int) ([]EmailSummary, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+emailSummaryColumns+` FROM emails
		WHERE campaign_id = $1 AND ($2 = '' OR partner_id = $2)
		ORDER BY created_at, id LIMIT $3`, campaignID, partnerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list emails of campaign %q: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (EmailSummary, error) {
		var e EmailSummary
		err := row.Scan(&e.ID, &e.PartnerID, &e.Kind, &e.Step, &e.Locale, &e.Status, &e.DeliveryState, &e.Subject, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list emails of campaign %q: %w", campaignID, err)
	}
	return out, nil
}

// GetEmail reads one email by its ID; ErrNotFound when there is none.
func (s *Store) GetEmail(ctx context.Context, id int64) (Email, error) {
	var e Email
	var deliveryAt *time.Time
	err := s.DB.QueryRow(ctx, `SELECT `+emailSummaryColumns+`, workflow_id, campaign_id, to_email, body_text, body_html,
		       coalesce(template_id, ''), coalesce(provider_message_id, ''), coalesce(error, ''), attempts,
		       delivery_at, coalesce(delivery_reason, '')
		FROM emails WHERE id = $1`, id).Scan(
		&e.ID, &e.PartnerID, &e.Kind, &e.Step, &e.Locale, &e.Status, &e.DeliveryState, &e.Subject, &e.At,
		&e.WorkflowID, &e.CampaignID, &e.To, &e.Text, &e.HTML, &e.TemplateID, &e.ProviderMessageID, &e.Error, &e.Attempts,
		&deliveryAt, &e.DeliveryReason)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("email %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("read email %d: %w", id, err)
	}
	if deliveryAt != nil {
		e.DeliveryAt = *deliveryAt
	}
	return e, nil
}
