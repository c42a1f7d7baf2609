package deploytest

import (
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// clusterSetting reads NAME=value (or NAME=${VAR:-value}) from
// scripts/cluster.sh, the definition `make cluster` runs.
func clusterSetting(t *testing.T, script, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + name + `=(?:\$\{[A-Z_]+:-)?([^}\s]+)\}?`)
	m := re.FindStringSubmatch(script)
	if m == nil {
		t.Fatalf("scripts/cluster.sh sets no %s", name)
	}
	return m[1]
}

func imageTag(t *testing.T, s service) string {
	t.Helper()
	_, tag, ok := strings.Cut(s.Image, ":")
	if !ok {
		t.Fatalf("image %q has no tag", s.Image)
	}
	return tag
}

// docker-compose.yml is the containers' twin of `make cluster`, which is the
// one that runs here and in front of the tests: the same server and UI
// versions, the same dynamic config file, the same search attribute list
// and the same namespace retention.
func TestComposeMirrorsMakeCluster(t *testing.T) {
	script := readFile(t, "scripts/cluster.sh")
	c := loadCompose(t)
	server := strings.TrimPrefix(clusterSetting(t, script, "TEMPORAL_SERVER_VERSION"), "v")
	ui := strings.TrimPrefix(clusterSetting(t, script, "TEMPORAL_UI_VERSION"), "v")
	if got := imageTag(t, svc(t, c, "temporal")); got != server {
		t.Errorf("compose runs Temporal server %s, make cluster %s", got, server)
	}
	if got := imageTag(t, svc(t, c, "temporal-setup")); !strings.HasPrefix(got, server+"-") {
		t.Errorf("compose's admin tools are %s, not of server %s", got, server)
	}
	if got := imageTag(t, svc(t, c, "temporal-ui")); got != ui {
		t.Errorf("compose runs the Web UI %s, make cluster %s", got, ui)
	}

	// The dynamic config: the file compose mounts is the file the cluster reads.
	dc := clusterSetting(t, script, "DYNAMIC_CONFIG")
	temporal := svc(t, c, "temporal")
	host := hostPathFor(t, temporal, path.Join("/etc/temporal", temporal.Environment["DYNAMIC_CONFIG_FILE_PATH"]))
	if want := filepath.Join(root(t), dc); host != want {
		t.Errorf("compose's dynamic config is %q, make cluster's %q", host, want)
	}

	// One search attribute list for both.
	if !strings.Contains(script, "<"+SearchAttributesFile) {
		t.Errorf("scripts/cluster.sh does not read %s", SearchAttributesFile)
	}
	setup := svc(t, c, "temporal-setup")
	if got := hostPathFor(t, setup, setup.Environment["SEARCH_ATTRIBUTES_FILE"]); got != filepath.Join(root(t), SearchAttributesFile) {
		t.Errorf("compose's search attributes come from %q, make cluster's from %s", got, SearchAttributesFile)
	}

	// The namespace both create keeps closed histories as long.
	if got, want := temporal.Environment["DEFAULT_NAMESPACE_RETENTION"], clusterSetting(t, script, "RETENTION"); got != want {
		t.Errorf("compose's retention %q, make cluster's %q", got, want)
	}
	// Both store persistence and visibility in PostgreSQL with the same plugin.
	if got := temporal.Environment["DB"]; !strings.Contains(script, "pluginName: "+got) || !strings.Contains(script, "--plugin "+got) {
		t.Errorf("compose's DB plugin %q is not the one scripts/cluster.sh configures", got)
	}
}
