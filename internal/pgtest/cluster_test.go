package pgtest

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

// A private cluster stops and starts on its own port while the shared server
// keeps answering: the outage a test injects reaches nobody else.
func TestClusterOutageLeavesTheSharedServerUp(t *testing.T) {
	if testing.Short() {
		t.Skip("initdb takes seconds")
	}
	shared := New(t)
	c := NewCluster(t)
	db := c.NewDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	db.Exec(t, `INSERT INTO partners (partner_id, name, email, locale, tier) VALUES ('p1','A','a@example.com','en','Gold')`)
	c.Stop()
	if err := c.ping(ctx); err == nil {
		t.Fatalf("the private cluster on port %d still accepts connections after Stop", c.Port)
	}
	var one int
	if err := shared.Pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		t.Fatalf("the shared server stopped answering while the private cluster was down: %v", err)
	}
	c.Start()
	var n int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM partners`).Scan(&n); err != nil {
		t.Fatalf("after Start: %v", err)
	}
	if n != 1 {
		t.Fatalf("after Start the private cluster has %d partners, want the 1 written before the outage", n)
	}
}

func TestCandidatePortsHonoursTheRange(t *testing.T) {
	t.Setenv(EnvClusterPorts, "1-0")
	if _, err := candidatePorts(); err == nil {
		t.Error("an inverted range was accepted")
	}
	l := listenAny(t)
	t.Setenv(EnvClusterPorts, l)
	if ports, err := candidatePorts(); err == nil {
		t.Errorf("the only port in the range is taken, yet got %v", ports)
	}
}

// listenAny holds a port for the rest of the test and returns it as text.
func listenAny(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}
