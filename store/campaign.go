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

// Campaign states, as stored in campaigns.state.
const (
	CampaignDraft     = "draft"
	CampaignLaunching = "launching"
	CampaignRunning   = "running"
	CampaignCompleted = "completed"
)

// ErrLaunchMismatch is matched (errors.Is) by both refusals of a relaunch
// that would change a launched campaign: ErrProgramMismatch and
// ErrLaunchDateMismatch.
var ErrLaunchMismatch = errors.New("refusing to change a launched campaign")

// ErrProgramMismatch is returned (wrapped) when a launch names a different
// program than the one a campaign was launched with.
var ErrProgramMismatch = fmt.Errorf("%w: the program differs", ErrLaunchMismatch)

// ErrLaunchDateMismatch is returned (wrapped) when a launch names a different
// launch date than the one a campaign was launched with: a refusal names
// the mismatch it is, not "a different program".
var ErrLaunchDateMismatch = fmt.Errorf("%w: the launch date differs", ErrLaunchMismatch)

// Campaign is one run of one program.
type Campaign struct {
	ID string
	// ProgramID, ProgramFile and Program are empty until the launch is recorded.
	ProgramID   string
	ProgramFile string
	Program     *program.Program
	LaunchAt    time.Time
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CreateCampaign makes sure campaign id exists, in state 'draft' if new.
func (s *Store) CreateCampaign(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("create campaign: empty campaign ID")
	}
	if _, err := s.DB.Exec(ctx, `INSERT INTO campaigns (campaign_id) VALUES ($1) ON CONFLICT (campaign_id) DO NOTHING`, id); err != nil {
		return fmt.Errorf("create campaign %q: %w", id, err)
	}
	return nil
}

