// Package secrettest is the one table of hostile DATABASE_URL and
// SENDGRID_API_KEY values that tests of the starter, the worker, the store
// and the mailer run through their real code paths, to check that no
// secret is ever printed. A new form is one new row here.
package secrettest

import (
	"net/url"
	"strings"
)

// Secret is one value with the texts that must appear nowhere: the
// password or key and its distinctive pieces (a form that is split at a
// special character must not show either half).
type Secret struct {
	Name    string
	Value   string
	Secrets []string
	// Parses: tiershift accepts the string, so a connection is tried (and
	// refused); otherwise it is refused as bad input before any dial.
	Parses bool
}

// DatabaseURLs returns the forms of DATABASE_URL: refusingServer is the URL
// of a real PostgreSQL server, whose password is replaced by a wrong one.
// Every other form points at 127.0.0.1:1, where nothing listens.
func DatabaseURLs(refusingServer string) []Secret {
	wrong := refusingServer
	if u, err := url.Parse(refusingServer); err == nil {
		u.User = url.UserPassword("tiershift_nobody", "Wr0ngPa55Kx7")
		wrong = u.String()
	}
	return []Secret{
		{"space in the host", "postgres://tiershift:Hq7pWz3kLm@local host:1/tiershift", []string{"Hq7pWz3kLm"}, false},
		{"unencoded / in the password", "postgres://tiershift:Zq8wLk/Vx3mTr@127.0.0.1:1/tiershift", []string{"Zq8wLk", "Vx3mTr"}, false},
		{"unencoded / in the password, digits first", "postgres://tiershift:5432/Mn8bVcXz@127.0.0.1:1/tiershift", []string{"Mn8bVcXz"}, false},
		{"% in the password", "postgres://tiershift:Pc4dKq%Rn8yBv@127.0.0.1:1/tiershift", []string{"Pc4dKq", "Rn8yBv"}, false},
		{"space in the password", "postgres://tiershift:Wt5nJx Ya2cFe@127.0.0.1:1/tiershift", []string{"Wt5nJx", "Ya2cFe"}, false},
		{"# in the password", "postgres://tiershift:Kd9sLp#Mf2hQw@127.0.0.1:1/tiershift", []string{"Kd9sLp", "Mf2hQw"}, true},
		{"? in the password", "postgres://tiershift:Ab3dEf?Gh5jKl@127.0.0.1:1/tiershift", []string{"Ab3dEf", "Gh5jKl"}, true},
		{"@ in the password", "postgres://tiershift:Nb6vCx@Gh1jRt@127.0.0.1:1/tiershift", []string{"Nb6vCx", "Gh1jRt"}, false},
		{"percent-encoded password", "postgres://tiershift:Qw8eRt%2FYu4iOp@127.0.0.1:1/tiershift", []string{"Qw8eRt", "Yu4iOp"}, true},
		{"keyword=value", "host=127.0.0.1 port=1 user=tiershift password=Ys3mTq8Lwz dbname=tiershift", []string{"Ys3mTq8Lwz"}, true},
		{"keyword=value, quoted", "host=127.0.0.1 port=1 user=tiershift password='Js6 kPw2Rq' dbname=tiershift", []string{"Js6 kPw2Rq", "kPw2Rq"}, true},
		{"keyword=value that does not parse", "host=127.0.0.1 password=Lx4cVb7Nm9 dbname", []string{"Lx4cVb7Nm9"}, false},
		// pgx's own redaction of this one leaves the part after the space.
		{"keyword=value with an unclosed quote", "host=127.0.0.1 password='Fq2xZ Hk9Lm3Np dbname=tiershift", []string{"Fq2xZ", "Hk9Lm3Np"}, false},
		{"password in the query", "postgres://tiershift@127.0.0.1:1/tiershift?password=Ur7kPn2Dxs", []string{"Ur7kPn2Dxs"}, true},
		{"a port pgx cannot parse", "postgres://tiershift:Ej4rTy9Uio@localhost:notaport/tiershift", []string{"Ej4rTy9Uio"}, false},
		{"a server that refuses the password", wrong, []string{"Wr0ngPa55Kx7"}, true},
	}
}

// SendGridKeys returns the forms of SENDGRID_API_KEY; none is the key the
// sendgridstub accepts.
func SendGridKeys() []Secret {
	return []Secret{
		{"a key SendGrid refuses", "SG.Rj7kQw2Lp9Xz.Tn4bVc8Mx1", []string{"Rj7kQw2Lp9Xz", "Tn4bVc8Mx1"}, true},
		{"a key with a newline", "SG.Nl5kWq8Zr\nTy3pLm6Xc", []string{"Nl5kWq8Zr", "Ty3pLm6Xc"}, true},
		{"a key with a space", "SG.Sp2cWe9Rt Bn6mKj3Hg", []string{"Sp2cWe9Rt", "Bn6mKj3Hg"}, true},
	}
}

// Leaks returns the secrets of s found in text.
func (s Secret) Leaks(text string) []string {
	var found []string
	for _, x := range s.Secrets {
		if strings.Contains(text, x) {
			found = append(found, x)
		}
	}
	return found
}
