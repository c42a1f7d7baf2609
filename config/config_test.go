package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiershift/tiershift/internal/certtest"
	"github.com/tiershift/tiershift/internal/secrettest"
)

// mapEnv is an environment for fromLookup (envconfig.EnvLookup).
type mapEnv map[string]string

func (m mapEnv) LookupEnv(name string) (string, bool) { v, ok := m[name]; return v, ok }

func (m mapEnv) Environ() []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// lookupFrom is an environment holding only env, with no profile file.
func lookupFrom(env map[string]string) mapEnv {
	m := mapEnv{EnvTemporalConfigFile: "/nonexistent/temporal.toml"}
	for k, v := range env {
		m[k] = v
	}
	return m
}

func TestWorkerTuningFromTheEnvironment(t *testing.T) {
	c, err := fromLookup(lookupFrom(nil))
	if err != nil || c.StickyTimeout != DefaultStickyTimeout || c.WorkflowPollers != DefaultWorkflowPollers || c.ActivityPollers != DefaultActivityPollers || c.PprofAddr != "" ||
		c.StickyCacheSize != DefaultStickyCacheSize {
		t.Fatalf("defaults: sticky timeout %v, %d workflow pollers, %d activity pollers, pprof %q, cache %d, %v",
			c.StickyTimeout, c.WorkflowPollers, c.ActivityPollers, c.PprofAddr, c.StickyCacheSize, err)
	}
	c, err = fromLookup(lookupFrom(map[string]string{EnvStickyTimeout: "90s", EnvPprofAddr: " localhost:6060 ", EnvStickyCacheSize: "0", EnvActivityPollers: "3"}))
	if err != nil || c.StickyTimeout != 90*time.Second || c.PprofAddr != "localhost:6060" || c.StickyCacheSize != 0 || c.ActivityPollers != 3 {
		t.Fatalf("set: sticky timeout %v, pprof %q, cache %d, %d activity pollers, %v", c.StickyTimeout, c.PprofAddr, c.StickyCacheSize, c.ActivityPollers, err)
	}
	for _, bad := range []string{"soon", "500ms", "-1m"} {
		if _, err := fromLookup(lookupFrom(map[string]string{EnvStickyTimeout: bad})); err == nil || !strings.Contains(err.Error(), EnvStickyTimeout) {
			t.Errorf("%s=%q: %v; want an error naming the variable", EnvStickyTimeout, bad, err)
		}
	}
}

func TestEmailConfirmWindowFromTheEnvironment(t *testing.T) {
	c, err := fromLookup(lookupFrom(nil))
	if err != nil || c.EmailConfirmWindow != 0 {
		t.Fatalf("default: %v %v; want 0 (the mailer's default)", c.EmailConfirmWindow, err)
	}
	c, err = fromLookup(lookupFrom(map[string]string{EnvEmailConfirm: "15m"}))
	if err != nil || c.EmailConfirmWindow != 15*time.Minute {
		t.Fatalf("set: %v %v", c.EmailConfirmWindow, err)
	}
	for _, bad := range []string{"later", "0s", "-5m"} {
		if _, err := fromLookup(lookupFrom(map[string]string{EnvEmailConfirm: bad})); err == nil || !strings.Contains(err.Error(), EnvEmailConfirm) {
			t.Errorf("%s=%q: %v; want an error naming the variable", EnvEmailConfirm, bad, err)
		}
	}
}

