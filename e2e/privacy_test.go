package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/tiershift/tiershift/internal/temporaltest"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/workflows"
)

// codecToken is the operator token of the run's codec server.
const codecToken = "e2e-operator-token-0123456789"

// useOwnCodecKey gives the run a payload encryption key of its own, in the
// environment of the test (its Temporal client) and so of the worker and
// starter processes it starts.
func useOwnCodecKey(t *testing.T) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIERSHIFT_CODEC_KEY_FILE", "")
	t.Setenv("TIERSHIFT_CODEC_KEYS", "e2e:"+base64.StdEncoding.EncodeToString(secret))
}

// personal lists every name and address of the campaign's file, each also
// as JSON writes it inside a payload (which escapes <, > and &).
func personal(partners []partnerfile.Row) []string {
	var out []string
	for _, p := range partners {
		for _, v := range []string{p.Name, p.Email} {
			if strings.TrimSpace(v) == "" {
				continue
			}
			out = append(out, v)
			if j, _ := json.Marshal(v); string(j[1:len(j)-1]) != v {
				out = append(out, string(j[1:len(j)-1]))
			}
		}
	}
	return out
}

// checkPersonalData reads every transition's history from the server
// without the codec and checks that no name or address of the file is in
// it (inputs, results, state, summary, memo, search attributes, IDs), nor
// in any worker log; then reads it through the codec server (the real
// starter codec-server) and finds each partner's own address, decoded.
func (s *stack) checkPersonalData(partners []partnerfile.Row) {
	s.t.Helper()
	ctx := context.Background()
	secrets := personal(partners)
	if len(secrets) < len(partners) {
		s.t.Fatalf("the file has %d names and addresses for %d partners", len(secrets), len(partners))
	}
	raw, err := client.Dial(temporaltest.RawOptions(s.t))
	if err != nil {
		s.t.Fatal(err)
	}
	defer raw.Close()
	decoded := s.codecServerClient()
	defer decoded.Close()

	for _, p := range partners {
		id := workflows.WorkflowID(s.campaign, p.PartnerID)
		clear := historyText(ctx, s.t, raw, id)
		for _, v := range secrets {
			if strings.Contains(clear, v) {
				s.t.Errorf("the raw history of %s holds %q in clear", id, v)
			}
		}
		if !strings.Contains(clear, "binary/encrypted") {
			s.t.Errorf("the raw history of %s has no encrypted payload", id)
		}
		if through := historyText(ctx, s.t, decoded, id); !strings.Contains(through, p.Email) {
			s.t.Errorf("through the codec server the history of %s lacks the partner's address %q", id, p.Email)
		}
	}
	// starter status still reads the transition (its Query result, encrypted).
	if out := s.starter("status", "--campaign", s.campaign, "--partner", partners[0].PartnerID); !strings.Contains(out, partners[0].PartnerID) || !strings.Contains(out, "Stage:") {
		s.t.Errorf("starter status --partner after the campaign:\n%s", out)
	}
	logs, err := filepath.Glob(filepath.Join(s.logs, "worker-*.log"))
	if err != nil || len(logs) == 0 {
		s.t.Fatalf("no worker logs in %s: %v", s.logs, err)
	}
	for _, l := range logs {
		data, err := os.ReadFile(l)
		if err != nil {
			s.t.Fatal(err)
		}
		for _, v := range secrets {
			if strings.Contains(string(data), v) {
				s.t.Errorf("worker log %s holds %q", filepath.Base(l), v)
			}
		}
	}
}

// historyText is a workflow's history and description in the protobuf
// wire format, where a payload's data is its bytes as they are (JSON text
// in clear, or ciphertext), not base64 as protojson would write them.
func historyText(ctx context.Context, t interface{ Fatalf(string, ...any) }, c client.Client, workflowID string) string {
	var b strings.Builder
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		j, _ := proto.Marshal(ev)
		b.Write(j)
	}
	d, err := c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		t.Fatalf("describe %s: %v", workflowID, err)
	}
	j, _ := proto.Marshal(d)
	b.Write(j)
	return b.String()
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// codecServerClient starts `starter codec-server` on a free port and
// returns a client whose every answer is decoded through it, as the Web UI
// and the CLI decode them.
func (s *stack) codecServerClient() client.Client {
	s.t.Helper()
	cmd := s.starterCmd("codec-server", "--listen", "127.0.0.1:0")
	cmd.Env = append(cmd.Env, "TIERSHIFT_CODEC_TOKEN="+codecToken)
	out, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	m := listening.FindStringSubmatch(line)
	if err != nil || m == nil {
		s.t.Fatalf("codec server did not say where it listens: %q %v", line, err)
	}
	remote := converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: m[1] + "/" + codecToken,
		Client:   http.Client{Timeout: 30 * time.Second},
	})
	icpt, err := converter.NewPayloadCodecGRPCClientInterceptor(converter.PayloadCodecGRPCClientInterceptorOptions{Codecs: []converter.PayloadCodec{remote}})
	if err != nil {
		s.t.Fatal(err)
	}
	opts := temporaltest.RawOptions(s.t)
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions, grpc.WithChainUnaryInterceptor(icpt))
	c, err := client.Dial(opts)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}
