package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/partnerfile"
)

// Rows is a stream of partner rows; Next returns io.EOF after the last one.
// *partnerfile.Reader satisfies it. Any other error aborts the import.
type Rows interface {
	Next() (partnerfile.Row, error)
}

// UniqueRows is a stream of partner rows that never yields a partner ID
// twice, such as the valid rows of a partnerfile.Reader, which refuses a
// duplicate with both its lines. ImportPartners trusts it and does not look
// for duplicates again (for 1,000,000 rows that look took ~0.5 s of CPU).
// A stream that claims it wrongly is a bug: a new partner given twice still
// fails the import on the partners' primary key, but an existing one would be
// updated from either of its rows.
type UniqueRows interface {
	Rows
	// UniquePartnerIDs reports whether no partner ID comes twice.
	UniquePartnerIDs() bool
}

// ImportResult says what an import changed.
type ImportResult struct {
	// Rows is how many rows the file gave the import.
	Rows int64 `json:"rows"`
	// Inserted partners are new; Updated ones had a contact, tier or fact
	// change; Unchanged ones were already exactly as the file says.
	Inserted  int64 `json:"inserted"`
	Updated   int64 `json:"updated"`
	Unchanged int64 `json:"unchanged"`
	// FactsChanged counts existing partners whose facts changed.
	FactsChanged int64 `json:"facts_changed"`
	// Enrolled counts new enrollments in the campaign; EnrollmentsUpdated
	// those whose old tier the file corrected before they started.
	Enrolled           int64 `json:"enrolled"`
	EnrollmentsUpdated int64 `json:"enrollments_updated"`
	// EnrollmentsKept counts enrollments already past 'enrolled' whose old
	// tier differs from the file: they are left as they are.
	EnrollmentsKept int64 `json:"enrollments_kept"`
	// TierKept counts partners whose tier (or level in a track) differs
	// from the file but was set by a transition (a tier_changes row), so
	// the import left it.
	TierKept int64 `json:"tier_kept"`
	// FactsChangedIDs lists, sorted, the existing partners whose facts
	// changed, so the caller can tell their running workflows.
	FactsChangedIDs []string `json:"facts_changed_ids,omitempty"`
}

// String is the one-line summary the starter prints.
func (r ImportResult) String() string {
	s := fmt.Sprintf("%d rows: %d inserted, %d updated, %d unchanged, %d facts changed, %d enrolled",
		r.Rows, r.Inserted, r.Updated, r.Unchanged, r.FactsChanged, r.Enrolled)
	if r.EnrollmentsUpdated > 0 {
		s += fmt.Sprintf(", %d enrollments updated", r.EnrollmentsUpdated)
	}
	if r.EnrollmentsKept > 0 {
		s += fmt.Sprintf(", %d started enrollments kept their old tier", r.EnrollmentsKept)
	}
	if r.TierKept > 0 {
		s += fmt.Sprintf(", %d partners kept a tier set by a transition", r.TierKept)
	}
	return s
}

const createStage = `
DROP TABLE IF EXISTS import_stage;
CREATE TEMP TABLE import_stage (
    line           integer NOT NULL,
    partner_id     text NOT NULL,
    name           text NOT NULL,
    email          text NOT NULL,
    locale         text NOT NULL,
    country        text NOT NULL,
    tier           text NOT NULL,
    certifications jsonb NOT NULL,
    competencies   text[] NOT NULL,
    modules        text[] NOT NULL,
    revenue_cents  bigint NOT NULL,
    points         integer NOT NULL,
    tracks         jsonb,
    timezone       text NOT NULL
) ON COMMIT DROP`

// importColumns are the partners columns an import writes, in rowSource's
// order; the staging table has the file line first.
var (
	importColumns = []string{"partner_id", "name", "email", "locale", "country", "tier",
		"certifications", "competencies", "modules", "revenue_cents", "points", "tracks", "timezone"}
	stageColumns = append([]string{"line"}, importColumns...)
)

