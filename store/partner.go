package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/program"
)

// Partner is one partner's contact and facts as stored now: what the file
// gave (partnerfile.Row, without its file and line) and what only the
// database knows (timestamps, facts changed by messages since the import).
type Partner struct {
	PartnerID      string
	Name           string
	Email          string
	Locale         string
	Country        string
	Tier           string
	Facts          program.Facts
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FactsChangedAt time.Time
	// Tracks is the partner's level in each track of a program with
	// tracks, sorted by track; nil otherwise.
	Tracks []program.TrackLevel
	// TimeZone is the partner's own IANA zone from the partner file; empty
	// when the file gave none.
	TimeZone string
}

const partnerColumns = `partner_id, name, email, locale, country, tier,
	certifications, competencies, modules, revenue_cents, points,
	created_at, updated_at, facts_changed_at, tracks, timezone`

type scanner interface{ Scan(dest ...any) error }

func scanPartner(row scanner) (Partner, error) {
	var p Partner
	var revenue int64
	err := row.Scan(&p.PartnerID, &p.Name, &p.Email, &p.Locale, &p.Country, &p.Tier,
		&p.Facts.Certifications, &p.Facts.Competencies, &p.Facts.Modules, &revenue, &p.Facts.Points,
		&p.CreatedAt, &p.UpdatedAt, &p.FactsChangedAt, &p.Tracks, &p.TimeZone)
	if err != nil {
		return Partner{}, err
	}
	p.Facts.Revenue = program.Money(revenue)
	p.Facts = p.Facts.Normalize()
	return p, nil
}

// LoadPartner returns one partner, or ErrNotFound.
func (s *Store) LoadPartner(ctx context.Context, partnerID string) (Partner, error) {
	p, err := scanPartner(s.DB.QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE partner_id = $1`, partnerID))
	if err != nil {
		return Partner{}, wrapNotFound(fmt.Sprintf("load partner %q", partnerID), err)
	}
	return p, nil
}

// FactChange is one row of a partner's fact history.
type FactChange struct {
	ID        int64
	PartnerID string
	Field     string
	// OldValue and NewValue are the field's JSON values (null when unset).
	OldValue  []byte
	NewValue  []byte
	Source    string
	ChangedAt time.Time
}

// FactHistory returns a partner's fact changes, oldest first.
func (s *Store) FactHistory(ctx context.Context, partnerID string) ([]FactChange, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT id, partner_id, field, old_value, new_value, source, changed_at
		FROM partner_fact_changes WHERE partner_id = $1 ORDER BY changed_at, id`, partnerID)
	if err != nil {
		return nil, fmt.Errorf("fact history of partner %q: %w", partnerID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[FactChange])
	if err != nil {
		return nil, fmt.Errorf("fact history of partner %q: %w", partnerID, err)
	}
	return out, nil
}

// ErrInvalidChange is returned (wrapped) when the program refuses a fact change.
var ErrInvalidChange = errors.New("invalid fact change")

// ApplyFactChange applies c to a partner's stored facts in one transaction
// (the partner row locked FOR UPDATE) and records one partner_fact_changes
// row per changed field, with source c.Source or "operator". When prog is not
// nil the change is validated against it first (ErrInvalidChange). An
// unknown partner is ErrNotFound. A change with an ID that was already
// applied to this partner changes nothing: before and after are then both
// the current facts.
func (s *Store) ApplyFactChange(ctx context.Context, partnerID string, c program.FactChange, prog *program.Program) (before, after program.Facts, err error) {
	what := fmt.Sprintf("apply fact change %s %q to partner %q", c.Op, c.Name, partnerID)
	if prog != nil {
		if err := prog.ValidateChange(c); err != nil {
			return before, after, fmt.Errorf("%s: %w: %w", what, ErrInvalidChange, err)
		}
	}
	source := c.Source
	if source == "" {
		source = "operator"
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		p, err := scanPartner(tx.QueryRow(ctx, `SELECT `+partnerColumns+` FROM partners WHERE partner_id = $1 FOR UPDATE`, partnerID))
		if err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("load partner: %w", err)
		}
		before, after = p.Facts, p.Facts
		if c.ID != "" {
			var done bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM partner_fact_changes WHERE partner_id = $1 AND change_id = $2)`,
				partnerID, c.ID).Scan(&done); err != nil {
				return fmt.Errorf("look up change %q: %w", c.ID, err)
			}
			if done {
				return nil
			}
		}
		after = before.Apply(c)
		changes := diffFacts(storedFacts(before), storedFacts(after))
		if len(changes) == 0 {
			return nil
		}
		stored := storedFacts(after)
		certs, err := json.Marshal(stored.Certifications)
		if err != nil {
			return fmt.Errorf("encode certifications: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE partners SET certifications = $2::jsonb, competencies = $3, modules = $4,
			       revenue_cents = $5, points = $6, updated_at = now(), facts_changed_at = now()
			WHERE partner_id = $1`,
			partnerID, certs, stored.Competencies, stored.Modules, int64(stored.Revenue), stored.Points); err != nil {
			return fmt.Errorf("update facts: %w", err)
		}
		var changeID *string
		if c.ID != "" {
			changeID = &c.ID
		}
		batch := &pgx.Batch{}
		for i, ch := range changes {
			oldJSON, err := json.Marshal(ch.Old)
			if err != nil {
				return fmt.Errorf("encode old %s: %w", ch.Field, err)
			}
			newJSON, err := json.Marshal(ch.New)
			if err != nil {
				return fmt.Errorf("encode new %s: %w", ch.Field, err)
			}
			id := changeID
			if i > 0 {
				id = nil // the ID keys the change once, on its first field
			}
			batch.Queue(`INSERT INTO partner_fact_changes (partner_id, field, old_value, new_value, source, change_id)
				VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6)`, partnerID, ch.Field, oldJSON, newJSON, source, id)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("record fact changes: %w", err)
		}
		return nil
	})
	if err != nil {
		return program.Facts{}, program.Facts{}, fmt.Errorf("%s: %w", what, err)
	}
	return before, after, nil
}
