// Package ids is the one definition of a campaign ID and a partner ID, and of
// every key derived from them (workflow IDs, their prefixes). Every entry
// point (partner files, operator flags, rows already stored) checks IDs with
// this package and nothing else, so that an ID accepted anywhere is accepted
// everywhere: an import that succeeds always launches.
//
// The rule: 1 to MaxCampaignLen (campaign) or MaxPartnerLen (partner) ASCII
// letters, digits, '.', '_' and '-', starting with a letter or a digit.
// Why so narrow:
//   - Temporal needs printable ASCII in workflow IDs (they travel in gRPC
//     headers) and bounds their length; keyword search attributes are bounded
//     too. Both limits are far above ours.
//   - No '/': workflow IDs are transition/<campaign>/<partner> and email
//     dedupe keys <workflow ID>/<step>, so with '/' forbidden in both IDs
//     each key splits back into exactly one (campaign, partner) pair: two
//     different pairs can never share a key, and the IDs of workflows already
//     running keep their format.
//   - No space, quote, backslash or other punctuation: IDs are typed on
//     command lines, quoted in visibility queries and written to CSV, where a
//     leading '=', '+', '-' or '@' would be a spreadsheet formula.
//
// The package is pure (no I/O) so that program, partnerfile, store,
// workflows and the CLI can all import it.
package ids

import (
	"errors"
	"fmt"
	"strings"
)

// Maximum lengths, in bytes (every allowed character is one byte). A
// workflow ID is then at most len("transition/")+64+1+128 = 204 bytes, far
// below Temporal's default limit of 1,000.
const (
	MaxCampaignLen = 64
	MaxPartnerLen  = 128
)

// Rule describes the allowed characters, for error messages and help texts.
const Rule = "ASCII letters, digits, '.', '_' and '-', starting with a letter or digit"

// workflowPrefix starts every transition's workflow ID.
const workflowPrefix = "transition/"

// Error says why an ID was refused. Offset is the byte offset of the first
// offending character (0 for an empty or too long ID).
type Error struct {
	What   string // "campaign ID" or "partner ID"
	ID     string
	Offset int
	Reason string
}

// Error prints the ID safely (escaped and shortened: it may hold control
// characters or megabytes) with the reason and the rule.
func (e *Error) Error() string {
	if e.ID == "" {
		return e.What + " is empty"
	}
	return fmt.Sprintf("%s %s %s (allowed: %s)", e.What, Quote(e.ID), e.Reason, e.ruleText())
}

func (e *Error) ruleText() string {
	max := MaxPartnerLen
	if e.What == "campaign ID" {
		max = MaxCampaignLen
	}
	return fmt.Sprintf("%s, at most %d characters", Rule, max)
}

// ErrInvalid is matched by every *Error with errors.Is.
var ErrInvalid = errors.New("invalid ID")

// Is makes errors.Is(err, ErrInvalid) true for every *Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Campaign checks a campaign ID.
func Campaign(s string) error { return check("campaign ID", s, MaxCampaignLen) }

// Partner checks a partner ID.
func Partner(s string) error { return check("partner ID", s, MaxPartnerLen) }

func check(what, s string, max int) error {
	if s == "" {
		return &Error{What: what}
	}
	if len(s) > max {
		return &Error{What: what, ID: s, Reason: fmt.Sprintf("is %d bytes long", len(s))}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if alnum(c) || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		var reason string
		switch {
		case i == 0 && (c == '.' || c == '_' || c == '-'):
			reason = fmt.Sprintf("starts with %q", c)
		case c >= 0x80:
			reason = fmt.Sprintf("has a non-ASCII character at byte %d", i+1)
		default:
			reason = fmt.Sprintf("has %q at byte %d", c, i+1)
		}
		return &Error{What: what, ID: s, Offset: i, Reason: reason}
	}
	return nil
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// maxQuoted bounds how much of a refused ID an error message repeats.
const maxQuoted = 40

// Quote returns s as a Go-quoted string safe for a terminal (control
// characters and invalid UTF-8 escaped), shortened when long.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return fmt.Sprintf("%q", s)
	}
	// Cut on a rune boundary so the quoted prefix stays readable.
	cut := maxQuoted
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
}

// WorkflowID is the deterministic ID of a partner's transition. With both
// IDs valid it is injective; it is the same format workflows launched before
// the rule already carry.
func WorkflowID(campaignID, partnerID string) string {
	return WorkflowIDPrefix(campaignID) + partnerID
}

// WorkflowIDPrefix starts the workflow ID of every transition of a campaign,
// and of no other campaign's (a campaign ID has no '/').
func WorkflowIDPrefix(campaignID string) string {
	return workflowPrefix + campaignID + "/"
}

// ParseWorkflowID splits a transition workflow ID into its campaign and
// partner, refusing one whose parts break the rule.
func ParseWorkflowID(id string) (campaignID, partnerID string, err error) {
	rest, ok := strings.CutPrefix(id, workflowPrefix)
	if ok {
		campaignID, partnerID, ok = strings.Cut(rest, "/")
	}
	if !ok || Campaign(campaignID) != nil || Partner(partnerID) != nil {
		return "", "", fmt.Errorf("workflow ID %s is not a transition (want transition/<campaign>/<partner>)", Quote(id))
	}
	return campaignID, partnerID, nil
}