// import_diff holds, per new or changed file row (unchanged rows are left
// out, so a re-import writes almost nothing), the new values, the old facts
// and which parts changed. Partners are locked (table lock) before it is built.
const createDiff = `
DROP TABLE IF EXISTS import_diff;
CREATE TEMP TABLE import_diff ON COMMIT DROP AS
SELECT x.*,
       (x.cert_changed OR x.comp_changed OR x.mod_changed OR x.rev_changed OR x.pts_changed) AS facts_changed
FROM (
    SELECT s.partner_id, s.name, s.email, s.locale, s.country, s.timezone, s.tier, s.tracks,
           s.certifications, s.competencies, s.modules, s.revenue_cents, s.points,
           p.partner_id IS NULL AS is_new,
           p.certifications AS old_certifications,
           p.competencies   AS old_competencies,
           p.modules        AS old_modules,
           p.revenue_cents  AS old_revenue_cents,
           p.points         AS old_points,
           (p.name, p.email, p.locale, p.country, p.timezone) IS DISTINCT FROM (s.name, s.email, s.locale, s.country, s.timezone) AS contact_changed,
           ((p.tier, p.tracks) IS DISTINCT FROM (s.tier, s.tracks) AND NOT EXISTS (
                SELECT 1 FROM tier_changes t WHERE t.partner_id = s.partner_id)) IS TRUE AS tier_changed,
           ((p.tier, p.tracks) IS DISTINCT FROM (s.tier, s.tracks) AND EXISTS (
                SELECT 1 FROM tier_changes t WHERE t.partner_id = s.partner_id)) IS TRUE AS tier_kept,
           p.certifications IS DISTINCT FROM s.certifications AS cert_changed,
           p.competencies   IS DISTINCT FROM s.competencies   AS comp_changed,
           p.modules        IS DISTINCT FROM s.modules        AS mod_changed,
           p.revenue_cents  IS DISTINCT FROM s.revenue_cents  AS rev_changed,
           p.points         IS DISTINCT FROM s.points         AS pts_changed
    FROM import_stage s
    LEFT JOIN partners p ON p.partner_id = s.partner_id
) x
WHERE x.is_new OR x.contact_changed OR x.tier_changed OR x.tier_kept
   OR x.cert_changed OR x.comp_changed OR x.mod_changed OR x.rev_changed OR x.pts_changed`

const insertNewPartners = `
INSERT INTO partners (partner_id, name, email, locale, country, tier,
                      certifications, competencies, modules, revenue_cents, points, tracks, timezone)
SELECT partner_id, name, email, locale, country, tier,
       certifications, competencies, modules, revenue_cents, points, tracks, timezone
FROM import_diff
WHERE is_new`

const updateChangedPartners = `
UPDATE partners p SET
    name = d.name, email = d.email, locale = d.locale, country = d.country, timezone = d.timezone,
    tier = CASE WHEN d.tier_changed THEN d.tier ELSE p.tier END,
    tracks = CASE WHEN d.tier_changed THEN d.tracks ELSE p.tracks END,
    certifications = d.certifications, competencies = d.competencies, modules = d.modules,
    revenue_cents = d.revenue_cents, points = d.points,
    updated_at = now(),
    facts_changed_at = CASE WHEN d.facts_changed THEN now() ELSE p.facts_changed_at END
FROM import_diff d
WHERE p.partner_id = d.partner_id
  AND NOT d.is_new
  AND (d.contact_changed OR d.tier_changed OR d.facts_changed)`

const insertFactChanges = `
INSERT INTO partner_fact_changes (partner_id, field, old_value, new_value, source)
SELECT d.partner_id, v.field, v.old_value, v.new_value, $1
FROM import_diff d
CROSS JOIN LATERAL (VALUES
    ('certifications', d.old_certifications,          d.certifications,          d.cert_changed),
    ('competencies',   to_jsonb(d.old_competencies),  to_jsonb(d.competencies),  d.comp_changed),
    ('modules',        to_jsonb(d.old_modules),       to_jsonb(d.modules),       d.mod_changed),
    ('revenue_cents',  to_jsonb(d.old_revenue_cents), to_jsonb(d.revenue_cents), d.rev_changed),
    ('points',         to_jsonb(d.old_points),        to_jsonb(d.points),        d.pts_changed)
) AS v(field, old_value, new_value, changed)
WHERE NOT d.is_new AND d.facts_changed AND v.changed
ORDER BY d.partner_id, v.field`

