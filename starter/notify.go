package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rs/zerolog"
	"go.temporal.io/api/serviceerror"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/store"
	"github.com/tiershift/tiershift/workflows"
)

// notifyFactsChanged tells the running transitions of a launched campaign
// that an imported file changed their partners' facts, so each re-reads
// Postgres and re-evaluates at once. This is how an outside system (a CRM
// export, an LMS report) feeds facts in bulk; `starter signal` is the
// one-partner path. A draft campaign has no workflows yet: nothing to tell,
// and Temporal is not dialled.
func notifyFactsChanged(ctx context.Context, out io.Writer, cfg config.Config, st *store.Store, log zerolog.Logger, tell teller,
	campaignID string, changed []string) error {
	c, err := st.GetCampaign(ctx, campaignID)
	if err != nil {
		return fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	if c.State == store.CampaignDraft {
		return nil
	}
	tc, err := dialTemporal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer tc.Close()
	var told, closed int
	for _, partnerID := range changed {
		id := workflows.WorkflowID(campaignID, partnerID)
		// No ID: a re-read is idempotent, so a repeated notice costs one read.
		msg := workflows.FactsChanged{Actor: "import"}
		err := tc.SignalWorkflow(ctx, id, "", workflows.MessageFacts, msg)
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
	tell.say(out, log, "told running transitions about changed facts",
		func(e *zerolog.Event) *zerolog.Event { return e.Int("signalled", told).Int("not_running", closed) },
		"told %d running transitions to re-read their partner's facts (%d no longer running)\n", told, closed)
	return nil
}
