package email

import (
	"maps"
	"time"

	"github.com/tiershift/tiershift/program"
)

// DataFor builds an email's Data from the program and one partner's
// evaluation, exactly as the workflow does, so previews show what partners
// will get. deadline is the partner's current deadline and now the
// (workflow) time the email is decided. The caller sets PreviousDeadline on
// extended emails. Outcome and NewTier come from ev: templates only show
// them on qualified and outcome emails.
func DataFor(p *program.Program, campaignID, partnerID, partnerName string, ev program.Evaluation, deadline, now time.Time) Data {
	d := Data{
		CampaignID:   campaignID,
		PartnerID:    partnerID,
		PartnerName:  partnerName,
		ProgramName:  p.Name,
		Vendor:       p.Vendor,
		Currency:     p.Currency,
		OldTier:      ev.OldTier,
		ExpectedTier: ev.ExpectedTier,
		NewTier:      ev.NewTier,
		Outcome:      ev.Outcome,
		Deadline:     deadline,
		Now:          now,
		Missing:      append([]program.Missing(nil), ev.Missing...),
		Links:        maps.Clone(p.Emails.Links),
		Fallback:     p.Fallback,
		ApplyAt:      p.ApplyAt,
	}
	if d.ApplyAt == "" {
		d.ApplyAt = program.ApplyAtDeadline
	}
	return d
}
