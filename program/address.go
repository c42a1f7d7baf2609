package program

import (
	"fmt"
	"strings"
)

// MaxEmailLen is the longest address SMTP carries (RFC 5321: a 254-byte
// path without its angle brackets).
const MaxEmailLen = 254

// CheckEmailAddress is the one definition of an email address tiershift can
// write to, shared by the partner file reader (import, plan, preview) and the
// mailer, so an address that imports is one the mailer sends to: a bare
// address (no display name, no angle brackets), at most MaxEmailLen bytes,
// whose domain is a dot-separated host name of ASCII letters, digits and
// hyphens with at least one dot ("a@localhost" cannot be reached through
// SendGrid), and whose local part is an RFC 5322 dot-atom (no quoted local
// parts, no spaces, no non-ASCII: what every mail system delivers).
func CheckEmailAddress(s string) error {
	fail := func(reason string) error { return &AddressError{Address: s, Reason: reason} }
	if s == "" {
		return fail("is empty")
	}
	if len(s) > MaxEmailLen {
		return fail(fmt.Sprintf("is %d bytes long (at most %d)", len(s), MaxEmailLen))
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || !dotAtom(s[:at], true) {
		return fail("is not an email address (want name@domain.example)")
	}
	domain := s[at+1:]
	if !dotAtom(domain, false) {
		return fail("is not an email address: the domain is not a host name")
	}
	if !strings.Contains(domain, ".") {
		return fail("is not an email address: the domain has no dot")
	}
	return nil
}

// AddressError is an address CheckEmailAddress refused. Reason never repeats
// the address, so the mailer can log it without personal data.
type AddressError struct {
	Address string
	Reason  string
}

// Error quotes the address (for the operator fixing the partner file).
func (e *AddressError) Error() string {
	if e.Address == "" {
		return "email address " + e.Reason
	}
	if len(e.Address) > MaxEmailLen {
		return "email address " + e.Reason
	}
	return fmt.Sprintf("%q %s", e.Address, e.Reason)
}

// dotAtom reports whether s is a dot-atom of plain ASCII characters (RFC
// 5322 atext for a local part; letters, digits and '-' for a domain).
func dotAtom(s string, local bool) bool {
	prevDot := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
		case local && strings.IndexByte("!#$%&'*+/=?^_`{|}~", c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return !prevDot
}
