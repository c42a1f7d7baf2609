-- Completing a campaign without reading its finished enrollments.
--
-- Every transition's end asks whether it was its campaign's last
-- (CompleteCampaignIfDone). 001's query was two probes of the
-- (campaign_id, stage) index; 004 dropped that index to make imports
-- cheaper, and the probes became two scans of the whole campaign: ~2.4 ms
-- of PostgreSQL's CPU per transition at 20,000 partners, growing with the
-- campaign, so a deadline wave cost O(partners²).
--
-- This index holds only the transitions under way: neither 'enrolled' (an
-- import writes those, and must not pay for an index) nor 'done'. The
-- question "is any launched transition unfinished?" is then its first
-- entry; finished transitions leave it as they end.
CREATE INDEX enrollments_unfinished ON enrollments (campaign_id, partner_id)
    WHERE stage NOT IN ('enrolled', 'done');

---- create above / drop below ----

DROP INDEX enrollments_unfinished;
