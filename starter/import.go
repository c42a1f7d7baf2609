package main

import (
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

type importOptions struct {
	campaign    string
	programFile string
	encoding    string
	skipInvalid bool
}

func newImportCmd() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import --campaign ID [--program P.yaml] [--skip-invalid] PARTNERS.csv",
		Short: "Import or update partners from a partner file and enroll them in a campaign",
		Long: `Import reads the partner file once, checking every row (and, when a program
is known, every tier and fact name against it) while it streams the valid rows
into PostgreSQL. Every problem is reported as file:line: column: message; if
there is any, the transaction is rolled back, nothing is imported and the exit
code is 2, unless --skip-invalid imports the valid rows only.

The rows are merged in one transaction: new partners are inserted, changed ones
updated (each changed fact is recorded with its old and new value), identical
ones left alone, so importing the same file again changes nothing. Every
partner in the file is enrolled in the campaign, which is created as a draft if
needed.

The program is --program, else the one stored with the campaign at launch.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, o, args[0])
		},
	}
	f := cmd.Flags()
	campaignFlag(f, &o.campaign)
	f.StringVar(&o.programFile, "program", "", "program file (YAML) to check tiers and fact names against")
	f.BoolVar(&o.skipInvalid, "skip-invalid", false, "import the valid rows and skip the invalid ones")
	encodingFlag(f, &o.encoding)
	_ = cmd.MarkFlagRequired("campaign")
	return cmd
}

func runImport(cmd *cobra.Command, o importOptions, file string) error {
	if o.campaign == "" {
		return badInputf("--campaign must not be empty")
	}
	ctx := cmd.Context()
	cfg, err := loadConfig(ctx)
	if err != nil {
		return err
	}
	log, tell := newLogger(cmd.ErrOrStderr(), cfg)
	log = log.With().Str(logging.CampaignID, o.campaign).Str("file", file).Logger()

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
			tell.say(cmd.ErrOrStderr(), log, "checking the file against the campaign's stored program",
				func(e *zerolog.Event) *zerolog.Event { return e.Str("program", c.ProgramID) },
				"checking %s against program %s, stored with campaign %s\n", file, c.ProgramID, o.campaign)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
	}

	start := time.Now()
	f, err := os.Open(file)
	if err != nil {
		return badInput(err)
	}
	defer f.Close()
	r, err := partnerfile.NewReaderWith(f, file, partnerfile.Options{Encoding: o.encoding})
	if err != nil {
		if errs := partnerfile.Errors(err); errs != nil {
			for _, e := range errs {
				fmt.Fprintln(cmd.ErrOrStderr(), e)
			}
			return badInputf("%s: %d problem(s) in the header; nothing imported", file, len(errs))
		}
		return badInput(err)
	}
	if prog != nil {
		r.CheckWith(prog)
	}
	if n := r.Notice(); n != "" {
		fmt.Fprintln(cmd.ErrOrStderr(), n)
	}
	v := &checkedRows{r: r, file: file, skipInvalid: o.skipInvalid}
	res, err := st.ImportPartners(ctx, o.campaign, v, "import:"+filepath.Base(file))
	for _, p := range v.problems {
		fmt.Fprintln(cmd.ErrOrStderr(), p)
	}
	if errors.Is(err, errInvalidRows) {
		return badInputf("%s: %d problems in %d of %d rows; nothing imported (fix them, or pass --skip-invalid to import the valid rows)",
			file, len(v.problems), v.badRows, v.rows)
	}
	if err != nil { // an inputError (the file became unreadable) still exits 2
		return err
	}
	if v.badRows > 0 {
		log.Warn().Int("invalid_rows", v.badRows).Int("problems", len(v.problems)).Msg("skipped invalid rows")
	}
	summary := fmt.Sprintf("imported %s into campaign %s: %s", file, o.campaign, res)
	if v.badRows > 0 {
		summary += fmt.Sprintf("; skipped %d invalid rows", v.badRows)
	}
	tell.say(cmd.OutOrStdout(), log, "partners imported", importFields(res, v.badRows, time.Since(start)), "%s\n", summary)

	// The re-import -> Signal path: partners whose facts changed are told
	// through their running workflows, which re-read and re-evaluate.
	if len(res.FactsChangedIDs) > 0 {
		if err := notifyFactsChanged(ctx, cmd.OutOrStdout(), cfg, st, log, tell, o.campaign, res.FactsChangedIDs); err != nil {
			return fmt.Errorf("import committed, but telling the workflows of %d partners whose facts changed failed: %w",
				len(res.FactsChangedIDs), err)
		}
	}
	return nil
}

// importFields are an import's counts, for its structured line.
func importFields(res store.ImportResult, skipped int, took time.Duration) func(*zerolog.Event) *zerolog.Event {
	return func(e *zerolog.Event) *zerolog.Event {
		return e.Int64("rows", res.Rows).Int64("inserted", res.Inserted).Int64("updated", res.Updated).
			Int64("unchanged", res.Unchanged).Int64("facts_changed", res.FactsChanged).
			Int64("enrolled", res.Enrolled).Int64("enrollments_updated", res.EnrollmentsUpdated).
			Int64("enrollments_kept", res.EnrollmentsKept).Int64("tier_kept", res.TierKept).
			Int("skipped", skipped).Str("took", logging.Duration(took))
	}
}

// errInvalidRows ends the row stream of a file with problems when invalid
// rows may not be skipped, so that the import rolls back.
var errInvalidRows = errors.New("the partner file has invalid rows")

// checkedRows streams a partner file's valid rows into the import while it
// collects every problem the reader finds (a partner ID given twice among
// them, and rows the program refuses when the reader checks with one). Invalid rows are
// never passed on. Unless skipInvalid, a
// file with any problem ends with errInvalidRows instead of io.EOF (after
// reading to the end, so every problem is reported), and once a problem is
// found no further row is passed on: the import will be rolled back anyway.
type checkedRows struct {
	r           *partnerfile.Reader
	file        string
	skipInvalid bool

	rows, badRows int
	problems      []string
}

func (c *checkedRows) Next() (partnerfile.Row, error) {
	for {
		row, err := c.r.Next()
		if errors.Is(err, io.EOF) {
			if len(c.problems) > 0 && !c.skipInvalid {
				return row, errInvalidRows
			}
			return row, io.EOF
		}
		if errs := partnerfile.Errors(err); errs != nil {
			c.rows++
			c.record(errs...)
			continue
		}
		if err != nil {
			return row, badInputf("%s: %v", c.file, err)
		}
		c.rows++
		if c.skipInvalid || len(c.problems) == 0 {
			return row, nil
		}
	}
}

// UniquePartnerIDs tells the import that no partner ID comes twice: the
// partner file reader refuses a duplicate, and only its valid rows pass.
func (c *checkedRows) UniquePartnerIDs() bool { return true }

// record counts one bad row with its problems, if it has any.
func (c *checkedRows) record(errs ...*partnerfile.RowError) {
	if len(errs) == 0 {
		return
	}
	c.badRows++
	for _, e := range errs {
		c.problems = append(c.problems, e.Error())
	}
}