// RecordLaunch stores the program and launch date of a campaign and moves it
// from 'draft' to 'launching', creating it if needed. Recording the same
// launch again is a no-op; a different program (compared in its validated,
// JSON form) or launch date for a campaign that is already launching, running
// or completed is refused with ErrProgramMismatch or ErrLaunchDateMismatch.
func (s *Store) RecordLaunch(ctx context.Context, campaignID, programFile string, prog *program.Program, launchAt time.Time) error {
	if campaignID == "" {
		return errors.New("record launch: empty campaign ID")
	}
	if prog == nil {
		return fmt.Errorf("record launch of campaign %q: no program", campaignID)
	}
	launchAt = launchAt.Truncate(time.Microsecond) // what timestamptz keeps
	progJSON, err := json.Marshal(prog)
	if err != nil {
		return fmt.Errorf("record launch of campaign %q: encode program: %w", campaignID, err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO campaigns (campaign_id) VALUES ($1) ON CONFLICT (campaign_id) DO NOTHING`, campaignID); err != nil {
			return err
		}
		var state string
		var storedID *string
		var sameProgram *bool
		var storedLaunch *time.Time
		err := tx.QueryRow(ctx, `
			SELECT state, program_id, program = $2::jsonb, launch_at
			FROM campaigns WHERE campaign_id = $1 FOR UPDATE`, campaignID, progJSON).
			Scan(&state, &storedID, &sameProgram, &storedLaunch)
		if err != nil {
			return err
		}
		if state != CampaignDraft {
			if sameProgram == nil || !*sameProgram {
				return fmt.Errorf("campaign is %s with program %q, this launch says program %q: %w",
					state, deref(storedID), prog.ID, ErrProgramMismatch)
			}
			if storedLaunch == nil || !storedLaunch.Equal(launchAt) {
				was := "none"
				if storedLaunch != nil {
					was = storedLaunch.UTC().Format(time.RFC3339)
				}
				return fmt.Errorf("campaign is %s with launch date %s, this launch says %s (leave --launch-at out to keep the recorded one): %w",
					state, was, launchAt.UTC().Format(time.RFC3339), ErrLaunchDateMismatch)
			}
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE campaigns
			SET program_id = $2, program_file = $3, program = $4::jsonb, launch_at = $5,
			    state = 'launching', updated_at = now()
			WHERE campaign_id = $1`, campaignID, prog.ID, programFile, progJSON, launchAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("record launch of campaign %q: %w", campaignID, err)
	}
	return nil
}

// GetCampaign returns campaign id with its stored program, or ErrNotFound.
func (s *Store) GetCampaign(ctx context.Context, id string) (Campaign, error) {
	var c Campaign
	var progID, progFile *string
	var progJSON []byte
	var launchAt *time.Time
	err := s.DB.QueryRow(ctx, `
		SELECT campaign_id, program_id, program_file, program, launch_at, state, created_at, updated_at
		FROM campaigns WHERE campaign_id = $1`, id).
		Scan(&c.ID, &progID, &progFile, &progJSON, &launchAt, &c.State, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return Campaign{}, wrapNotFound(fmt.Sprintf("get campaign %q", id), err)
	}
	c.ProgramID, c.ProgramFile = deref(progID), deref(progFile)
	if launchAt != nil {
		c.LaunchAt = *launchAt
	}
	if len(progJSON) > 0 {
		var p program.Program
		if err := json.Unmarshal(progJSON, &p); err != nil {
			return Campaign{}, fmt.Errorf("get campaign %q: decode stored program: %w", id, err)
		}
		c.Program = &p
	}
	return c, nil
}

// SetCampaignState moves campaign id to state, or returns ErrNotFound.
func (s *Store) SetCampaignState(ctx context.Context, id, state string) error {
	tag, err := s.DB.Exec(ctx, `UPDATE campaigns SET state = $2, updated_at = now() WHERE campaign_id = $1`, id, state)
	if err != nil {
		return fmt.Errorf("set campaign %q state to %q: %w", id, state, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set campaign %q state to %q: %w", id, state, ErrNotFound)
	}
	return nil
}

// MarkCampaignRunning records that every workflow of a launching campaign
// has started. A campaign that is already running or completed keeps its
// state, so launching a finished campaign again does not reopen it.
func (s *Store) MarkCampaignRunning(ctx context.Context, id string) error {
	if _, err := s.DB.Exec(ctx, `UPDATE campaigns SET state = 'running', updated_at = now()
		WHERE campaign_id = $1 AND state = 'launching'`, id); err != nil {
		return fmt.Errorf("mark campaign %q running: %w", id, err)
	}
	return nil
}

// completeIfDone moves a running campaign to completed when none of its
// enrollments is left unfinished. It runs each time a transition ends, so it
// must not read the finished ones: the first condition is the first entry
// of the enrollments_unfinished index (launched, not done; migration 011),
// asked for in partner order so the planner walks that index rather than
// the table whatever its statistics say; the second, a scan for partners
// enrolled but not yet launched, runs only once the first has found none,
// that is at a campaign's last transition.
const completeIfDone = `
UPDATE campaigns SET state = 'completed', updated_at = now()
WHERE campaign_id = $1 AND state = 'running'
  AND (SELECT partner_id FROM enrollments
       WHERE campaign_id = $1 AND stage NOT IN ('enrolled', 'done')
       ORDER BY partner_id LIMIT 1) IS NULL
  AND NOT EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1 AND stage = 'enrolled')`

// CompleteCampaignIfDone marks a running campaign completed once every one of
// its transitions has ended, so operators (status, report) and anything
// reading campaigns.state see that nothing is left to run. It is one
// statement and idempotent: completed is true only for the call that made
// the change. RecordStage calls it when a transition ends, and the launch
// calls it for a campaign whose partners had all finished already.
func (s *Store) CompleteCampaignIfDone(ctx context.Context, id string) (completed bool, err error) {
	tag, err := s.DB.Exec(ctx, completeIfDone, id)
	if err != nil {
		return false, fmt.Errorf("complete campaign %q: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}
