package main

import (
	"bufio"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// TestCommandLineErrorsExitTwo covers each way cobra refuses a command line,
// recognised through its hooks (flag errors, argument checks, required
// flags, unknown commands) and never by the error's text.
func TestCommandLineErrorsExitTwo(t *testing.T) {
	// Nothing is reached: the command line is refused first.
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:24050/none?sslmode=disable&connect_timeout=2")
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"unknown flag":       {[]string{"report", "--campaign", "c", "--colour"}, "unknown flag: --colour"},
		"flag needs a value": {[]string{"report", "--campaign"}, "flag needs an argument"},
		"invalid value":      {[]string{"launch", "--campaign", "c", "--program", "p.yaml", "--rate", "fast"}, `invalid argument "fast"`},
		"required flag":      {[]string{"report"}, `required flag(s) "campaign" not set`},
		"too many arguments": {[]string{"import", "--campaign", "c", "a.csv", "b.csv"}, "accepts 1 arg(s), received 2"},
		"no argument":        {[]string{"import", "--campaign", "c"}, "accepts 1 arg(s), received 0"},
		"unknown command":    {[]string{"lanch"}, `unknown command "lanch" for "starter"; did you mean launch?`},
		"bad log format":     {[]string{"report", "--campaign", "c", "--log-format", "xml"}, `--log-format "xml"`},
	} {
		_, errOut, code := opsRun(t, c.args...)
		if code != exitInput || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, want %d and %q in:\n%s", name, code, exitInput, c.want, errOut)
		}
	}
	// A failure that is not the input's stays exit 1.
	if _, errOut, code := opsRun(t, "report", "--campaign", "c"); code != exitFailure {
		t.Errorf("unreachable database: exit %d, want %d\n%s", code, exitFailure, errOut)
	}
}

// duration is a logged duration with its unit, as Go writes it.
var duration = regexp.MustCompile(`^[0-9.]+(ns|µs|ms|s)$|^([0-9]+h)?([0-9]+m)?[0-9.]+s$`)

// TestLogFormatChoosesSentencesOrStructuredLines runs an import in each
// output mode: a person gets the sentence and no info line; --log-format
// json (or LOG_FORMAT=json) gets one JSON line with the counts and a
// duration with its unit, and no sentence.
func TestLogFormatChoosesSentencesOrStructuredLines(t *testing.T) {
	starterDB(t)
	t.Setenv("LOG_LEVEL", "info") // the structured lines are info lines
	file := writeFile(t, "partners.csv", goodFile)
	const sentence = "imported "

	out, errOut, code := opsRun(t, "import", "--campaign", "c1", file)
	if code != 0 || !strings.Contains(out, sentence+file) || strings.Contains(out+errOut, "partners imported") || strings.Contains(errOut, "{") {
		t.Fatalf("console: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}

	for name, env := range map[string]struct{ envFormat, flag string }{
		"flag":        {"console", "json"},
		"environment": {"json", ""},
	} {
		t.Setenv("LOG_FORMAT", env.envFormat)
		args := []string{"import", "--campaign", "c1", file}
		if env.flag != "" {
			args = append(args, "--log-format", env.flag)
		}
		out, errOut, code := opsRun(t, args...)
		if code != 0 || strings.Contains(out, sentence) {
			t.Fatalf("%s: exit %d, want no sentence\nstdout:\n%s\nstderr:\n%s", name, code, out, errOut)
		}
		line := findLogLine(t, errOut, "partners imported")
		if line == nil {
			t.Fatalf("%s: no JSON line \"partners imported\" in:\n%s", name, errOut)
		}
		if line["unchanged"] != 3.0 || line["campaign_id"] != "c1" {
			t.Errorf("%s: line %v", name, line)
		}
		if took, _ := line["took"].(string); !duration.MatchString(took) {
			t.Errorf("%s: took = %v, want a duration with its unit", name, line["took"])
		}
	}

	// The flag wins over the environment.
	t.Setenv("LOG_FORMAT", "json")
	out, errOut, _ = opsRun(t, "import", "--campaign", "c1", file, "--log-format", "console")
	if !strings.Contains(out, sentence) || strings.Contains(errOut, "{") {
		t.Errorf("--log-format console over LOG_FORMAT=json:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}
}

// findLogLine returns the first JSON log line of text whose message is msg.
func findLogLine(t *testing.T, text, msg string) map[string]any {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["message"] == msg {
			return m
		}
	}
	return nil
}
