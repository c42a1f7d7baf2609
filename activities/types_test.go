package activities

import (
	"reflect"
	"testing"

	"github.com/tiershift/tiershift/activities/contract"
	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/store"
)

// sameFields reports every field of from that to lacks, or has with another
// type, except those named in skip.
func sameFields(t *testing.T, from, to any, skip ...string) {
	t.Helper()
	ft, tt := reflect.TypeOf(from), reflect.TypeOf(to)
	for f := range ft.Fields() {
		if contains(skip, f.Name) {
			continue
		}
		g, ok := tt.FieldByName(f.Name)
		switch {
		case !ok:
			t.Errorf("%s.%s has no counterpart in %s", ft, f.Name, tt)
		case g.Type != f.Type:
			t.Errorf("%s.%s is %s, but %s.%s is %s", ft, f.Name, f.Type, tt, f.Name, g.Type)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// One partner crosses three layers in three types (partnerfile.Row explains
// why): whatever the file or a workflow knows of a partner, the store keeps
// under the same name and type, and the contract's copies of store types
// match them field for field, so a field added in one place and forgotten
// in another fails here rather than vanishing between layers.
func TestOnePartnerAcrossTheLayers(t *testing.T) {
	sameFields(t, partnerfile.Row{}, store.Partner{}, "Line", "File")
	sameFields(t, contract.PartnerSnapshot{}, store.Partner{})
	sameFields(t, contract.StageUpdate{}, store.StageUpdate{})
	sameFields(t, store.StageUpdate{}, contract.StageUpdate{})
	sameFields(t, contract.TierChange{}, store.TierChange{})
	sameFields(t, store.TierChange{}, contract.TierChange{})
}
