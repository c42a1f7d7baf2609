package workflows

import (
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
