package temporalx

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tiershift/tiershift/config"
	"github.com/tiershift/tiershift/internal/certtest"
)

// tlsListener accepts TLS connections with the server certificate of certs
// (and, like a cluster with requireClientAuth, asks for a client one) and
// completes handshakes, so a client's TLS settings are really checked.
func tlsListener(t *testing.T, certs certtest.Set) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.(*tls.Conn).Handshake()
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 1024)
				_, _ = conn.Read(buf)
			}()
		}
	}()
	return ln.Addr().String()
}

func configFor(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	t.Setenv(config.EnvTemporalConfigFile, "/nonexistent/temporal.toml")
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A server whose certificate another CA signed is refused at dial time, and
// the error names the address and the setting to check.
func TestDialRefusesAServerSignedByAnotherCA(t *testing.T) {
	server := certtest.New(t, t.TempDir(), "server-side")
	other := certtest.New(t, t.TempDir(), "other")
	addr := tlsListener(t, server)
	cfg := configFor(t, map[string]string{
		config.EnvTemporalAddress: addr,
		config.EnvTemporalTLSCA:   other.CA,
		config.EnvTemporalTLSCert: other.ClientCert,
		config.EnvTemporalTLSKey:  other.ClientKey,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, zerolog.Nop())
	if err == nil {
		c.Close()
		t.Fatal("dial succeeded against a server whose certificate the configured CA did not sign")
	}
	t.Log(err)
	for _, want := range []string{addr, config.EnvTemporalTLSCA, "certificate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// Without TLS settings the client speaks plain HTTP/2 to a TLS port; the
// error says TLS may be what is missing.
func TestDialWithoutTLSAgainstATLSServerSaysSo(t *testing.T) {
	server := certtest.New(t, t.TempDir(), "server-side")
	addr := tlsListener(t, server)
	cfg := configFor(t, map[string]string{config.EnvTemporalAddress: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, cfg, zerolog.Nop())
	if err == nil {
		c.Close()
		t.Fatal("dial without TLS succeeded against a TLS-only listener")
	}
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), config.EnvTemporalTLSCA) {
		t.Errorf("error %q: want the address and the TLS settings to set", err)
	}
}

// ClientOptions carries the envconfig profile (API key, TLS) into the
// options every process dials with, and the address and namespace of cfg.
func TestClientOptionsCarryTheProfile(t *testing.T) {
	certs := certtest.New(t, t.TempDir(), "opts")
	cfg := configFor(t, map[string]string{
		config.EnvTemporalAddress: "temporal.example.com:7233", config.EnvTemporalNamespace: "partners",
		config.EnvTemporalTLSCA: certs.CA, config.EnvTemporalTLSCert: certs.ClientCert, config.EnvTemporalTLSKey: certs.ClientKey,
	})
	cfg.TemporalNamespace = "partners-edited" // what a caller set after loading wins
	o, err := ClientOptions(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if o.HostPort != "temporal.example.com:7233" || o.Namespace != "partners-edited" || o.ConnectionOptions.TLS == nil ||
		len(o.ConnectionOptions.TLS.Certificates) != 1 || o.ConnectionOptions.TLS.RootCAs == nil || o.Credentials != nil {
		t.Fatalf("options: %s %s tls=%+v credentials=%v", o.HostPort, o.Namespace, o.ConnectionOptions.TLS, o.Credentials)
	}
}

// An API key alone (Temporal Cloud) means API-key credentials over TLS.
func TestClientOptionsForAnAPIKey(t *testing.T) {
	cfg := configFor(t, map[string]string{config.EnvTemporalAPIKey: "k"})
	o, err := ClientOptions(cfg, zerolog.Nop())
	if err != nil || o.Credentials == nil || o.ConnectionOptions.TLS == nil {
		t.Fatalf("API key: credentials=%v tls=%v %v; want API-key credentials over TLS", o.Credentials, o.ConnectionOptions.TLS, err)
	}
}
