package workflows

import (
	"crypto/sha256"
	"encoding/json"
	"runtime"
	"sync"
	"weak"

	"github.com/tiershift/tiershift/program"
)

// programs holds one copy of each program the runs in this worker use,
// keyed by the SHA-256 of its JSON. Every run decodes its own copy from the
// LoadProgram result (or its input), and a cached sleeping run would keep
// it: 100,000 runs of one campaign would hold 100,000 identical programs.
// Runs never modify their program, so they can share one.
//
// The map holds the copies weakly: a program stays while some run holds it,
// and its entry goes once the last such run has left the worker's cache and
// the garbage collector has reclaimed the program. A worker that runs
// campaign after campaign for months therefore holds only the programs of
// the runs it caches now.
var programs sync.Map // [sha256.Size]byte → weak.Pointer[program.Program]

// internProgram returns the worker's shared copy of p, storing p if there is
// none. The key is the program's content, so two campaigns with different
// programs of the same ID never share one. A program that cannot be encoded
// is returned as it is.
//
// The result is the same value whichever copy is returned, so the choice
// cannot make a replay differ.
func internProgram(p *program.Program) *program.Program {
	data, err := json.Marshal(p)
	if err != nil {
		return p
	}
	key := sha256.Sum256(data)
	mine := weak.Make(p)
	for {
		v, loaded := programs.LoadOrStore(key, mine)
		if !loaded {
			forgetWhenCollected(p, key, mine)
			return p
		}
		if shared := v.(weak.Pointer[program.Program]).Value(); shared != nil {
			return shared
		}
		// The last holder of the stored copy is gone; its cleanup has not
		// run yet. Replace it with p (or lose to another run that did).
		if programs.CompareAndSwap(key, v, mine) {
			forgetWhenCollected(p, key, mine)
			return p
		}
	}
}

// forgetWhenCollected removes key's entry once p is garbage, unless the
// entry was replaced by another copy meanwhile.
func forgetWhenCollected(p *program.Program, key [sha256.Size]byte, wp weak.Pointer[program.Program]) {
	runtime.AddCleanup(p, func(key [sha256.Size]byte) { programs.CompareAndDelete(key, wp) }, key)
}