const countDiff = `
SELECT count(*) FILTER (WHERE is_new),
       count(*) FILTER (WHERE NOT is_new AND (contact_changed OR tier_changed OR facts_changed)),
       count(*) FILTER (WHERE NOT is_new AND facts_changed),
       count(*) FILTER (WHERE tier_kept)
FROM import_diff`

// import_enroll holds, per staged partner, what its enrollment in the
// campaign needs: none yet (is_new), or an old tier that differs from the
// file, to correct if the enrollment has not started (not_started) and to
// keep otherwise. Staged partners whose enrollment is already right — every
// one, in a re-import of the same file — are left out. One join of the
// staging table with the campaign's enrollments serves the count, the
// correction and the insert (three joins took ~1.6 s of a 1,000,000-row
// re-import; this one ~0.5 s).
const createEnrollDiff = `
CREATE TEMP TABLE import_enroll ON COMMIT DROP AS
SELECT s.partner_id, s.tier,
       e.partner_id IS NULL AS is_new,
       e.stage IS NOT DISTINCT FROM 'enrolled' AS not_started
FROM import_stage s
LEFT JOIN enrollments e ON e.campaign_id = $1 AND e.partner_id = s.partner_id
WHERE e.partner_id IS NULL OR e.old_tier IS DISTINCT FROM s.tier`

const countKeptEnrollments = `
SELECT count(*) FROM import_enroll WHERE NOT is_new AND NOT not_started`

// The enrollment's stage is checked again as it is updated: a workflow may
// have started it since import_enroll was built.
const updateEnrollments = `
UPDATE enrollments e SET old_tier = d.tier, updated_at = now()
FROM import_enroll d
WHERE e.campaign_id = $1 AND e.partner_id = d.partner_id
  AND NOT d.is_new AND d.not_started
  AND e.stage = 'enrolled' AND e.old_tier <> d.tier`

const insertEnrollments = `
INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
SELECT $1::text, d.partner_id, $2::text || d.partner_id, d.tier
FROM import_enroll d
WHERE d.is_new
ON CONFLICT (campaign_id, partner_id) DO NOTHING`

// anyKnownPartner tells whether any staged partner is already stored; when
// none is, the import skips the comparison (import_diff) altogether.
const anyKnownPartner = `
SELECT EXISTS (SELECT 1 FROM import_stage s JOIN partners p ON p.partner_id = s.partner_id)`

const insertStagedPartners = `
INSERT INTO partners (partner_id, name, email, locale, country, tier,
                      certifications, competencies, modules, revenue_cents, points, tracks, timezone)
SELECT partner_id, name, email, locale, country, tier,
       certifications, competencies, modules, revenue_cents, points, tracks, timezone
FROM import_stage`

// enrollAllPartners enrolls every stored partner in a new campaign, after a
// first import into an empty partners table.
const enrollAllPartners = `
INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
SELECT $1::text, p.partner_id, $2::text || p.partner_id, p.tier
FROM partners p`

// insertAllEnrollments enrolls every staged partner in a campaign that has
// no enrollment yet.
const insertAllEnrollments = `
INSERT INTO enrollments (campaign_id, partner_id, workflow_id, old_tier)
SELECT $1::text, s.partner_id, $2::text || s.partner_id, s.tier
FROM import_stage s`

// WorkflowID is the ID of the transition workflow of one partner in one
// campaign: ids.WorkflowID, the one definition.
func WorkflowID(campaignID, partnerID string) string { return ids.WorkflowID(campaignID, partnerID) }

func workflowIDPrefix(campaignID string) string { return ids.WorkflowIDPrefix(campaignID) }

