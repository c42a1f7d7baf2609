package deploytest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A number scripts/cluster.sh puts into port arithmetic or the server's
// config must be refused by name before anything happens: bash would turn
// CLUSTER_PPROF_BASE=74x0 into another port without a word.
func TestClusterScriptRefusesABadNumber(t *testing.T) {
	for _, v := range []string{"CLUSTER_PORT_BASE", "CLUSTER_UI_PORT", "CLUSTER_METRICS_BASE", "CLUSTER_HISTORY_SHARDS", "CLUSTER_DB_PORT", "CLUSTER_PPROF_BASE"} {
		for _, bad := range []string{"74x0", "0", "-1", "07240"} {
			t.Run(v+"="+bad, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "cluster")
				cmd := exec.Command("bash", filepath.Join(root(t), "scripts", "cluster.sh"), "up")
				cmd.Env = append(os.Environ(), v+"="+bad, "CLUSTER_DIR="+dir)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() != 2 {
					t.Fatalf("exit %v, want 2; stderr: %s", err, stderr.String())
				}
				if want := v + "=" + bad + ": want a whole number > 0"; !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q does not say %q", stderr.String(), want)
				}
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a refused run created %s (%v)", dir, err)
				}
			})
		}
	}
}
