package codec

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// BenchmarkRoundTrip encrypts and decrypts one payload of the size of a
// transition's state (a few KB), the codec's cost per payload a worker
// writes and reads.
func BenchmarkRoundTrip(b *testing.B) {
	r, err := Load("", "F", "k1:"+secret(1), "E")
	if err != nil {
		b.Fatal(err)
	}
	c := New(r)
	state := map[string]any{"name": "Élodie Martin", "email": "elodie.martin@example.fr", "missing": make([]string, 64)}
	for i := range 64 {
		state["missing"].([]string)[i] = "certification VTSP 1 of 2"
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(state)
	if err != nil {
		b.Fatal(err)
	}
	in := []*commonpb.Payload{p}
	b.SetBytes(int64(len(p.Data)))
	b.ReportAllocs()
	for b.Loop() {
		enc, err := c.Encode(in)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
