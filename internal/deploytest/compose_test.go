package deploytest

import (
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.temporal.io/api/enums/v1"
	"gopkg.in/yaml.v3"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/workflows"
)

// compose is the part of docker-compose.yml these tests read.
type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string      `yaml:"image"`
	Build       any         `yaml:"build"`
	Environment environment `yaml:"environment"`
	Ports       []string    `yaml:"ports"`
	Volumes     []string    `yaml:"volumes"`
	DependsOn   dependsOn   `yaml:"depends_on"`
	Entrypoint  []string    `yaml:"entrypoint"`
	Command     []string    `yaml:"command"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Deploy struct {
		Replicas int `yaml:"replicas"`
	} `yaml:"deploy"`
}

// environment accepts both compose forms: a map, or a list of KEY=VALUE.
type environment map[string]string

func (e *environment) UnmarshalYAML(n *yaml.Node) error {
	*e = environment{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			(*e)[k] = v
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			(*e)[k] = v
		}
	}
	return nil
}

// dependsOn accepts a list of names or a map name -> {condition}.
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, s := range l {
			(*d)[s] = "service_started"
		}
	case yaml.MappingNode:
		var m map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			(*d)[k] = v.Condition
		}
	}
	return nil
}

func root(t *testing.T) string {
	t.Helper()
	r, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	var c compose
	if err := yaml.Unmarshal([]byte(readFile(t, "docker-compose.yml")), &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func svc(t *testing.T, c compose, name string) service {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %q (has %v)", name, keys(c.Services))
	}
	return s
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// interpolate resolves ${VAR:-default} and ${VAR} the way compose does when
// VAR is unset, so values can be checked as a container would see them.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}`)

func interpolate(s string) string {
	return interpolation.ReplaceAllString(s, "$2")
}

// published maps a service's container ports to the host ports it publishes.
func published(t *testing.T, name string, s service) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range s.Ports {
		parts := strings.Split(strings.TrimSuffix(p, "/tcp"), ":")
		if len(parts) < 2 {
			t.Fatalf("service %s: port %q publishes no fixed host port", name, p)
		}
		out[parts[len(parts)-1]] = parts[len(parts)-2]
	}
	return out
}

func TestComposeHasTheStack(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"postgres", "temporal", "temporal-setup", "temporal-ui", "migrate", "worker"} {
		s := svc(t, c, name)
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		if s.Image != "" && s.Build == nil {
			if _, tag, ok := strings.Cut(path.Base(s.Image), ":"); !ok || tag == "latest" {
				t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
			}
		}
	}
	if got := svc(t, c, "postgres").Image; !strings.HasPrefix(got, "postgres:15") {
		t.Errorf("postgres image = %q, want postgres:15 (the version the code is tested against)", got)
	}
	if hc := svc(t, c, "postgres").Healthcheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "pg_isready") {
		t.Errorf("postgres needs a pg_isready healthcheck (others wait for service_healthy)")
	}
}

func TestComposePublishesTheLocalStackPorts(t *testing.T) {
	c := loadCompose(t)
	for _, tc := range []struct{ service, container, host string }{
		{"postgres", "5432", "5432"},
		{"temporal", "7233", "7233"},
		{"temporal-ui", "8080", "8233"},
	} {
		got := published(t, tc.service, svc(t, c, tc.service))[tc.container]
		if got != tc.host {
			t.Errorf("service %s publishes container port %s on host port %q, want %s (the ports of `make up`)", tc.service, tc.container, got, tc.host)
		}
	}
	// The dev server and the Makefile use the same ports, so the two stacks
	// are interchangeable for the starter and the Web UI link.
	script := readFile(t, "scripts/temporal.sh")
	if !strings.Contains(script, "localhost:7233") || !strings.Contains(readFile(t, "Makefile"), "http://localhost:8233") {
		t.Errorf("scripts/temporal.sh / Makefile no longer use localhost:7233 and UI port 8233 like docker-compose.yml")
	}
	if !strings.Contains(config.DefaultDatabaseURL, "@localhost:5432/") || config.DefaultTemporalAddress != "localhost:7233" {
		t.Errorf("config defaults (%s, %s) do not match the ports docker-compose.yml publishes", config.DefaultDatabaseURL, config.DefaultTemporalAddress)
	}
}

