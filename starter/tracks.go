package main

import (
	"strings"

	"github.com/tiershift/tiershift/program"
)

// refuseTracks stops import and launch of a program with tracks. plan and
// preview forecast such programs track by track, but the transition
// workflow still decides one ladder per partner: importing would drop the
// partner file's tracks column and launching would run the program as if
// it had none. Refusing before anything is written keeps "a refused input
// changes nothing".
func refuseTracks(file string, p *program.Program) error {
	if p == nil || !p.HasTracks() {
		return nil
	}
	return badInputf("%s: program %s has tracks (%s): plan and preview forecast it, but import and launch do not run programs with tracks yet", file, p.ID, strings.Join(p.TrackNames(), ", "))
}
