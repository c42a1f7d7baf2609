// Command starter is the operator's CLI for tiershift: it migrates the
// database, imports partners, forecasts and previews a campaign, launches it,
// and inspects and steers the running workflows.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	// The zone database, in the binary: deadlines and dates read the same
	// on a machine without one (package zones uses it too).
	_ "time/tzdata"
)

// Exit codes: 0 success, 1 an operation failed, 2 the input was bad (nothing
// was changed).
const (
	exitFailure = 1
	exitInput   = 2
)

// inputError marks an error caused by bad input: flags, files or arguments.
// The command exits 2 and prints every problem.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// badInput wraps err as an input error (exit code 2).
func badInput(err error) error { return inputError{err} }

// badInputf formats an input error.
func badInputf(format string, args ...any) error { return inputError{fmt.Errorf(format, args...)} }

// newRootCmd wires every command here, in one list (help sorts them), and
// makes cobra's own refusals of a command line input errors (exit 2)
// through its hooks rather than by reading their text.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Plan, launch, inspect and steer a tiershift partner-program campaign",
		SilenceUsage:  true,
		SilenceErrors: true,
		// cobra's own default, which SuggestionsFor does not apply.
		SuggestionsMinimumDistance: 2,
		// With Args set, cobra hands an unknown command name to it instead
		// of failing in Find with an error only its text identifies.
		Args: unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// Runs before cobra's own check of required flags, so a missing
		// one is an input error like any other.
		PersistentPreRunE: checkCommandLine,
	}
	root.PersistentFlags().String(logFormatFlag, "", "log format: auto, json or console (default $LOG_FORMAT, else auto); json gives structured logs instead of sentences")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	root.AddCommand(
		newMigrateCmd(),
		newPlanCmd(),
		newPreviewCmd(),
		newImportCmd(),
		newLaunchCmd(),
		newStatusCmd(),
		newSignalCmd(),
		newExtendCmd(),
		newExemptCmd(),
		newWithdrawCmd(),
		newReportCmd(),
		newEmailsCmd(),
		newForgetCmd(),
		newWebhookCmd(),
		newCodecServerCmd(),
	)
	for _, c := range root.Commands() {
		c.Args = argsAreInput(c.Args)
	}
	return root
}

// unknownCommand refuses any argument to the root: it names no command.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return badInputf("%s", msg)
}

// argsAreInput makes a command's refusal of its arguments an input error.
func argsAreInput(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		return nil
	}
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return badInput(err)
		}
		return nil
	}
}

// checkCommandLine refuses a missing required flag or a broken flag group
// as input errors, and carries --log-format to loadConfig.
func checkCommandLine(cmd *cobra.Command, _ []string) error {
	if err := cmd.ValidateRequiredFlags(); err != nil {
		return badInput(err)
	}
	if err := cmd.ValidateFlagGroups(); err != nil {
		return badInput(err)
	}
	return withLogFormat(cmd)
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	return runWith(args, os.Stdout, os.Stderr)
}

// runWith runs the CLI with its output on the given writers (tests use it)
// and returns the process exit code.
func runWith(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "starter:", err)
	var in inputError
	if errors.As(err, &in) {
		return exitInput
	}
	return exitFailure
}