func TestTiershiftServicesUseOnlyConfigVariables(t *testing.T) {
	c := loadCompose(t)
	known := config.Names()
	for _, name := range []string{"worker", "migrate"} {
		s := svc(t, c, name)
		for k, v := range s.Environment {
			if !slices.Contains(known, k) {
				t.Errorf("service %s sets %s, which config does not read (config.Names() = %v)", name, k, known)
			}
			// Whatever compose passes must be accepted by config.
			t.Setenv(k, interpolate(v))
		}
		if _, err := config.FromEnv(); err != nil {
			t.Errorf("service %s: config rejects its environment: %v", name, err)
		}
		for k := range s.Environment {
			if err := os.Unsetenv(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	w := svc(t, c, "worker")
	for _, k := range []string{config.EnvDatabaseURL, config.EnvTemporalAddress, config.EnvTemporalNamespace,
		config.EnvTaskQueue, config.EnvEmailTaskQueue, config.EnvEmailRate, config.EnvSendGridAPIKey, config.EnvLogFormat} {
		if _, ok := w.Environment[k]; !ok {
			t.Errorf("worker does not set %s", k)
		}
	}
	if got := w.Environment[config.EnvSendGridAPIKey]; got != "${SENDGRID_API_KEY:-}" {
		t.Errorf("worker SENDGRID_API_KEY = %q, want it passed through from the host as ${SENDGRID_API_KEY:-} (never a literal key)", got)
	}
	if w.Environment[config.EnvLogFormat] != "json" {
		t.Errorf("worker LOG_FORMAT = %q, want json in containers", w.Environment[config.EnvLogFormat])
	}
	if w.Deploy.Replicas < 2 {
		t.Errorf("worker replicas = %d, want >= 2 to show several workers sharing the queues", w.Deploy.Replicas)
	}
}

func TestDatabaseURLsPointAtComposePostgres(t *testing.T) {
	c := loadCompose(t)
	pg := svc(t, c, "postgres").Environment
	for _, name := range []string{"worker", "migrate"} {
		raw := svc(t, c, name).Environment[config.EnvDatabaseURL]
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("%s DATABASE_URL %q: %v", name, raw, err)
		}
		pass, _ := u.User.Password()
		if u.Hostname() != "postgres" || u.Port() != "5432" {
			t.Errorf("%s DATABASE_URL host = %s, want the postgres service at postgres:5432", name, u.Host)
		}
		if u.User.Username() != pg["POSTGRES_USER"] || pass != pg["POSTGRES_PASSWORD"] || strings.TrimPrefix(u.Path, "/") != pg["POSTGRES_DB"] {
			t.Errorf("%s DATABASE_URL %s does not match postgres POSTGRES_USER/PASSWORD/DB %s/%s/%s",
				name, raw, pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"])
		}
		if deps := svc(t, c, name).DependsOn; name == "migrate" && deps["postgres"] != "service_healthy" {
			t.Errorf("migrate must wait for postgres to be healthy, depends_on = %v", deps)
		}
	}
	tmp := svc(t, c, "temporal").Environment
	if tmp["DB"] != "postgres12" || tmp["POSTGRES_SEEDS"] != "postgres" || tmp["DB_PORT"] != "5432" {
		t.Errorf("temporal persistence DB=%s POSTGRES_SEEDS=%s DB_PORT=%s, want postgres12 on the postgres service port 5432", tmp["DB"], tmp["POSTGRES_SEEDS"], tmp["DB_PORT"])
	}
	if tmp["POSTGRES_USER"] != pg["POSTGRES_USER"] || tmp["POSTGRES_PWD"] != pg["POSTGRES_PASSWORD"] {
		t.Errorf("temporal POSTGRES_USER/PWD %s/%s do not match the postgres service's %s/%s", tmp["POSTGRES_USER"], tmp["POSTGRES_PWD"], pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"])
	}
	if svc(t, c, "temporal").DependsOn["postgres"] != "service_healthy" {
		t.Errorf("temporal must wait for postgres to be healthy")
	}
}

func TestTemporalAddressesPointAtTheTemporalService(t *testing.T) {
	c := loadCompose(t)
	port := ""
	for container := range published(t, "temporal", svc(t, c, "temporal")) {
		port = container
	}
	for _, name := range []string{"worker", "temporal-setup", "temporal-ui"} {
		addr := svc(t, c, name).Environment[config.EnvTemporalAddress]
		host, p, err := net.SplitHostPort(addr)
		if err != nil || host != "temporal" || p != port {
			t.Errorf("%s TEMPORAL_ADDRESS = %q, want temporal:%s (the temporal service's gRPC port)", name, addr, port)
		}
	}
	w := svc(t, c, "worker")
	if w.DependsOn["temporal-setup"] != "service_completed_successfully" || w.DependsOn["migrate"] != "service_completed_successfully" {
		t.Errorf("worker must start after temporal-setup and migrate complete, depends_on = %v", w.DependsOn)
	}
	if ns := w.Environment[config.EnvTemporalNamespace]; ns != svc(t, c, "temporal-setup").Environment[config.EnvTemporalNamespace] {
		t.Errorf("worker namespace %q is not the one temporal-setup registers search attributes in", ns)
	}
}

func TestTemporalDynamicConfigIsMounted(t *testing.T) {
	c := loadCompose(t)
	s := svc(t, c, "temporal")
	rel := s.Environment["DYNAMIC_CONFIG_FILE_PATH"]
	if rel == "" {
		t.Fatal("temporal sets no DYNAMIC_CONFIG_FILE_PATH")
	}
	// auto-setup resolves the path against /etc/temporal.
	inContainer := path.Join("/etc/temporal", rel)
	host := hostPathFor(t, s, inContainer)
	if host == "" {
		t.Fatalf("no volume of the temporal service provides %s (volumes %v)", inContainer, s.Volumes)
	}
	var dc map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	b, err := os.ReadFile(host)
	if err != nil {
		t.Fatalf("dynamic config: %v", err)
	}
	if err := yaml.Unmarshal(b, &dc); err != nil {
		t.Fatalf("%s: %v", host, err)
	}
	for k, vs := range dc {
		if len(vs) == 0 || vs[0].Value == nil {
			t.Errorf("%s: %s has no value", host, k)
		}
	}
	// Workflow IDs go into varchar(255) columns of SQL visibility.
	if got := dc["limit.maxIDLength"]; len(got) == 0 || got[0].Value != 255 {
		t.Errorf("%s: limit.maxIDLength should be 255 for SQL persistence, got %v", host, got)
	}
	// A testing aid of the server ("should not be turned on in
	// production"): every visibility write and upsert would read the
	// cluster metadata from the database (BENCHMARKS.md, 2026-12-06 10:45).
	if got, ok := dc["system.forceSearchAttributesCacheRefreshOnRead"]; ok {
		t.Errorf("%s: system.forceSearchAttributesCacheRefreshOnRead is set (%v); it is for tests only", host, got)
	}
}

// hostPathFor maps a path inside a service's container to the repository file
// a bind mount provides there ("" if none does).
func hostPathFor(t *testing.T, s service, inContainer string) string {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			continue
		}
		src, dst := parts[0], parts[1]
		if inContainer == dst || strings.HasPrefix(inContainer, dst+"/") {
			p := filepath.Join(root(t), src, strings.TrimPrefix(inContainer, dst))
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

func TestSearchAttributesHaveOneList(t *testing.T) {
	want, err := RequiredSearchAttributes()
	if err != nil {
		t.Fatal(err)
	}

	// The workflow code sets exactly these, with these types.
	code := workflows.SearchAttributes()
	for _, a := range want {
		typ, ok := code[a.Name]
		if !ok {
			t.Errorf("%s lists %s, which workflows.SearchAttributes() does not", SearchAttributesFile, a.Name)
			continue
		}
		if wantType, ok := enums.IndexedValueType_value[EnumName(a.Type)]; !ok || enums.IndexedValueType(wantType) != typ {
			t.Errorf("%s: %s is %s, the code uses %s", SearchAttributesFile, a.Name, a.Type, typ)
		}
	}
	if len(code) != len(want) {
		t.Errorf("workflows.SearchAttributes() has %d attributes, %s has %d: %v vs %v", len(code), SearchAttributesFile, len(want), keys(code), want)
	}

	// docker compose: temporal-setup runs the setup script on the mounted file.
	c := loadCompose(t)
	s := svc(t, c, "temporal-setup")
	file := s.Environment["SEARCH_ATTRIBUTES_FILE"]
	if host := hostPathFor(t, s, file); host != filepath.Join(root(t), SearchAttributesFile) {
		t.Errorf("temporal-setup SEARCH_ATTRIBUTES_FILE=%s is not %s mounted from the repository (volumes %v)", file, SearchAttributesFile, s.Volumes)
	}
	cmd := append(append([]string{}, s.Entrypoint...), s.Command...)
	var script string
	for _, arg := range cmd {
		if h := hostPathFor(t, s, arg); h != "" && strings.HasSuffix(h, ".sh") {
			script = h
		}
	}
	if script == "" {
		t.Fatalf("temporal-setup runs %v, not a script mounted from the repository", cmd)
	}
	body, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SEARCH_ATTRIBUTES_FILE", "search-attribute create"} {
		if !strings.Contains(string(body), s) {
			t.Errorf("%s does not mention %q: does it still register the list?", script, s)
		}
	}

	// The dev server: scripts/temporal.sh reads the file and lists none of its own.
	sh := readFile(t, "scripts/temporal.sh")
	if !strings.Contains(sh, SearchAttributesFile) {
		t.Errorf("scripts/temporal.sh does not read %s", SearchAttributesFile)
	}
	if m := regexp.MustCompile(`--search-attribute[ =]+[A-Za-z]`).FindString(sh); m != "" {
		t.Errorf("scripts/temporal.sh hard-codes a search attribute (%q); add it to %s instead", m, SearchAttributesFile)
	}
}

func TestDockerfileBuildsTheCommands(t *testing.T) {
	df := readFile(t, "Dockerfile")
	builds := regexp.MustCompile(`go build [^\n&]*?(\./[A-Za-z0-9_/.-]+)`).FindAllStringSubmatch(df, -1)
	var pkgs []string
	for _, m := range builds {
		pkgs = append(pkgs, m[1])
	}
	for _, want := range []string{"./worker", "./starter"} {
		if !slices.Contains(pkgs, want) {
			t.Errorf("Dockerfile does not build %s (builds %v)", want, pkgs)
		}
	}
	for _, p := range pkgs {
		files, _ := filepath.Glob(filepath.Join(root(t), p, "*.go"))
		isMain := false
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if regexp.MustCompile(`(?m)^package main\b`).Match(b) {
				isMain = true
			}
		}
		if !isMain {
			t.Errorf("Dockerfile builds %s, which is not a main package in the repository", p)
		}
	}

	// The builder's Go must be the one go.mod asks for.
	gomod := readFile(t, "go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	from := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)`).FindStringSubmatch(df)
	if goVersion == nil || from == nil || from[1] != goVersion[1] {
		t.Errorf("Dockerfile builds with golang:%v, go.mod wants go %v", from, goVersion)
	}

	// The final stage runs as a non-root user.
	stages := strings.Split(df, "\nFROM ")
	last := stages[len(stages)-1]
	user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(last)
	if user == nil || strings.HasPrefix(user[1], "root") || strings.HasPrefix(user[1], "0") {
		t.Errorf("the final Dockerfile stage must run as a non-root USER, got %v", user)
	}

	// compose builds its tiershift services from this Dockerfile.
	c := loadCompose(t)
	for _, name := range []string{"worker", "migrate"} {
		if b, ok := svc(t, c, name).Build.(string); !ok || b != "." {
			t.Errorf("service %s build = %v, want . (the repository's Dockerfile)", name, svc(t, c, name).Build)
		}
	}
	if ep := svc(t, c, "migrate").Entrypoint; len(ep) == 0 || path.Base(ep[0]) != "starter" || !strings.Contains(df, "/usr/local/bin/") {
		t.Errorf("migrate entrypoint %v should run the starter the image installs in /usr/local/bin", ep)
	}
}
