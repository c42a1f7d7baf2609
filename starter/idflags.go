package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/partnerfile"
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

// encodingFlag adds --encoding for commands that read a partner file.
func encodingFlag(f *pflag.FlagSet, p *string) {
	f.StringVar(p, "encoding", partnerfile.EncodingAuto, "partner file encoding: "+strings.Join(partnerfile.Encodings, ", ")+
		" (auto: a byte-order mark, else UTF-8, else Windows-1252 with a note on stderr)")
}
