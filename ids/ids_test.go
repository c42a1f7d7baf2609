package ids

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

func TestPartnerRule(t *testing.T) {
	ok := []string{"R-02", "VMW-001", "a", "0", "ACME.eu_01", strings.Repeat("x", MaxPartnerLen)}
	for _, s := range ok {
		if err := Partner(s); err != nil {
			t.Errorf("Partner(%q) = %v, want nil", s, err)
		}
	}
	bad := map[string]string{
		"":                                   "is empty",
		"x/y":                                `'/' at byte 2`,
		"a\tb":                               `'\t' at byte 2`,
		"Société":                            "non-ASCII character at byte 5",
		"a b":                                `' ' at byte 2`,
		"-1":                                 `starts with '-'`,
		".hidden":                            `starts with '.'`,
		"=HYPERLINK(1)":                      `'=' at byte 1`,
		"a\x00":                              `'\x00' at byte 2`,
		"a\x1b[31m":                          `'\x1b' at byte 2`,
		strings.Repeat("x", MaxPartnerLen+1): "is 129 bytes long",
		strings.Repeat("y", 1501):            "is 1501 bytes long",
	}
	for s, want := range bad {
		err := Partner(s)
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("Partner(%q) = %v, want an ErrInvalid containing %q", s, err, want)
			continue
		}
		// The message must never carry control characters to a terminal.
		for _, r := range err.Error() {
			if !unicode.IsPrint(r) {
				t.Errorf("Partner(%q): message %q has %q", s, err, r)
			}
		}
		if len(err.Error()) > 300 {
			t.Errorf("Partner(%d bytes): message is %d bytes long", len(s), len(err.Error()))
		}
	}
}

func TestCampaignRule(t *testing.T) {
	if err := Campaign(strings.Repeat("c", MaxCampaignLen)); err != nil {
		t.Errorf("64-character campaign: %v", err)
	}
	if err := Campaign(strings.Repeat("c", MaxCampaignLen+1)); err == nil || !strings.Contains(err.Error(), "at most 64") {
		t.Errorf("65-character campaign: %v", err)
	}
	if err := Campaign("c/x"); err == nil || !strings.HasPrefix(err.Error(), `campaign ID "c/x"`) {
		t.Errorf("c/x: %v", err)
	}
}

// The collision of the issue: partner x/y of campaign c and partner y of
// campaign c/x shared transition/c/x/y. Both pairs are now refused, and any
// two accepted pairs map to different keys: each key parses back to its pair.
func TestWorkflowIDInjective(t *testing.T) {
	if Partner("x/y") == nil || Campaign("c/x") == nil {
		t.Fatal("an ID with '/' was accepted")
	}
	alphabet := "ab1.-_/ é"
	gen := func(r *rand.Rand) string {
		n := r.IntN(4)
		var b strings.Builder
		for range n {
			b.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	r := rand.New(rand.NewPCG(1, 2))
	seen := map[string][2]string{}
	for range 200000 {
		c, p := gen(r), gen(r)
		if Campaign(c) != nil || Partner(p) != nil {
			continue
		}
		id := WorkflowID(c, p)
		if other, dup := seen[id]; dup && other != [2]string{c, p} {
			t.Fatalf("%q and %q both map to %q", other, [2]string{c, p}, id)
		}
		seen[id] = [2]string{c, p}
		gc, gp, err := ParseWorkflowID(id)
		if err != nil || gc != c || gp != p {
			t.Fatalf("ParseWorkflowID(%q) = %q, %q, %v", id, gc, gp, err)
		}
		if !strings.HasPrefix(id, WorkflowIDPrefix(c)) {
			t.Fatalf("%q lacks its campaign's prefix", id)
		}
	}
	if len(seen) < 1000 {
		t.Fatalf("only %d valid pairs generated", len(seen))
	}
}

// A campaign's prefix never starts another campaign's workflow IDs: cohort
// operations filter on it.
func TestPrefixIsolatesCampaigns(t *testing.T) {
	if strings.HasPrefix(WorkflowID("ab", "c"), WorkflowIDPrefix("a")) {
		t.Fatal("campaign a's prefix matches a workflow of campaign ab")
	}
	for _, id := range []string{"transition/c/x/y", "transition/c/", "other/c/p", "transition/c"} {
		if _, _, err := ParseWorkflowID(id); err == nil {
			t.Errorf("ParseWorkflowID(%q) accepted", id)
		}
	}
}

func TestQuoteShortens(t *testing.T) {
	s := strings.Repeat("é", 100)
	q := Quote(s)
	if !strings.HasSuffix(q, "(200 bytes)") || len(q) > 70 {
		t.Fatalf("Quote = %s", q)
	}
}
