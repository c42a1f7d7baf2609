package program

import (
	"net/mail"
	"strings"
	"testing"
)

func TestCheckEmailAddress(t *testing.T) {
	for _, s := range []string{"a@b.example", "first.last+tag@sub.example.com", "o'brien@x-y.example"} {
		if err := CheckEmailAddress(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		"":                                      "empty",
		"a@localhost":                           "the domain has no dot",
		"not-an-email":                          "is not an email address",
		"Name <m@x.example>":                    "is not an email address",
		"a@b_c.example":                         "is not a host name",
		"a@exämple.fr":                          "is not a host name",
		"a@.example":                            "is not a host name",
		"a@b.example.":                          "is not a host name",
		"a..b@x.example":                        "is not an email address",
		strings.Repeat("a", 250) + "@x.example": "bytes long",
		"a@b.example\r\nBcc: x@y.example":       "is not an email address",
	} {
		err := CheckEmailAddress(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}

// Every address the rule accepts is one net/mail (and so sendgrid-go)
// accepts as a bare address.
func TestEmailRuleIsSubsetOfNetMail(t *testing.T) {
	for _, s := range []string{"a@b.example", "first.last+tag@sub.domain.example", "x@y", ".a@b.example", "a.@b.example", "a..b@c.example",
		"a@b..example", "a@-b.example", "é@b.example", "a b@c.example", "a@b.example.", "o'neil@x.example", "@x.example", "a@",
		"{}@x.example", "a@b@c.example", "a@xn--bcher-kva.example"} {
		if CheckEmailAddress(s) != nil {
			continue
		}
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			t.Errorf("the rule accepts %q but net/mail does not: %v", s, err)
		}
	}
}
