package activities

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tiershift/tiershift/internal/pgtest"
	"github.com/tiershift/tiershift/internal/secrettest"
	"github.com/tiershift/tiershift/internal/sendgridstub"
)

// TestMailerNeverPrintsTheKey sends an email with every form of
// SENDGRID_API_KEY to the stub, which accepts none of them (401) or is never
// reached (a key that cannot be a header): the result, the error, the
// emails row and the logs never hold the key or a piece of it.
func TestMailerNeverPrintsTheKey(t *testing.T) {
	db := pgtest.New(t)
	stub := sendgridstub.New()
	t.Cleanup(stub.Close)
	for i, c := range secrettest.SendGridKeys() {
		t.Run(c.Name, func(t *testing.T) {
			var logs bytes.Buffer
			m := NewMailer(db.Pool, c.Value, stub.URL, 2*time.Second, zerolog.New(&logs).Level(zerolog.DebugLevel))
			in := testEmailInput(fmt.Sprintf("key-%d", i))
			res, err := m.SendEmail(context.Background(), in)
			if err == nil && res.Status != EmailFailed {
				t.Fatalf("sent with a key the stub refuses: %+v", res)
			}
			f := &mailerFixture{db: db}
			text := fmt.Sprintf("%+v %v %+v %s", res, err, f.row(t, in), logs.String())
			if leaks := c.Leaks(text); len(leaks) > 0 {
				t.Errorf("shows %q: %s", leaks, text)
			}
		})
	}
}
