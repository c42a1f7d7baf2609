package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiershift/tiershift/internal/servicetest"
)

// EnvClusterPorts names the ports a private cluster may take ("55470-55479"),
// so that several people sharing one machine keep out of each other's way.
// Unset, the cluster takes a port the kernel reports free.
const EnvClusterPorts = "TIERSHIFT_TEST_PG_PORTS"

// EnvPGBinDir names the directory of initdb and pg_ctl when they are not in
// Debian's /usr/lib/postgresql/<version>/bin or on PATH.
const EnvPGBinDir = "TIERSHIFT_TEST_PG_BINDIR"

// Cluster is a PostgreSQL server a test created for itself: its own data
// directory and port. A test that stops PostgreSQL to inject an outage stops
// this one, so nobody else sharing the machine loses their connections.
type Cluster struct {
	// URL connects to the cluster's "postgres" database as its superuser.
	URL string
	// Port is the TCP port it listens on (127.0.0.1 only).
	Port int

	t       testing.TB
	bin     string
	root    string
	dataDir string
	logFile string
	owner   *user.User // nil: this process's user runs the server
	dbs     []*DB      // made by NewDB: their pools are reset by Start
}

// NewCluster runs initdb and starts a server on a free port; the server is
// stopped and its files removed when the test ends. Where PostgreSQL's
// binaries are missing it reports the service unavailable (a failure under CI).
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := pgBinDir()
	if err != nil {
		servicetest.Unavailable(t, "PostgreSQL server binaries (initdb, pg_ctl)", err)
	}
	c := &Cluster{t: t, bin: bin}
	// initdb refuses to run as root: the server then runs as the postgres
	// user (or nobody), which must be able to reach its directory.
	if os.Geteuid() == 0 {
		if c.owner, err = unprivilegedUser(); err != nil {
			t.Fatalf("pgtest: running as root and %v", err)
		}
	}
	root, err := os.MkdirTemp("", "tiershift-pgtest-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c.root = root
	c.dataDir = filepath.Join(root, "data")
	c.logFile = filepath.Join(root, "run", "server.log") // written by the owner
	if err := c.chownNew(c.dataDir, 0o700); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := c.chownNew(filepath.Join(root, "run"), 0o755); err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	// trust on 127.0.0.1 only: a throwaway cluster with nothing to guard,
	// reachable from this machine only, for as long as one test runs.
	if out, err := c.run("initdb", "-D", c.dataDir, "-U", "tiershift", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"); err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 200\n",
		filepath.Join(root, "run"))
	if err := appendFile(filepath.Join(c.dataDir, "postgresql.conf"), conf); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := c.startOnFreePort(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if out, err := c.run("pg_ctl", "-D", c.dataDir, "stop", "-m", "immediate"); err != nil && c.running() {
			t.Logf("pgtest: stop private cluster: %v\n%s", err, out)
		}
	})
	return c
}

// Stop shuts the server down at once (pg_ctl -m fast), as an outage would.
func (c *Cluster) Stop() {
	c.t.Helper()
	if out, err := c.run("pg_ctl", "-D", c.dataDir, "stop", "-m", "fast", "-w"); err != nil {
		c.t.Fatalf("pgtest: stop cluster on port %d: %v\n%s", c.Port, err, out)
	}
}

// Start brings the server back on the same port and waits until it accepts
// connections. The pools of the test's own DBs drop the connections the
// outage killed, so the test's next query does not pay for the outage it
// injected (the processes under test must recover on their own).
func (c *Cluster) Start() {
	c.t.Helper()
	if err := c.start(); err != nil {
		c.t.Fatalf("pgtest: %v", err)
	}
	for _, db := range c.dbs {
		db.Pool.Reset()
	}
}

// NewDB gives the test a freshly migrated schema in this cluster, like New
// does in the shared one.
func (c *Cluster) NewDB(t testing.TB) *DB {
	t.Helper()
	db := newIn(t, c.URL)
	c.dbs = append(c.dbs, db)
	return db
}

func (c *Cluster) startOnFreePort() error {
	ports, err := candidatePorts()
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ports {
		c.Port = p
		if err := c.start(); err != nil {
			// Another process may have taken it since we looked.
			errs = append(errs, err)
			continue
		}
		c.URL = fmt.Sprintf("postgres://tiershift@127.0.0.1:%d/postgres?sslmode=disable", p)
		return nil
	}
	return fmt.Errorf("no port of %v would serve a private cluster: %w", ports, errors.Join(errs...))
}

func (c *Cluster) start() error {
	out, err := c.run("pg_ctl", "-D", c.dataDir, "-l", c.logFile, "-o", "-p "+strconv.Itoa(c.Port), "-w", "-t", "60", "start")
	if err != nil {
		log, _ := os.ReadFile(c.logFile)
		return fmt.Errorf("start cluster on port %d: %v\n%s\n%s", c.Port, err, out, tailLines(string(log), 10))
	}
	return nil
}

func (c *Cluster) running() bool {
	_, err := c.run("pg_ctl", "-D", c.dataDir, "status")
	return err == nil
}

// run runs one of PostgreSQL's programs as the cluster's owner.
func (c *Cluster) run(prog string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name, argv := filepath.Join(c.bin, prog), args
	if c.owner != nil {
		name, argv = "runuser", append([]string{"-u", c.owner.Username, "--", name}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	// A directory the owner may enter (root's home is not one).
	cmd.Dir = c.root
	// pg_ctl start is always given a log file (-l), so the server it leaves
	// running does not hold this output open.
	return cmd.CombinedOutput()
}

// chownNew creates dir and hands it to the cluster's owner.
func (c *Cluster) chownNew(dir string, mode os.FileMode) error {
	if err := os.Mkdir(dir, mode); err != nil {
		return err
	}
	if c.owner == nil {
		return nil
	}
	uid, err := strconv.Atoi(c.owner.Uid)
	if err != nil {
		return err
	}
	gid, err := strconv.Atoi(c.owner.Gid)
	if err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

func unprivilegedUser() (*user.User, error) {
	for _, name := range []string{"postgres", "nobody"} {
		if u, err := user.Lookup(name); err == nil {
			return u, nil
		}
	}
	return nil, errors.New("neither a postgres nor a nobody user exists to run initdb as")
}

// pgBinDir finds initdb and pg_ctl: the environment, then Debian's
// versioned directories (newest first), then PATH.
func pgBinDir() (string, error) {
	if dir := os.Getenv(EnvPGBinDir); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", fmt.Errorf("initdb not found in /usr/lib/postgresql/*/bin, on PATH or in %s (apt-get install postgresql)", EnvPGBinDir)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// candidatePorts is the EnvClusterPorts range, or one port the kernel just
// handed out and took back.
func candidatePorts() ([]int, error) {
	if spec := os.Getenv(EnvClusterPorts); spec != "" {
		lo, hi, ok := strings.Cut(spec, "-")
		if !ok {
			hi = lo
		}
		a, errA := strconv.Atoi(strings.TrimSpace(lo))
		b, errB := strconv.Atoi(strings.TrimSpace(hi))
		if errA != nil || errB != nil || a > b {
			return nil, fmt.Errorf("%s=%q: want a port or a range like 55470-55479", EnvClusterPorts, spec)
		}
		var ports []int
		for p := a; p <= b; p++ {
			if free(p) {
				ports = append(ports, p)
			}
		}
		if len(ports) == 0 {
			return nil, fmt.Errorf("%s=%s: every port is taken", EnvClusterPorts, spec)
		}
		return ports, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return []int{p}, nil
}

func free(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ping reports whether the cluster accepts a connection now.
func (c *Cluster) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}
