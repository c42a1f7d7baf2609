package activities

import (
	"strings"
	"unicode"
)

// RecipientName makes a partner's name safe for SendGrid's
// personalizations[].to[].name. SendGrid builds the To header from the
// name without quoting it, so a comma or semicolon there splits the
// recipient ("Dupont, Martin et Associés" becomes a recipient "Dupont" and
// the message is dropped as invalid: sendgrid-ruby#77, sendgrid-php#351);
// its documentation says such names are not supported (sendgrid/docs#2452).
//
// The name is kept, not cleaned or dropped: a name holding any RFC 5322
// "special" (a comma, semicolon, quote, parentheses, angle brackets, colon,
// at sign, backslash or square brackets) is sent as an RFC 5322 quoted
// string, "Dupont, Martin et Associés" with its quotes, backslash-escaping
// any quote or backslash inside, which every mail reader shows without the
// quotes. Control characters (line breaks could inject headers) become
// spaces and runs of spaces collapse. A name that is empty after that is
// sent without a name, which the caller logs.
func RecipientName(name string) string {
	name = strings.Join(strings.FieldsFunc(name, func(r rune) bool {
		return unicode.IsControl(r) || unicode.IsSpace(r)
	}), " ")
	if !strings.ContainsAny(name, `,;"()<>[]:@\`) {
		return name
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}
