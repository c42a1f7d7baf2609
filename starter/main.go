// Command starter is the operator's CLI for tiershift: it migrates the
// database, imports partners, forecasts and previews a campaign, launches it,
// and inspects and steers the running workflows.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

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

// commands registers every subcommand; each file adds its own in init.
var commands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "starter",
		Short:         "Plan, launch, inspect and steer a tiershift partner-program campaign",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, c := range commands {
		root.AddCommand(c())
	}
	return root
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
	if errors.As(err, &in) || isFlagError(err) {
		return exitInput
	}
	return exitFailure
}
