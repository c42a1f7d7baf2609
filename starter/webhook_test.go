package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/tiershift/tiershift/workflows"
)

// webhookSigner signs batches the way SendGrid does: ECDSA P-256 over
// SHA-256(timestamp || body), ASN.1 DER, base64, in two headers.
type webhookSigner struct{ key *ecdsa.PrivateKey }

func newWebhookSigner(t *testing.T) webhookSigner {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return webhookSigner{k}
}

// publicKey is the base64 DER public key, as SendGrid shows it.
func (s webhookSigner) publicKey(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func (s webhookSigner) sign(t *testing.T, ts string, body []byte) string {
	t.Helper()
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// post sends body to the webhook, signed by s unless sig is given ("-"
// sends no signature headers at all).
func (s webhookSigner) post(t *testing.T, url string, body []byte, sig string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	switch sig {
	case "":
		sig = s.sign(t, ts, body)
		fallthrough
	default:
		req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
		req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	case "-":
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEventWebhookEndToEnd runs `starter webhook` against the test's
// Postgres and Temporal with transitions running, and posts SendGrid events
// signed by a key the test generates: forged and unsigned batches change
// nothing, a bounce of an announcement reaches the partner's transition (its
// status and the EmailUndelivered search attribute) and the status and
// report commands, events out of order keep the latest state, and a
// replayed batch stores nothing twice.
func TestEventWebhookEndToEnd(t *testing.T) {
	f := opsTemporal(t, true)
	f.seed([2]string{"p1", "Enterprise"}, [2]string{"p2", "Enterprise"})
	opsMust(t, "launch", "--campaign", f.campaign, "--program", f.program)
	f.waitVisible("", 2)

	// The announcements, as the worker's mailer (capture mode) recorded them.
	ids := map[string]int64{}
	for _, p := range []string{"p1", "p2"} {
		waitFor(t, p+"'s announcement", func() bool {
			return f.db.Pool.QueryRow(context.Background(), `SELECT id FROM emails WHERE workflow_id = $1 AND step = 'announcement'`,
				workflows.WorkflowID(f.campaign, p)).Scan(new(int64)) == nil
		})
		var id int64
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT id FROM emails WHERE workflow_id = $1 AND step = 'announcement'`,
			workflows.WorkflowID(f.campaign, p)).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[p] = id
	}

	signer := newWebhookSigner(t)
	t.Setenv(envWebhookKey, signer.publicKey(t))
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- runWebhook(ctx, &bytes.Buffer{}, "127.0.0.1:0", ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("webhook: %v", err)
		}
	})
	var url string
	select {
	case addr := <-ready:
		url = "http://" + addr + "/sendgrid/events"
	case err := <-done:
		t.Fatalf("webhook did not start: %v", err)
	}

	t0 := time.Now().Add(-time.Hour).Unix()
	event := func(id, event string, at int64, custom map[string]any) map[string]any {
		e := map[string]any{"sg_event_id": id, "event": event, "timestamp": at, "email": "someone@example.com", "sg_message_id": "m"}
		for k, v := range custom {
			e[k] = v
		}
		return e
	}
	p1 := map[string]any{"email_id": strconv.FormatInt(ids["p1"], 10), "dedupe_key": workflows.WorkflowID(f.campaign, "p1") + "/announcement"}
	// p2's events carry only the dedupe key, as messages sent before
	// email_id existed do.
	p2 := map[string]any{"dedupe_key": workflows.WorkflowID(f.campaign, "p2") + "/announcement"}
	batch, _ := json.Marshal([]map[string]any{
		event("e-p1-delivered", "delivered", t0+10, p1), // arrives before the earlier processed
		event("e-p1-processed", "processed", t0, p1),
		event("e-p2-processed", "processed", t0, p2),
		{"sg_event_id": "e-p2-bounce", "event": "bounce", "timestamp": t0 + 5, "reason": "550 5.1.1 mailbox unknown", "dedupe_key": p2["dedupe_key"]},
		event("e-p1-open", "open", t0+20, p1),
		event("e-unknown", "delivered", t0, map[string]any{"dedupe_key": "transition/other/x/announcement"}),
	})
	stored := func() int { return f.count(`SELECT count(*) FROM email_events`) }

	// Refused: no signature, a forged one, a signature of another body.
	other := newWebhookSigner(t)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	for name, sig := range map[string]string{
		"unsigned":      "-",
		"forged":        other.sign(t, ts, batch),
		"other body":    signer.sign(t, ts, []byte("[]")),
		"not base64":    "%%%",
		"empty headers": " ",
	} {
		if code := signer.post(t, url, batch, sig); code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", name, code)
		}
	}
	if n := stored(); n != 0 {
		t.Fatalf("refused batches stored %d events", n)
	}
	// A signed batch that is not events is refused whole.
	if code := signer.post(t, url, []byte(`[{"event":"bounce","timestamp":1}]`), ""); code != http.StatusBadRequest {
		t.Errorf("event without sg_event_id: status %d, want 400", code)
	}

	if code := signer.post(t, url, batch, ""); code != http.StatusNoContent {
		t.Fatalf("signed batch: status %d", code)
	}
	state := func(p string) (st, reason string) {
		var r *string
		if err := f.db.Pool.QueryRow(context.Background(), `SELECT coalesce(delivery_state, ''), delivery_reason FROM emails WHERE id = $1`, ids[p]).Scan(&st, &r); err != nil {
			t.Fatal(err)
		}
		if r != nil {
			reason = *r
		}
		return st, reason
	}
	if st, _ := state("p1"); st != "delivered" {
		t.Errorf("p1: delivery state %q after delivered then an earlier processed, want delivered", st)
	}
	if st, reason := state("p2"); st != "bounce" || reason != "550 5.1.1 mailbox unknown" {
		t.Errorf("p2: delivery state %q (%q), want bounce", st, reason)
	}
	if n := stored(); n != 6 {
		t.Errorf("%d events stored, want 6", n)
	}
	if n := f.count(`SELECT count(*) FROM email_events WHERE email_id IS NULL`); n != 1 {
		t.Errorf("%d unmatched events, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM email_events WHERE payload ? 'email'`); n != 0 {
		t.Errorf("%d stored payloads keep the recipient's address", n)
	}

	// The bounce reached p2's transition: its status and the Web UI.
	f.waitVisible("EmailUndelivered = true", 1)
	f.waitVisible("EmailUndelivered = true AND PartnerId = 'p2'", 1)
	st := f.waitStatus("p2")
	waitFor(t, "p2's status to show the bounce", func() bool {
		st = f.waitStatus("p2")
		return len(st.Undelivered) == 1
	})
	if u := st.Undelivered[0]; u.Step != "announcement" || u.Event != "bounce" || u.Kind != "announcement" {
		t.Errorf("p2 undelivered = %+v", u)
	}

	// A replay, and a later batch repeating the bounce: nothing new.
	if code := signer.post(t, url, batch, ""); code != http.StatusNoContent {
		t.Fatalf("replay: status %d", code)
	}
	if n := stored(); n != 6 {
		t.Errorf("after the replay %d events stored, want 6", n)
	}
	again, _ := json.Marshal([]map[string]any{event("e-p2-bounce-2", "bounce", t0+30, p2)})
	if code := signer.post(t, url, again, ""); code != http.StatusNoContent {
		t.Fatalf("second bounce: status %d", code)
	}
	// Both bounces were signalled; queries are consistent with the history,
	// so the status after the second signal shows what the workflow made of it.
	waitFor(t, "the second bounce to be signalled", func() bool { return f.signals("p2", workflows.MessageEmailUndelivered) == 2 })
	if st := f.waitStatus("p2"); len(st.Undelivered) != 1 {
		t.Errorf("p2 undelivered after a second bounce of the same email: %+v", st.Undelivered)
	}

	// Operators see who was never reached.
	out := opsMust(t, "status", "--campaign", f.campaign)
	if !strings.Contains(out, "Never reached (bounced or dropped emails): 1") || !strings.Contains(out, "p2") {
		t.Errorf("campaign status:\n%s", out)
	}
	out = opsMust(t, "status", "--campaign", f.campaign, "--partner", "p2")
	if !strings.Contains(out, "Not delivered") || !strings.Contains(out, "announcement email bounce") {
		t.Errorf("partner status:\n%s", out)
	}
	out = opsMust(t, "report", "--campaign", f.campaign)
	if !strings.Contains(out, "Never reached (bounced or dropped emails): 1") {
		t.Errorf("report:\n%s", out)
	}
	var r report
	if err := json.Unmarshal([]byte(opsMust(t, "report", "--campaign", f.campaign, "--format", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Undelivered) != 1 || r.Undelivered[0].PartnerID != "p2" || r.Undelivered[0].State != "bounce" {
		t.Errorf("report json undelivered = %+v", r.Undelivered)
	}
	if strings.Contains(fmt.Sprint(r), "@example.com") {
		t.Errorf("report shows an address")
	}
}

func TestWebhookRefusesToStartWithoutAKey(t *testing.T) {
	t.Setenv(envWebhookKey, "")
	if _, errOut, code := opsRun(t, "webhook", "--addr", "127.0.0.1:0"); code != exitInput || !strings.Contains(errOut, envWebhookKey) {
		t.Errorf("without a key: exit %d\n%s", code, errOut)
	}
	t.Setenv(envWebhookKey, base64.StdEncoding.EncodeToString([]byte("not a key")))
	if _, errOut, code := opsRun(t, "webhook", "--addr", "127.0.0.1:0"); code != exitInput || !strings.Contains(errOut, envWebhookKey) {
		t.Errorf("with a bad key: exit %d\n%s", code, errOut)
	}
}

// signals counts the Signals named name in partner's workflow history.
func (f *opsFixture) signals(partner, name string) int {
	f.t.Helper()
	it := f.tc.GetWorkflowHistory(context.Background(), workflows.WorkflowID(f.campaign, partner), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			f.t.Fatal(err)
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == name {
			n++
		}
	}
	return n
}
