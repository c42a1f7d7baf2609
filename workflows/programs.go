package workflows

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"github.com/tiershift/tiershift/program"
)

// programs holds one copy of each program the runs in this worker use,
// keyed by the SHA-256 of its JSON. Every run decodes its own copy from the
// LoadProgram result (or its input), and a cached sleeping run would keep
// it: 100,000 runs of one campaign would hold 100,000 identical programs.
// Runs never modify their program, so they can share one.
var programs sync.Map

// internProgram returns the worker's shared copy of p, storing p if it is
// the first. The key is the program's content, so two campaigns with
// different programs of the same ID never share one. A program that cannot
// be encoded is returned as it is.
func internProgram(p *program.Program) *program.Program {
	data, err := json.Marshal(p)
	if err != nil {
		return p
	}
	shared, _ := programs.LoadOrStore(sha256.Sum256(data), p)
	return shared.(*program.Program)
}
