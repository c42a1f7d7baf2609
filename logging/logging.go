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

// Formats are the log formats New knows.
var Formats = []string{"auto", "json", "console"}

// New returns a logger writing to w. format is "json", "console" or "auto"
// (console when w is a terminal); level is a zerolog level name.
func New(w io.Writer, format, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		lvl = zerolog.InfoLevel
	}
	if !IsJSON(w, format) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// IsJSON reports whether New writes JSON lines to w in format: for "json",
// and for "auto" unless w is a terminal. A command tells a person in
// sentences and a machine in JSON lines by this same rule.
func IsJSON(w io.Writer, format string) bool {
	return format != "console" && (format != "auto" || !isTerminal(w))
}

// Duration is d as text with its unit, rounded for a reader ("47.3s",
// "250ms", "2m5s"). Log it with Str: zerolog's Dur writes a bare number
// that leaves the reader guessing the unit.
func Duration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.String()
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
