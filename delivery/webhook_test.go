package delivery

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestParseEvents(t *testing.T) {
	evs, err := ParseEvents([]byte(`[
		{"sg_event_id":"a","event":"bounce","timestamp":1700000000,"reason":"550 no such user","email":"x@example.com","email_id":"42","dedupe_key":"transition/c/p/announcement"},
		{"sg_event_id":"b","event":"deferred","timestamp":1700000001,"response":"421 try later","email_id":7}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	a, b := evs[0], evs[1]
	if a.SGEventID != "a" || a.Event != "bounce" || a.Reason != "550 no such user" || a.EmailID != 42 ||
		a.DedupeKey != "transition/c/p/announcement" || !a.At.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("a = %+v", a)
	}
	if strings.Contains(string(a.Payload), "x@example.com") || !strings.Contains(string(a.Payload), `"sg_event_id":"a"`) {
		t.Errorf("payload %s", a.Payload)
	}
	if b.EmailID != 7 || b.Reason != "421 try later" {
		t.Errorf("b = %+v", b)
	}
	for name, body := range map[string]string{
		"not an array":    `{"event":"bounce"}`,
		"no sg_event_id":  `[{"event":"bounce","timestamp":1}]`,
		"no event":        `[{"sg_event_id":"a","timestamp":1}]`,
		"no timestamp":    `[{"sg_event_id":"a","event":"bounce"}]`,
		"string time":     `[{"sg_event_id":"a","event":"bounce","timestamp":"soon"}]`,
		"bad email_id":    `[{"sg_event_id":"a","event":"bounce","timestamp":1,"email_id":"x"}]`,
		"object event":    `[{"sg_event_id":"a","event":{},"timestamp":1}]`,
		"one bad of two:": `[{"sg_event_id":"a","event":"bounce","timestamp":1},{"event":"bounce","timestamp":1}]`,
	} {
		if _, err := ParseEvents([]byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParsePublicKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if k, err := ParsePublicKey(base64.StdEncoding.EncodeToString(der)); err != nil || !k.Equal(&ec.PublicKey) {
		t.Fatalf("ECDSA key: %v", err)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ = x509.MarshalPKIXPublicKey(&rk.PublicKey)
	for name, key := range map[string]string{"rsa": base64.StdEncoding.EncodeToString(der), "garbage": "abc", "empty": ""} {
		if _, err := ParsePublicKey(key); err == nil {
			t.Errorf("%s key accepted", name)
		}
	}
}
