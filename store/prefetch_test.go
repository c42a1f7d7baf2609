package store

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"testing"

	"github.com/tiershift/tiershift/partnerfile"
)

// countedRows yields n rows, then end (io.EOF or an error), and counts the
// calls made to it.
type countedRows struct {
	n     int
	end   error
	calls atomic.Int64
}

func (c *countedRows) Next() (partnerfile.Row, error) {
	i := int(c.calls.Add(1))
	if i > c.n {
		return partnerfile.Row{}, c.end
	}
	return partnerfile.Row{Line: i + 1, PartnerID: fmt.Sprintf("p%d", i)}, nil
}

func TestPrefetchKeepsOrderAndTheEnd(t *testing.T) {
	failed := errors.New("line 2049: unreadable")
	for _, tc := range []struct {
		n   int
		end error
	}{
		{0, io.EOF},
		{1, io.EOF},
		{prefetchBatch, io.EOF},
		{3*prefetchBatch + 7, io.EOF},
		{2*prefetchBatch + 1, failed},
	} {
		t.Run(fmt.Sprintf("%d rows then %v", tc.n, tc.end), func(t *testing.T) {
			src := &countedRows{n: tc.n, end: tc.end}
			p := prefetch(src)
			defer p.stop()
			for i := 1; i <= tc.n; i++ {
				row, err := p.Next()
				if err != nil || row.PartnerID != fmt.Sprintf("p%d", i) {
					t.Fatalf("row %d: got %q, %v", i, row.PartnerID, err)
				}
			}
			for range 2 { // the end is sticky, and nothing more is read
				if _, err := p.Next(); err != tc.end {
					t.Fatalf("after %d rows: got %v, want %v", tc.n, err, tc.end)
				}
			}
			if c := src.calls.Load(); c != int64(tc.n+1) {
				t.Fatalf("the stream was read %d times, want %d", c, tc.n+1)
			}
		})
	}
}

// A COPY that fails stops reading early: stop must end the reading
// goroutine, which leaves the stream alone from then on.
func TestPrefetchStopsReading(t *testing.T) {
	src := &countedRows{n: 1_000_000, end: io.EOF}
	p := prefetch(src)
	if _, err := p.Next(); err != nil {
		t.Fatal(err)
	}
	p.stop()
	after := src.calls.Load()
	if after >= 1_000_000 {
		t.Fatalf("read the whole stream (%d calls) before stopping", after)
	}
	select {
	case <-p.finished:
	default:
		t.Fatal("stop returned with the reader still running")
	}
	if n := src.calls.Load(); n != after {
		t.Fatalf("the stream was read after stop: %d calls, then %d", after, n)
	}
}
