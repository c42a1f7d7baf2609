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

// DataForTracks builds an email's Data for a partner of a program with
// tracks from its per-track evaluations (program.EvaluateTracks), so the
// email names the track of every line. deadline is the partner's deadline:
// the latest of its tracks'.
func DataForTracks(p *program.Program, campaignID, partnerID, partnerName string, evs []program.TrackEvaluation, deadline, now time.Time) Data {
	d := DataFor(p, campaignID, partnerID, partnerName, program.Evaluation{}, deadline, now)
	d.Fallback = ""
	d.Tracks = make([]TrackData, len(evs))
	for i, ev := range evs {
		td := TrackData{TrackEvaluation: ev}
		td.Missing = append([]program.Missing(nil), ev.Missing...)
		for _, t := range p.Tracks {
			if t.Name == ev.Track {
				td.Fallback = t.Fallback
			}
		}
		d.Tracks[i] = td
	}
	return d
}
