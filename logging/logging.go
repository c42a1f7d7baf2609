// Package logging builds tiershift's zerolog loggers: JSON for machines, a
// console writer when a person is watching a terminal.
package logging

import (
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Field names every log line about a partner carries, so an operator can
// grep or filter one campaign or one partner across all processes.
const (
	CampaignID = "campaign_id"
	PartnerID  = "partner_id"
	WorkflowID = "workflow_id"
)

// New returns a logger writing to w. format is "json", "console" or "auto"
// (console when w is a terminal); level is a zerolog level name.
func New(w io.Writer, format, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	if format == "console" || (format == "auto" && isTerminal(w)) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Redact hides a secret in a log line while still saying whether it is set.
func Redact(secret string) string {
	if secret == "" {
		return "(unset)"
	}
	return "(set, redacted)"
}
