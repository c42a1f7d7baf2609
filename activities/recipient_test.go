package activities

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tiershift/tiershift/internal/sendgridstub"
)

// seedNames reads every partner name of the example partner files.
func seedNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../examples/*/partners.csv")
	if err != nil || len(files) == 0 {
		t.Fatalf("seed partner files: %v %v", files, err)
	}
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src := strings.TrimPrefix(string(b), "\ufeff")
		r := csv.NewReader(strings.NewReader(src))
		if strings.Count(strings.SplitN(src, "\n", 2)[0], ";") > 0 {
			r.Comma = ';'
		}
		rows, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		col := -1
		for i, h := range rows[0] {
			if strings.EqualFold(strings.TrimSpace(h), "name") {
				col = i
			}
		}
		for _, row := range rows[1:] {
			names = append(names, row[col])
		}
	}
	return names
}

// TestRecipientNameSurvivesTheToHeader: SendGrid puts the name into the To
// header as is, so the header "<name> <address>" must parse back, by Go's
// RFC 5322 parser, as exactly one recipient with the address and the name
// the partner file gave.
func TestRecipientNameSurvivesTheToHeader(t *testing.T) {
	names := append(seedNames(t), `Back\slash "Quoted" Ltd`, "Line\r\nBcc: evil@example.com", "Parens (UK) Ltd", "a@b Corp")
	withSpecials := 0
	for _, name := range names {
		got := RecipientName(name)
		if strings.ContainsAny(name, ",;") {
			withSpecials++
		}
		list, err := mail.ParseAddressList(got + " <partner@example.com>")
		if err != nil || len(list) != 1 {
			t.Errorf("%q sent as %q: the To header parses as %d recipients (%v)", name, got, len(list), err)
			continue
		}
		want := strings.Join(strings.Fields(name), " ")
		if list[0].Address != "partner@example.com" || list[0].Name != want {
			t.Errorf("%q sent as %q: the header reads %q <%s>", name, got, list[0].Name, list[0].Address)
		}
	}
	if withSpecials < 4 {
		t.Fatalf("only %d seed names hold a comma or semicolon; the test would prove little", withSpecials)
	}
	if got := RecipientName("Keystone Networks Inc."); got != "Keystone Networks Inc." {
		t.Errorf("a plain name changed: %q", got)
	}
}

func TestSendEmailQuotesRecipientName(t *testing.T) {
	f := newMailerFixture(t, 2*time.Second)
	in := testEmailInput("announcement")
	in.ToName = "Dupont, Martin et Associés"
	if _, err := f.mailer.SendEmail(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	msgs := f.stub.Messages()
	if len(msgs) != 1 || msgs[0].ToName != `"Dupont, Martin et Associés"` || msgs[0].To != in.To {
		t.Fatalf("sent to %q <%s>", msgs[0].ToName, msgs[0].To)
	}
	// The Event Webhook's events come back with the emails row's ID.
	var id int64
	if err := f.db.Pool.QueryRow(context.Background(), `SELECT id FROM emails WHERE workflow_id = $1 AND step = $2`, in.WorkflowID, in.Step).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if got := msgs[0].CustomArgs["email_id"]; got != strconv.FormatInt(id, 10) {
		t.Errorf("custom_args.email_id = %q, want the row's ID %d", got, id)
	}
}

// TestLostAnswerLogSaysWhatTheLookupGot: when the Email Activity lookup
// answers 404, the warning names the endpoint and its answer instead of
// guessing at the key's permissions.
func TestLostAnswerLogSaysWhatTheLookupGot(t *testing.T) {
	f := newMailerFixture(t, 300*time.Millisecond)
	var logs strings.Builder
	f.mailer.Log = zerolog.New(&logs)
	f.stub.RefuseActivity(sendgridstub.Reply{Status: http.StatusNotFound, Message: "resource not found"})
	f.stub.Enqueue(sendgridstub.AcceptSilently())
	in := testEmailInput("reminder/0/30d")
	ctx := context.Background()
	_, err := f.mailer.SendEmail(ctx, in)
	wantRetry(t, err, ErrTypeEmailUnavailable)
	if res, err := f.mailer.SendEmail(ctx, in); err != nil || res.Status != EmailSent {
		t.Fatalf("retry: %+v %v", res, err)
	}
	var warning map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e["endpoint"] != nil {
			warning = e
		}
	}
	if warning == nil {
		t.Fatalf("no warning names the endpoint:\n%s", logs.String())
	}
	if warning["endpoint"] != "GET /v3/messages" || warning["http_status"] != float64(404) || warning["answer"] != "resource not found" || warning["level"] != "warn" {
		t.Errorf("warning = %v", warning)
	}
	if msg := warning["message"].(string); strings.Contains(msg, "cannot read") || !strings.Contains(msg, "duplicate is possible") {
		t.Errorf("warning message %q", msg)
	}
	if strings.Contains(logs.String(), in.To) {
		t.Errorf("the partner's address reached the log:\n%s", logs.String())
	}
}
