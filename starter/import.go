package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/logging"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/store"
)

func init() { commands = append(commands, newImportCmd) }

// afterImport, when set, is called after a successful import with the
// partners whose facts changed, so their running workflows can be told
// (signalled) to re-evaluate. The lead wires it to the Temporal client; nil
// means nobody is told.
var afterImport func(ctx context.Context, campaignID string, changed []string) error

type importOptions struct {
	campaign    string
	programFile string
	skipInvalid bool
}

func newImportCmd() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --campaign ID [--program P.yaml] [--skip-invalid] PARTNERS.csv",
		Short: "Import or update partners from a partner file and enroll them in a campaign",
		Long: `Import reads the partner file twice. The first pass checks every row (and,
when a program is known, every tier and fact name against it) and reports every
problem as file:line: column: message; if there is any, nothing is imported
and the exit code is 2, unless --skip-invalid imports the valid rows only.

The second pass streams the rows into PostgreSQL and merges them in one
transaction: new partners are inserted, changed ones updated (each changed fact
is recorded with its old and new value), identical ones left alone, so
importing the same file again changes nothing. Every partner in the file is
enrolled in the campaign, which is created as a draft if needed.

The program is --program, else the one stored with the campaign at launch.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.campaign, "campaign", "", "campaign ID")
	f.StringVar(&o.programFile, "program", "", "program file (YAML) to check tiers and fact names against")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "import the valid rows and skip the invalid ones")
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

func runImport(cmd *cobra.Command, o importOptions, file string) error {
	if o.campaign == "" {
		return badInputf("--campaign must not be empty")
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	log := cmdLogger(cmd, cfg).With().Str(logging.CampaignID, o.campaign).Str("file", file).Logger()

	var prog *program.Program
	if o.programFile != "" {
		data, err := os.ReadFile(o.programFile)
		if err != nil {
			return badInput(err)
		}
		if prog, err = program.Load(o.programFile, data); err != nil {
			return badInput(err)
		}
	}
	// Fail on an unreadable file before connecting.
	if _, err := os.Stat(file); err != nil {
		return badInput(err)
	}

	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)

	if prog == nil {
		c, err := st.GetCampaign(ctx, o.campaign)
		switch {
		case err == nil && c.Program != nil:
			prog = c.Program
			log.Info().Str("program", c.ProgramID).Msg("checking the file against the campaign's stored program")
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}

	start := time.Now()
	v, err := validatePartnerFile(file, prog)
	if err != nil {
		return err
	}
	for _, p := range v.problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p)
	}
	if len(v.problems) > 0 {
		if !o.skipInvalid {
			return badInputf("%s: %d problems in %d of %d rows; nothing imported (fix them, or pass --skip-invalid to import the valid rows)",
				file, len(v.problems), len(v.badLines), v.rows)
		}
		log.Warn().Int("invalid_rows", len(v.badLines)).Int("problems", len(v.problems)).Msg("skipping invalid rows")
	}

	f, err := os.Open(file)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	r, err := partnerfile.NewReader(f, file)
	if err != nil {
		return badInput(err)
	}
	res, err := st.ImportPartners(ctx, o.campaign, &validRows{r: r, bad: v.badLines}, "import:"+filepath.Base(file))
	if err != nil {
		return err
	}
	logImport(log, res, len(v.badLines), time.Since(start))
	summary := fmt.Sprintf("imported %s into campaign %s: %s", file, o.campaign, res)
	if len(v.badLines) > 0 {
		summary += fmt.Sprintf("; skipped %d invalid rows", len(v.badLines))
	}
	fmt.Fprintln(cmd.OutOrStdout(), summary)

	if afterImport != nil && len(res.FactsChangedIDs) > 0 {
		if err := afterImport(ctx, o.campaign, res.FactsChangedIDs); err != nil {
			return fmt.Errorf("import committed, but telling the workflows of %d partners whose facts changed failed: %w",
				len(res.FactsChangedIDs), err)
		}
	}
	return nil
}

func logImport(log zerolog.Logger, res store.ImportResult, skipped int, took time.Duration) {
	log.Info().
		Int64("rows", res.Rows).Int64("inserted", res.Inserted).Int64("updated", res.Updated).
		Int64("unchanged", res.Unchanged).Int64("facts_changed", res.FactsChanged).
		Int64("enrolled", res.Enrolled).Int64("enrollments_updated", res.EnrollmentsUpdated).
		Int64("enrollments_kept", res.EnrollmentsKept).Int64("tier_kept", res.TierKept).
		Int("skipped", skipped).Dur("took", took).
		Msg("partners imported")
}

// validation is what the first pass found.
type validation struct {
	rows     int
	problems []string
	// badLines are the lines of rows with a problem, skipped by --skip-invalid.
	badLines map[int]bool
}

// validatePartnerFile reads the whole file, collecting every problem: row
// errors, rows the program refuses, and partner IDs given twice.
func validatePartnerFile(file string, prog *program.Program) (validation, error) {
	v := validation{badLines: map[int]bool{}}
	f, err := os.Open(file)
	if err != nil {
		return v, badInput(err)
	}
	defer f.Close()
	r, err := partnerfile.NewReader(f, file)
	if err != nil {
		return v, badInput(err)
	}
	firstLine := map[string]int{}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *partnerfile.RowError
		if errors.As(err, &rowErr) {
			v.rows++
			v.problems = append(v.problems, formatRowError(file, rowErr))
			v.badLines[rowErr.Line] = true
			continue
		}
		if err != nil {
			return v, badInputf("%s: %v", file, err)
		}
		v.rows++
		if prog != nil {
			for _, e := range partnerfile.CheckAgainst(prog, row) {
				v.problems = append(v.problems, formatRowError(file, e))
				v.badLines[row.Line] = true
			}
		}
		if first, dup := firstLine[row.PartnerID]; dup {
			v.problems = append(v.problems, formatRowError(file, &partnerfile.RowError{File: file, Line: row.Line,
				Column: "partner_id", Message: fmt.Sprintf("partner %q is already on line %d", row.PartnerID, first)}))
			v.badLines[row.Line] = true
		} else {
			firstLine[row.PartnerID] = row.Line
		}
	}
	return v, nil
}

func formatRowError(file string, e *partnerfile.RowError) string {
	if e.File != "" {
		file = e.File
	}
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %s", file, e.Line, e.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", file, e.Line, e.Column, e.Message)
}

// validRows streams the rows the first pass found valid.
type validRows struct {
	r   *partnerfile.Reader
	bad map[int]bool
}

func (v *validRows) Next() (partnerfile.Row, error) {
	for {
		row, err := v.r.Next()
		var rowErr *partnerfile.RowError
		if errors.As(err, &rowErr) && v.bad[rowErr.Line] {
			continue
		}
		if err != nil {
			return row, err // io.EOF, or the file changed since it was checked
		}
		if v.bad[row.Line] {
			continue
		}
		return row, nil
	}
}
