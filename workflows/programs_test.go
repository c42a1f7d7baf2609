package workflows

import (
	"crypto/sha256"
	"encoding/json"
	"runtime"
	"testing"
)

func TestRunsOfOneProgramShareOneCopy(t *testing.T) {
	a := loadExample(t, "vmware-2009")
	b := loadExample(t, "vmware-2009") // decoded separately, equal content
	if a == b {
		t.Fatal("loadExample returned one pointer twice; the test needs two copies")
	}
	if internProgram(a) != internProgram(b) {
		t.Fatal("two copies of one program were not shared")
	}
	c := loadExample(t, "vmware-2009")
	c.Reminders = c.Reminders[:len(c.Reminders)-1] // same ID, other rules
	if internProgram(c) == internProgram(a) {
		t.Fatal("a program with other rules under the same ID was given the shared copy")
	}
}

// TestSharedProgramsAreForgottenWhenNoRunHoldsThem: the worker-global map
// must not grow with every program a long-lived worker ever ran.
func TestSharedProgramsAreForgottenWhenNoRunHoldsThem(t *testing.T) {
	p := loadExample(t, "vmware-2009")
	p.ID = "forgotten-" + t.Name() // content no other test interns
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	key := sha256.Sum256(data)
	if internProgram(p) != p {
		t.Fatal("the first copy of a program was not the one stored")
	}
	if _, ok := programs.Load(key); !ok {
		t.Fatal("the program was not stored")
	}
	p = nil
	// Cleanups run on their own goroutine after a collection: collect until
	// it has run, a bounded number of times.
	for i := 0; i < 100; i++ {
		runtime.GC()
		runtime.Gosched()
		if _, ok := programs.Load(key); !ok {
			return
		}
	}
	t.Fatal("the entry of a program no run holds is still in the map after 100 collections")
}