func TestTemporalConnectionFromTheEnvironment(t *testing.T) {
	c, err := fromLookup(lookupFrom(nil))
	if err != nil || c.TemporalAddress != DefaultTemporalAddress || c.TemporalNamespace != DefaultTemporalNamespace || c.TemporalTLS() {
		t.Fatalf("defaults: %s %s tls=%v %v; want the local dev server without TLS", c.TemporalAddress, c.TemporalNamespace, c.TemporalTLS(), err)
	}
	c, err = fromLookup(lookupFrom(map[string]string{
		EnvTemporalAddress: "acme.a1b2c.tmprl.cloud:7233", EnvTemporalNamespace: "acme.a1b2c", EnvTemporalAPIKey: "secret-key",
	}))
	if err != nil || c.TemporalAddress != "acme.a1b2c.tmprl.cloud:7233" || c.TemporalNamespace != "acme.a1b2c" ||
		c.Temporal.APIKey != "secret-key" || !c.TemporalTLS() {
		t.Fatalf("cloud: %s %s key set=%v tls=%v %v; want an API key with TLS implied", c.TemporalAddress, c.TemporalNamespace, c.Temporal.APIKey != "", c.TemporalTLS(), err)
	}
	if _, err := fromLookup(lookupFrom(map[string]string{EnvTemporalTLSCert: "/nonexistent/client.pem", EnvTemporalTLSKey: "/nonexistent/client-key.pem"})); err == nil ||
		!strings.Contains(err.Error(), EnvTemporalTLSCert) || !strings.Contains(err.Error(), "/nonexistent/client.pem") {
		t.Errorf("unreadable client certificate: %v; want an error naming the variable and the file", err)
	}
	if _, err := fromLookup(lookupFrom(map[string]string{EnvTemporalTLSCert: "/nonexistent/client.pem"})); err == nil || !strings.Contains(err.Error(), "other must be present") {
		t.Errorf("a certificate without its key: %v; want it refused", err)
	}
}

func TestTemporalProfileFromATOMLFile(t *testing.T) {
	dir := t.TempDir()
	certs := certtest.New(t, dir, "config-test")
	file := filepath.Join(dir, "temporal.toml")
	toml := "[profile.prod]\naddress = \"temporal.example.com:7233\"\nnamespace = \"partners\"\n" +
		"[profile.prod.tls]\nclient_cert_path = \"" + certs.ClientCert + "\"\nclient_key_path = \"" + certs.ClientKey + "\"\n" +
		"server_ca_cert_path = \"" + certs.CA + "\"\nserver_name = \"temporal.example.com\"\n"
	if err := os.WriteFile(file, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := mapEnv{EnvTemporalConfigFile: file, EnvTemporalProfile: "prod"}
	c, err := fromLookup(env)
	if err != nil || c.TemporalAddress != "temporal.example.com:7233" || c.TemporalNamespace != "partners" || !c.TemporalTLS() ||
		c.Temporal.TLS.ServerName != "temporal.example.com" || c.Temporal.TLS.ClientCertPath != certs.ClientCert {
		t.Fatalf("profile prod: %s %s tls=%v %+v %v", c.TemporalAddress, c.TemporalNamespace, c.TemporalTLS(), c.Temporal.TLS, err)
	}
	// A variable overrides the profile's value.
	env[EnvTemporalNamespace] = "partners-staging"
	if c, err = fromLookup(env); err != nil || c.TemporalNamespace != "partners-staging" || c.TemporalAddress != "temporal.example.com:7233" {
		t.Fatalf("override: %s %s %v; want the variable's namespace and the profile's address", c.TemporalAddress, c.TemporalNamespace, err)
	}
	env[EnvTemporalProfile] = "nope"
	if _, err = fromLookup(env); err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown profile: %v; want an error naming the file and the profile", err)
	}
	if err := os.WriteFile(file, []byte("[profile.prod]\nadress = \"typo:7233\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env[EnvTemporalProfile] = "prod"
	if _, err = fromLookup(env); err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "adress") {
		t.Errorf("misspelt key: %v; want an error naming the file and the key", err)
	}
}

// TestSendGridKeyWithSpaceOrControlIsRefusedUnshown: such a key would fail
// every email as an HTTP header; it is refused at start, saying where it
// breaks and never what it is. A key of valid characters is accepted (the
// provider judges it).
func TestSendGridKeyWithSpaceOrControlIsRefusedUnshown(t *testing.T) {
	for _, c := range secrettest.SendGridKeys() {
		_, err := fromLookup(lookupFrom(map[string]string{EnvSendGridAPIKey: c.Value}))
		bad := strings.ContainsAny(c.Value, " \n")
		if bad != (err != nil) || bad && !strings.Contains(err.Error(), "SENDGRID_API_KEY has a space or control character at byte 13") {
			t.Errorf("%s: %v", c.Name, err)
		}
		if err != nil {
			if leaks := c.Leaks(err.Error()); len(leaks) > 0 {
				t.Errorf("%s: shows %q", c.Name, leaks)
			}
		}
	}
}
