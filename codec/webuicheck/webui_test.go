package webuicheck

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tiershift/tiershift/codec"
	"github.com/tiershift/tiershift/internal/servicetest"
)

// Contact is personal data of the kind a partner record carries.
type Contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// greet is the workflow the browser looks at: its input and its result
// both carry the contact's name and address.
func greet(_ workflow.Context, c Contact) (string, error) {
	return "welcome " + c.Name + " <" + c.Email + ">", nil
}

const (
	contactName  = "Élodie Kerbrat"
	contactEmail = "elodie.kerbrat@partenaire.example"
	token        = "ui-check-operator-token-0123"
)

func TestWebUIShowsDecodedPayloadsOnlyThroughTheCodecServer(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		servicetest.Unavailable(t, "chromium (make chromium installs it)", err)
	}
	temporalBin := os.Getenv("TEMPORAL_BIN")
	if temporalBin == "" {
		temporalBin, _ = filepath.Abs("../../bin/temporal")
	}
	if _, err := os.Stat(temporalBin); err != nil {
		servicetest.Unavailable(t, "the Temporal CLI (make tools builds bin/temporal)", err)
	}
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i * 7)
	}
	ring, err := codec.Load("", "F", "ui-check:"+base64.StdEncoding.EncodeToString(secret), "E")
	if err != nil {
		t.Fatal(err)
	}
	cdc := codec.New(ring)

	grpcPort, uiPort := freePort(t), freePort(t)
	uiOrigin := fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	codecSrv := httptest.NewServer(codec.Handler(cdc, token, []string{uiOrigin}))
	defer codecSrv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	logPath := filepath.Join(t.TempDir(), "temporal.log")
	serverLog, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer serverLog.Close()
	dev := exec.CommandContext(ctx, temporalBin, "server", "start-dev", "--ip", "127.0.0.1",
		"--port", fmt.Sprint(grpcPort), "--ui-port", fmt.Sprint(uiPort), "--log-level", "error",
		"--ui-codec-endpoint", codecSrv.URL+"/"+token)
	dev.Stdout, dev.Stderr = serverLog, serverLog
	if err := dev.Start(); err != nil {
		t.Fatalf("start the dev server: %v", err)
	}
	defer func() {
		_ = dev.Process.Kill()
		_ = dev.Wait()
	}()

	c := dialUntilHealthy(ctx, t, fmt.Sprintf("127.0.0.1:%d", grpcPort), cdc, logPath)
	defer c.Close()
	w := worker.New(c, "ui-check", worker.Options{})
	w.RegisterWorkflowWithOptions(greet, workflow.RegisterOptions{Name: "Greet"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "ui-check/P-1", TaskQueue: "ui-check"}, "Greet",
		Contact{Name: contactName, Email: contactEmail})
	if err != nil {
		t.Fatal(err)
	}
	var result string
	if err := run.Get(ctx, &result); err != nil {
		t.Fatal(err)
	}
	page := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", uiOrigin, url.PathEscape(run.GetID()), run.GetRunID())
	shots := os.Getenv("TIERSHIFT_UI_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	with := browse(ctx, t, chromium, page, filepath.Join(shots, "with-codec-server.png"))
	for _, want := range []string{contactEmail, contactName, "welcome " + contactName} {
		if !strings.Contains(with, want) {
			t.Errorf("with the codec server the page lacks the decoded %q", want)
		}
	}
	codecSrv.Close()
	without := browse(ctx, t, chromium, page, filepath.Join(shots, "without-codec-server.png"))
	if !strings.Contains(without, run.GetID()) {
		t.Errorf("without the codec server the page did not load the workflow (no %q in it)", run.GetID())
	}
	// The raw payloads instead: their metadata, base64 as the UI shows it.
	if marker := base64.StdEncoding.EncodeToString([]byte(codec.EncodingEncrypted)); !strings.Contains(without, marker) {
		t.Errorf("without the codec server the page does not show the encrypted payloads (no %q)", marker)
	}
	for _, secretText := range []string{contactEmail, contactName, "kerbrat"} {
		if strings.Contains(strings.ToLower(without), strings.ToLower(secretText)) {
			t.Errorf("without the codec server the page shows %q: the payloads are not encrypted", secretText)
		}
	}
	t.Logf("screenshots in %s", shots)
}

// browse loads page in a fresh headless Chromium, saves a screenshot and
// returns the page's text once its scripts have settled.
func browse(ctx context.Context, t *testing.T, chromium, page, screenshot string) string {
	t.Helper()
	flags := func() []string {
		return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + t.TempDir(), "--window-size=1400,2000", "--virtual-time-budget=20000"}
	}
	shot := exec.CommandContext(ctx, chromium, append(flags(), "--screenshot="+screenshot, page)...)
	if out, err := shot.CombinedOutput(); err != nil {
		t.Fatalf("chromium --screenshot: %v\n%s", err, out)
	}
	dom, err := exec.CommandContext(ctx, chromium, append(flags(), "--dump-dom", page)...).Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	return string(dom)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialUntilHealthy connects to the dev server once it answers.
func dialUntilHealthy(ctx context.Context, t *testing.T, addr string, cdc *codec.Codec, logPath string) client.Client {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := client.DialContext(dctx, client.Options{HostPort: addr, DataConverter: cdc.DataConverter(),
			FailureConverter: cdc.FailureConverter(cdc.DataConverter())})
		if err == nil {
			_, err = c.CheckHealth(dctx, &client.CheckHealthRequest{})
			if err == nil {
				cancel()
				return c
			}
			c.Close()
		}
		cancel()
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			t.Fatalf("the dev server at %s did not become healthy: %v\n%s", addr, err, out)
		}
		time.Sleep(250 * time.Millisecond) // polling a process that is starting, not synchronising with our own code
	}
}