// ImportPartners merges rows into partners and enrolls them in campaignID,
// in one transaction: the rows are streamed with COPY into a temporary
// staging table and merged with set-based statements, so a million rows
// never sit in memory and cost a handful of round trips. Partners whose
// contact, tier or facts differ are updated, with one partner_fact_changes
// row (source = source) per changed fact field; identical rows change
// nothing, so importing the same file twice is a no-op. A partner whose tier
// a transition has already changed keeps it. The campaign is created in
// state 'draft' if it does not exist; enrollments already past 'enrolled' are
// left as they are. Facts are stored normalized (program.Facts.Normalize).
//
// Into an empty partners table (a vendor's first import) the rows are
// copied straight into partners: there is nothing to compare them with. That
// import holds partners and enrollments against every other session, readers
// too, until it commits, as it loads them without their indexes; it alters
// the tables, so its role must own them.
//
// Any error from rows aborts the import and rolls everything back, and so
// does a partner ID that appears twice: a caller that validates while it
// streams returns an error at the end of a bad file and nothing is written.
func (s *Store) ImportPartners(ctx context.Context, campaignID string, rows Rows, source string) (ImportResult, error) {
	var res ImportResult
	if campaignID == "" {
		return res, errors.New("import partners: empty campaign ID")
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The comparison's estimated cost (correlated subqueries over
		// 100,000 rows) makes the planner JIT-compile it, which took longer
		// (~0.5 s) than running it; a few large set-based statements gain
		// nothing from JIT.
		if _, err := tx.Exec(ctx, `SET LOCAL jit = off`); err != nil {
			return fmt.Errorf("turn JIT off: %w", err)
		}
		// Room for the hash joins over 100,000s of rows (the comparison,
		// the enrollments' reference check), this transaction only.
		if _, err := tx.Exec(ctx, `SET LOCAL work_mem = '256MB'`); err != nil {
			return fmt.Errorf("set work_mem: %w", err)
		}
		empty, err := lockIfNoPartners(ctx, tx)
		if err != nil {
			return err
		}
		if empty {
			return importFirst(ctx, tx, campaignID, rows, &res)
		}
		return importMerge(ctx, tx, campaignID, rows, source, &res)
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import partners: %w", err)
	}
	return res, nil
}

// lockPartners serializes imports and keeps fact and tier changes out while
// an import compares and applies; readers are not blocked.
func lockPartners(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `LOCK TABLE partners IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock partners: %w", err)
	}
	return nil
}

// lockIfNoPartners reports whether the partners table is empty, and if so
// locks it, and enrollments, against every other session until this import
// commits: a first import loads them without their indexes. A table with
// partners is left unlocked: the merge locks it after staging the file.
func lockIfNoPartners(ctx context.Context, tx pgx.Tx) (bool, error) {
	const anyPartner = `SELECT EXISTS (SELECT 1 FROM partners)`
	var found bool
	if err := tx.QueryRow(ctx, anyPartner).Scan(&found); err != nil {
		return false, fmt.Errorf("look for stored partners: %w", err)
	}
	if found {
		return false, nil
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE partners, enrollments IN ACCESS EXCLUSIVE MODE`); err != nil {
		return false, fmt.Errorf("lock partners and enrollments: %w", err)
	}
	// Another import may have committed between the look and the lock.
	if err := tx.QueryRow(ctx, anyPartner).Scan(&found); err != nil {
		return false, fmt.Errorf("look for stored partners: %w", err)
	}
	return !found, nil
}

