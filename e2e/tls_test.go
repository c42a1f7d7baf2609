package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/certtest"
	"github.com/tiershift/tiershift/internal/temporaltest"
)

// checkTLSRefusals runs when the server requires mTLS (make test-cluster):
// the campaign above ran over it, and here a starter that trusts another CA,
// and one that presents no client certificate, are refused with the address
// named, having changed nothing.
func (s *stack) checkTLSRefusals(partnerID string) {
	s.t.Helper()
	if os.Getenv(config.EnvTemporalTLSCA) == "" {
		return
	}
	addr := temporaltest.Address()
	other := certtest.New(s.t, filepath.Join(s.logs, "other-ca"), "not-the-cluster")
	cases := []struct {
		name, want string
		env        map[string]string
	}{
		{"a CA that did not sign the server's certificate", "TLS handshake failed",
			map[string]string{config.EnvTemporalTLSCA: other.CA}},
		{"no client certificate", addr,
			map[string]string{config.EnvTemporalTLSCert: "", config.EnvTemporalTLSKey: ""}},
	}
	for _, c := range cases {
		// status of one partner queries its workflow: it must dial Temporal.
		out, err := s.starterWithEnv(c.env, "status", "--campaign", s.campaign, "--partner", partnerID)
		if err == nil {
			s.t.Errorf("starter status with %s succeeded against %s; want a refusal\n%s", c.name, addr, out)
			continue
		}
		if !strings.Contains(out, addr) || !strings.Contains(out, c.want) {
			s.t.Errorf("starter status with %s: the error does not name %s and %q:\n%s", c.name, addr, c.want, out)
		}
	}
}

// starterWithEnv runs bin/starter with some variables replaced (an empty
// value removes one) and returns its combined output.
func (s *stack) starterWithEnv(set map[string]string, args ...string) (string, error) {
	env := make([]string, 0, len(s.env))
	for _, kv := range s.env {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range set {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "starter"), args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
