package temporaltest

import (
	"context"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/deploytest"
)

func TestTaskQueueIsUniqueAndSafe(t *testing.T) {
	a, b := TaskQueue(t), TaskQueue(t)
	if a == b {
		t.Fatalf("two calls gave the same queue %q", a)
	}
	for _, q := range []string{a, b} {
		if !strings.HasPrefix(q, "test-TestTaskQueueIsUniqueAndSafe-") {
			t.Errorf("queue %q does not name the test", q)
		}
		if q == config.DefaultTaskQueue || q == config.DefaultEmailTaskQueue {
			t.Errorf("queue %q is one the demo worker polls", q)
		}
	}
	t.Run("sub test/with spaces & symbols", func(t *testing.T) {
		q := TaskQueue(t)
		if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(q) {
			t.Errorf("queue %q has characters outside [A-Za-z0-9_-]", q)
		}
	})
	t.Run(strings.Repeat("long", 100), func(t *testing.T) {
		if q := TaskQueue(t); len(q) > 100 {
			t.Errorf("queue name is %d characters long", len(q))
		}
	})
}

func TestDialFailsFastWithoutAServer(t *testing.T) {
	// A port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	start := time.Now()
	c, err := dial(addr, "default")
	if err == nil {
		c.Close()
		t.Fatalf("dial %s succeeded with no server there", addr)
	}
	if d := time.Since(start); d > DialTimeout+2*time.Second {
		t.Errorf("dial took %v, want at most about %v", d, DialTimeout)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the address", err)
	}
}

func TestAddressAndNamespaceFollowTheEnvironment(t *testing.T) {
	t.Setenv(config.EnvTemporalAddress, "")
	t.Setenv(config.EnvTemporalNamespace, "")
	if Address() != "localhost:7233" || Namespace() != "default" {
		t.Errorf("defaults = %s %s, want localhost:7233 default", Address(), Namespace())
	}
	t.Setenv(config.EnvTemporalAddress, "temporal:7233")
	t.Setenv(config.EnvTemporalNamespace, "ci")
	if Address() != "temporal:7233" || Namespace() != "ci" {
		t.Errorf("from the environment = %s %s, want temporal:7233 ci", Address(), Namespace())
	}
}

func echo(ctx workflow.Context, s string) (string, error) { return "echo: " + s, nil }

// A workflow runs end to end on the test's own task queue of the real server.
func TestClientRunsAWorkflowOnItsOwnQueue(t *testing.T) {
	c := Client(t)
	queue := TaskQueue(t)
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(echo, workflow.RegisterOptions{Name: "temporaltest-echo"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: queue, TaskQueue: queue}, "temporaltest-echo", "hi")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if got != "echo: hi" {
		t.Fatalf("workflow returned %q", got)
	}
}

// The server `make test` runs has every search attribute of
// deploy/search-attributes.txt, with its type (scripts/temporal.sh registers
// them; the workflows fail to upsert them otherwise).
func TestServerHasTheSearchAttributes(t *testing.T) {
	c := Client(t)
	want, err := deploytest.RequiredSearchAttributes()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	have := resp.GetCustomAttributes()
	for _, a := range want {
		got, ok := have[a.Name]
		if !ok {
			t.Errorf("search attribute %s is not registered at %s (scripts/temporal.sh up registers it)", a.Name, Address())
			continue
		}
		if enums.IndexedValueType_name[int32(got)] != deploytest.EnumName(a.Type) {
			t.Errorf("search attribute %s is %s at %s, want %s", a.Name, got, Address(), a.Type)
		}
	}
}