// importFirst copies the rows straight into an empty, locked partners table
// and enrolls them all: no staging table, no comparison, and no index kept
// up to date row by row — the indexes of partners and enrollments are built
// once the rows are in (withoutIndexes). Enrollments are empty too when no
// partner is stored, as each references one; should some be left (their
// check disabled by hand), their indexes are kept and updated as usual.
func importFirst(ctx context.Context, tx pgx.Tx, campaignID string, rows Rows, res *ImportResult) error {
	tables := []string{"partners"}
	var enrolled bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM enrollments)`).Scan(&enrolled); err != nil {
		return fmt.Errorf("look for enrollments: %w", err)
	}
	if !enrolled {
		tables = append(tables, "enrollments")
	}
	return withoutIndexes(ctx, tx, tables, func() error {
		n, err := copyRows(ctx, tx, "partners", importColumns, false, rows)
		if err != nil {
			return err
		}
		res.Rows, res.Inserted = n, n
		if err := createCampaign(ctx, tx, campaignID); err != nil {
			return err
		}
		n, err = enrollAll(ctx, tx, campaignID, !enrolled)
		res.Enrolled = n
		return err
	})
}

// enrollAll enrolls every stored partner in a campaign. With unchecked, the
// caller holds enrollments empty and locked, and the reference check
// (schema/003, 006) is off for this one statement: every row it inserts
// names a partner it reads from partners and the campaign created before it,
// which the check would only confirm by hashing every row again (~0.7 s of
// ~1.9 s for 1,000,000 partners).
func enrollAll(ctx context.Context, tx pgx.Tx, campaignID string, unchecked bool) (int64, error) {
	if unchecked {
		if _, err := tx.Exec(ctx, `ALTER TABLE enrollments DISABLE TRIGGER enrollments_check_refs`); err != nil {
			return 0, fmt.Errorf("enroll partners in campaign %q: %w", campaignID, err)
		}
	}
	tag, err := tx.Exec(ctx, enrollAllPartners, campaignID, workflowIDPrefix(campaignID))
	if err != nil {
		return 0, fmt.Errorf("enroll partners in campaign %q: %w", campaignID, err)
	}
	if unchecked {
		if _, err := tx.Exec(ctx, `ALTER TABLE enrollments ENABLE TRIGGER enrollments_check_refs`); err != nil {
			return 0, fmt.Errorf("enroll partners in campaign %q: %w", campaignID, err)
		}
	}
	return tag.RowsAffected(), nil
}

// importMerge stages the rows, then compares them with the stored partners
// and applies the differences.
func importMerge(ctx context.Context, tx pgx.Tx, campaignID string, rows Rows, source string, res *ImportResult) error {
	if _, err := tx.Exec(ctx, createStage); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	n, err := copyRows(ctx, tx, "import_stage", stageColumns, true, rows)
	if err != nil {
		return err
	}
	res.Rows = n
	if err := lockPartners(ctx, tx); err != nil {
		return err
	}
	var anyKnown bool
	if err := tx.QueryRow(ctx, anyKnownPartner).Scan(&anyKnown); err != nil {
		return fmt.Errorf("compare with stored partners: %w", err)
	}
	if !anyKnown {
		// Every partner in the file is new: nothing to compare, so they go
		// straight from the staging table.
		tag, err := tx.Exec(ctx, insertStagedPartners)
		if err != nil {
			return fmt.Errorf("insert new partners: %w", err)
		}
		res.Inserted = tag.RowsAffected()
		return importEnrollments(ctx, tx, campaignID, res)
	}
	if _, err := tx.Exec(ctx, createDiff); err != nil {
		return fmt.Errorf("compare with stored partners: %w", err)
	}
	if err := tx.QueryRow(ctx, countDiff).Scan(&res.Inserted, &res.Updated, &res.FactsChanged, &res.TierKept); err != nil {
		return fmt.Errorf("count changes: %w", err)
	}
	res.Unchanged = res.Rows - res.Inserted - res.Updated
	if _, err := tx.Exec(ctx, insertNewPartners); err != nil {
		return fmt.Errorf("insert new partners: %w", err)
	}
	if _, err := tx.Exec(ctx, updateChangedPartners); err != nil {
		return fmt.Errorf("update changed partners: %w", err)
	}
	if res.FactsChanged > 0 {
		if _, err := tx.Exec(ctx, insertFactChanges, source); err != nil {
			return fmt.Errorf("record fact changes: %w", err)
		}
		ids, err := collectStrings(ctx, tx, `SELECT partner_id FROM import_diff WHERE NOT is_new AND facts_changed ORDER BY partner_id`)
		if err != nil {
			return fmt.Errorf("list partners whose facts changed: %w", err)
		}
		res.FactsChangedIDs = ids
	}
	return importEnrollments(ctx, tx, campaignID, res)
}

// copyRows streams rows into table with COPY, the file line first when
// withLine, reading them a few batches ahead (prefetch). The error names the
// line the stream had reached.
func copyRows(ctx context.Context, tx pgx.Tx, table string, columns []string, withLine bool, rows Rows) (int64, error) {
	ahead := prefetch(rows)
	defer ahead.stop()
	src := &rowSource{rows: ahead, withLine: withLine}
	if u, ok := rows.(UniqueRows); ok && u.UniquePartnerIDs() {
		src.trusted = true
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
	if src.err != nil {
		return 0, src.err
	}
	if err != nil {
		return 0, fmt.Errorf("copy rows into %s (after line %d): %w", table, src.line, err)
	}
	return n, nil
}

func createCampaign(ctx context.Context, tx pgx.Tx, campaignID string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO campaigns (campaign_id) VALUES ($1) ON CONFLICT (campaign_id) DO NOTHING`, campaignID); err != nil {
		return fmt.Errorf("create campaign %q: %w", campaignID, err)
	}
	return nil
}

