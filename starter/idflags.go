package main

import (
	"github.com/spf13/pflag"

	"github.com/tiershift/tiershift/ids"
)

// idValue is a --campaign or --partner flag: it checks the ID with the one
// rule (package ids) as the command line is parsed, so no command can act on
// an ID an import would refuse, and a bad one is a flag error (exit 2).
type idValue struct {
	p     *string
	check func(string) error
}

func (v idValue) Set(s string) error {
	if err := v.check(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

func (v idValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v idValue) Type() string { return "id" }

// campaignFlag adds --campaign, checked by ids.Campaign.
func campaignFlag(f *pflag.FlagSet, p *string) {
	f.Var(idValue{p, ids.Campaign}, "campaign", "campaign ID ("+ids.Rule+")")
}

// partnerFlag adds --partner, checked by ids.Partner.
func partnerFlag(f *pflag.FlagSet, p *string, usage string) {
	f.Var(idValue{p, ids.Partner}, "partner", usage)
}
