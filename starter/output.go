package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/logging"
)

// logFormatFlag overrides LOG_FORMAT for one command.
const logFormatFlag = "log-format"

type logFormatKey struct{}

// withLogFormat checks --log-format and passes it to loadConfig through the
// command's context.
func withLogFormat(cmd *cobra.Command) error {
	f := cmd.Flags().Lookup(logFormatFlag)
	if f == nil || !f.Changed {
		return nil
	}
	if !slices.Contains(logging.Formats, f.Value.String()) {
		return badInputf("--%s %q: want one of %v", logFormatFlag, f.Value.String(), logging.Formats)
	}
	cmd.SetContext(context.WithValue(cmd.Context(), logFormatKey{}, f.Value.String()))
	return nil
}

// loadConfig reads the configuration from the environment, with the
// command line's --log-format, if any, over LOG_FORMAT.
func loadConfig(ctx context.Context) (config.Config, error) {
	cfg, err := config.FromEnv()
	if err != nil {
		return cfg, badInput(err)
	}
	if f, ok := ctx.Value(logFormatKey{}).(string); ok {
		cfg.LogFormat = f
	}
	return cfg, nil
}

// teller says what a step did exactly once: a plain sentence for a person,
// or, when logs are JSON, one structured line with the same facts as fields.
// Commands tell their steps through it and log only warnings and errors
// besides, so no log line repeats a sentence.
type teller struct{ json bool }

// newLogger returns the command's logger on errOut and its teller.
func newLogger(errOut io.Writer, cfg config.Config) (zerolog.Logger, teller) {
	return logging.New(errOut, cfg.LogFormat, cfg.LogLevel), teller{json: logging.IsJSON(errOut, cfg.LogFormat)}
}

// say reports one step: the info line msg with fields on log in JSON mode,
// else the sentence (format, args) on out.
func (t teller) say(out io.Writer, log zerolog.Logger, msg string, fields func(*zerolog.Event) *zerolog.Event,
	format string, args ...any) {
	if t.json {
		fields(log.Info()).Msg(msg)
		return
	}
	fmt.Fprintf(out, format, args...)
}
