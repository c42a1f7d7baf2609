-- Programs with tracks (Red Hat's modules, Microsoft's competency areas): a
-- partner holds a level in each track it takes part in, and its transition
-- decides each track on its own.
--
-- partners.tracks is the partner's level in each track, as the partner
-- file's tracks column gives it: [{"track": "Resell", "tier": "Advanced"}],
-- sorted by track. NULL for a partner of a program without tracks, which is
-- every row stored before this migration.
ALTER TABLE partners ADD COLUMN tracks jsonb;

-- tier_changes holds one row per track decided: track is the track's name,
-- '' for a program without tracks (every existing row). It is part of the
-- business key, so the workflow's per-track changes at one step stay
-- idempotent one by one. The new key is built before the old one goes, so
-- the table is never without one.
ALTER TABLE tier_changes ADD COLUMN track text NOT NULL DEFAULT '';
ALTER TABLE tier_changes ADD CONSTRAINT tier_changes_workflow_step_track_key UNIQUE (workflow_id, step, track);
ALTER TABLE tier_changes DROP CONSTRAINT tier_changes_workflow_id_step_key;

---- create above / drop below ----

-- Going back leaves one row per (workflow_id, step): the old key cannot be
-- rebuilt over per-track rows, so drop refuses while any exist.
ALTER TABLE tier_changes ADD CONSTRAINT tier_changes_workflow_id_step_key UNIQUE (workflow_id, step);
ALTER TABLE tier_changes DROP CONSTRAINT tier_changes_workflow_step_track_key;
ALTER TABLE tier_changes DROP COLUMN track;
ALTER TABLE partners DROP COLUMN tracks;
