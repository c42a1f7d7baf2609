package sendgridstub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const goodBody = `{"personalizations":[{"to":[{"email":"a@b.example"}]}],"from":{"email":"f@v.example"},"subject":"Hi",
 "content":[{"type":"text/plain","value":"t"},{"type":"text/html","value":"<p>h</p>"}],
 "custom_args":{"campaign_id":"c","partner_id":"p","kind":"reminder","dedupe_key":"w/s"}}`

func post(t *testing.T, s *Stub, key, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+Path, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestStubChecksShapeAndKey(t *testing.T) {
	s := New()
	defer s.Close()
	if resp, _ := post(t, s, "wrong", goodBody); resp.StatusCode != 401 {
		t.Errorf("bad key: %d", resp.StatusCode)
	}
	swapped := strings.Replace(goodBody, `{"type":"text/plain","value":"t"},{"type":"text/html","value":"<p>h</p>"}`, `{"type":"text/html","value":"<p>h</p>"},{"type":"text/plain","value":"t"}`, 1)
	noArgs := strings.Replace(goodBody, `"dedupe_key":"w/s"`, `"x":"y"`, 1)
	for name, body := range map[string]string{"html first": swapped, "no dedupe_key": noArgs, "not json": "{"} {
		resp, text := post(t, s, Key, body)
		var e struct {
			Errors []struct{ Message string } `json:"errors"`
		}
		if resp.StatusCode != 400 || json.Unmarshal([]byte(text), &e) != nil || len(e.Errors) == 0 {
			t.Errorf("%s: %d %s", name, resp.StatusCode, text)
		}
	}
	resp, _ := post(t, s, Key, goodBody)
	if resp.StatusCode != 202 || resp.Header.Get("X-Message-Id") == "" {
		t.Fatalf("good: %d", resp.StatusCode)
	}
	if s.Accepted() != 1 || s.Requests() != 5 || s.CountByDedupeKey()["w/s"] != 1 || s.Messages()[0].Text != "t" {
		t.Fatalf("records: %d accepted of %d, %v", s.Accepted(), s.Requests(), s.CountByDedupeKey())
	}
}

func TestStubScriptedReplies(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(ServerError(), RateLimited(time.Unix(2000000000, 0)))
	s.RejectAddress("A@B.example", 400, "blocked")
	if resp, _ := post(t, s, Key, strings.Replace(goodBody, "a@b.example", "x@b.example", 1)); resp.StatusCode != 500 {
		t.Errorf("queued 500: %d", resp.StatusCode)
	}
	if resp, _ := post(t, s, Key, goodBody); resp.StatusCode != 400 {
		t.Errorf("address rule: %d", resp.StatusCode)
	}
	resp, _ := post(t, s, Key, strings.Replace(goodBody, "a@b.example", "x@b.example", 1))
	if resp.StatusCode != 429 || resp.Header.Get("X-RateLimit-Reset") != "2000000000" {
		t.Errorf("queued 429: %d %v", resp.StatusCode, resp.Header)
	}
	s.Respond(func(r Request) (Reply, bool) { return Unauthorized(), r.Message.CustomArgs["kind"] == "reminder" })
	if resp, _ := post(t, s, Key, strings.Replace(goodBody, "a@b.example", "x@b.example", 1)); resp.StatusCode != 401 {
		t.Errorf("responder: %d", resp.StatusCode)
	}
	if s.Accepted() != 0 {
		t.Errorf("accepted %d", s.Accepted())
	}
}

func TestStubHangReleasedByClientAndClose(t *testing.T) {
	s := New()
	s.Enqueue(Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+Path, strings.NewReader(goodBody))
	req.Header.Set("Authorization", "Bearer "+Key)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("hang answered")
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked")
	}
	if err := s.WaitAccepted(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
}
