package sendgridstub

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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

// activity asks the stub's Email Activity endpoint for query.
func activity(t *testing.T, s *Stub, query string) (int, []ActivityMessage) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+ActivityPath+"?limit=5&query="+url.QueryEscape(query), nil)
	req.Header.Set("Authorization", "Bearer "+Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Messages []ActivityMessage `json:"messages"`
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, page.Messages
}

func TestStubEmailActivity(t *testing.T) {
	s := New()
	defer s.Close()
	s.Enqueue(AcceptSilently(), ServerError())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+Path, strings.NewReader(goodBody))
	req.Header.Set("Authorization", "Bearer "+Key)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("AcceptSilently answered")
	}
	cancel()
	if resp, _ := post(t, s, Key, strings.Replace(goodBody, `"w/s"`, `"w/other"`, 1)); resp.StatusCode != 500 {
		t.Fatalf("second request: %d, want the scripted 500", resp.StatusCode)
	}

	code, found := activity(t, s, `unique_args['dedupe_key']="w/s"`)
	if code != 200 || len(found) != 1 || !strings.HasPrefix(found[0].MsgID, s.Messages()[0].MessageID) || found[0].ToEmail != "a@b.example" {
		t.Fatalf("silently accepted message: %d %+v", code, found)
	}
	if code, found := activity(t, s, `(unique_args['dedupe_key']="w/other")`); code != 200 || len(found) != 0 {
		t.Fatalf("rejected message listed: %d %+v", code, found)
	}
	if code, _ := activity(t, s, `subject="Hi"`); code != 400 {
		t.Fatalf("unsupported query: %d, want 400", code)
	}
	s.SetActivity(true, time.Hour)
	if code, found := activity(t, s, `unique_args['dedupe_key']="w/s"`); code != 200 || len(found) != 0 {
		t.Fatalf("listed before its lag: %d %+v", code, found)
	}
	s.SetActivity(false, 0)
	if code, _ := activity(t, s, `unique_args['dedupe_key']="w/s"`); code != 403 {
		t.Fatalf("without Email Activity access: %d, want 403", code)
	}
	if s.ActivityLookups() != 3 {
		t.Fatalf("%d lookups answered, want 3", s.ActivityLookups())
	}
}