// importEnrollments creates the campaign if needed and enrolls every staged
// partner in it. A campaign without enrollments (a first import) gets one
// plain INSERT ... SELECT: nothing to compare, correct or keep. Imports are
// serialized by the partners table lock, and a campaign's enrollments are only
// ever created by an import (workflows, which also write them, are started
// from them), so none can appear meanwhile; if one did, the primary key would
// fail the import, never duplicate a row.
func importEnrollments(ctx context.Context, tx pgx.Tx, campaignID string, res *ImportResult) error {
	if err := createCampaign(ctx, tx, campaignID); err != nil {
		return err
	}
	var anyEnrolled bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM enrollments WHERE campaign_id = $1)`, campaignID).Scan(&anyEnrolled); err != nil {
		return fmt.Errorf("look up enrollments in campaign %q: %w", campaignID, err)
	}
	if !anyEnrolled {
		tag, err := tx.Exec(ctx, insertAllEnrollments, campaignID, workflowIDPrefix(campaignID))
		if err != nil {
			return fmt.Errorf("enroll partners in campaign %q: %w", campaignID, err)
		}
		res.Enrolled = tag.RowsAffected()
		return nil
	}
	if _, err := tx.Exec(ctx, createEnrollDiff, campaignID); err != nil {
		return fmt.Errorf("compare with the enrollments in campaign %q: %w", campaignID, err)
	}
	if err := tx.QueryRow(ctx, countKeptEnrollments).Scan(&res.EnrollmentsKept); err != nil {
		return fmt.Errorf("count started enrollments: %w", err)
	}
	tag, err := tx.Exec(ctx, updateEnrollments, campaignID)
	if err != nil {
		return fmt.Errorf("update enrollments in campaign %q: %w", campaignID, err)
	}
	res.EnrollmentsUpdated = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, insertEnrollments, campaignID, workflowIDPrefix(campaignID)); err != nil {
		return fmt.Errorf("enroll partners in campaign %q: %w", campaignID, err)
	}
	res.Enrolled = tag.RowsAffected()
	return nil
}

func collectStrings(ctx context.Context, db DB, sql string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// rowSource feeds COPY from a Rows stream, one row at a time, refusing a
// partner ID it has already seen unless the stream vouches for its IDs
// (UniqueRows).
type rowSource struct {
	rows Rows
	// withLine puts the file line first (the staging table has it).
	withLine bool
	// trusted rows are known to have unique IDs: seen stays empty.
	trusted bool
	seen    partnerfile.IDSet
	row     []any
	line    int
	err     error
}

func (r *rowSource) Next() bool {
	row, err := r.rows.Next()
	if errors.Is(err, io.EOF) {
		return false
	}
	if err != nil {
		r.err = fmt.Errorf("read row after line %d: %w", r.line, err)
		return false
	}
	r.line = row.Line
	if row.PartnerID == "" {
		r.err = fmt.Errorf("line %d: empty partner ID", row.Line)
		return false
	}
	if !r.trusted {
		if first, dup := r.seen.Add(row.PartnerID, row.Line); dup {
			r.err = fmt.Errorf("line %d: duplicate partner ID %q (first on line %d)", row.Line, row.PartnerID, first)
			return false
		}
	}
	f := storedFacts(row.Facts)
	certs, err := json.Marshal(f.Certifications)
	if err != nil {
		r.err = fmt.Errorf("line %d: encode certifications: %w", row.Line, err)
		return false
	}
	r.row = r.row[:0]
	if r.withLine {
		r.row = append(r.row, int32(row.Line))
	}
	var tracks []byte // NULL: no tracks
	if len(row.Tracks) > 0 {
		if tracks, err = json.Marshal(row.Tracks); err != nil {
			r.err = fmt.Errorf("line %d: encode tracks: %w", row.Line, err)
			return false
		}
	}
	r.row = append(r.row, row.PartnerID, row.Name, row.Email, row.Locale, row.Country, row.Tier,
		certs, f.Competencies, f.Modules, int64(f.Revenue), int32(f.Points), tracks, row.TimeZone)
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.row, nil }

func (r *rowSource) Err() error { return r.err }
