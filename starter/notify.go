package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"go.temporal.io/api/serviceerror"

	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/workflows"
)

func init() { afterImport = notifyFactsChanged }

// notifyFactsChanged tells the running transitions of a launched campaign
// that an imported file changed their partners' facts, so each re-reads
// Postgres and re-evaluates at once. This is how an outside system (a CRM
// export, an LMS report) feeds facts in bulk; `starter signal` is the
// one-partner path. A draft campaign has no workflows yet: nothing to tell.
func notifyFactsChanged(ctx context.Context, campaignID string, changed []string) error {
	env, err := openOps(ctx, os.Stderr, false)
	if err != nil {
		return err
	}
	defer env.Close()
	c, err := env.st.GetCampaign(ctx, campaignID)
	if err != nil {
		return fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	if c.State == "draft" {
		return nil
	}
	if env.tc, err = dialTemporal(ctx, env.cfg, env.log); err != nil {
		return err
	}
	log := env.log.With().Str(logging.CampaignID, campaignID).Logger()
	var told, closed int
	for _, partnerID := range changed {
		id := workflows.WorkflowID(campaignID, partnerID)
		// No ID: a re-read is idempotent, so a repeated notice costs one read.
		msg := workflows.FactsChanged{Actor: "import"}
		err := env.tc.SignalWorkflow(ctx, id, "", workflows.MessageFacts, msg)
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			closed++
		case err != nil:
			return fmt.Errorf("signal %s: %w", id, err)
		default:
			told++
		}
	}
	log.Info().Int("signalled", told).Int("not_running", closed).Msg("told running transitions about changed facts")
	return nil
}
