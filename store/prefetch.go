package store

import "github.com/tiershift/tiershift/partnerfile"

// prefetchBatch is how many rows the reading goroutine hands over at once:
// enough to make the channel's cost per row negligible, few enough that
// ~4 batches of rows in flight stay under a megabyte.
const prefetchBatch = 512

// prefetchedRows reads a Rows stream on a goroutine of its own, a few
// batches ahead of its caller. An import's COPY calls Next from pgx's
// encoding goroutine: without it, reading and checking the partner file and
// encoding the rows for the server took turns on one core (~3 s of CPU for
// 1,000,000 rows against the server's ~2 s, so the client set the COPY's
// pace); with it they run side by side.
type prefetchedRows struct {
	batches  chan rowBatch
	done     chan struct{} // closed by stop: the reader must give up
	finished chan struct{} // closed by the reader once it has returned

	cur []partnerfile.Row
	i   int
	err error // what the stream ended with, once its last batch is taken
}

type rowBatch struct {
	rows []partnerfile.Row
	err  error // non-nil on the last batch: io.EOF or what the stream failed with
}

// prefetch starts reading rows. The caller must call stop once it is done
// with the stream, however it ends: rows is not touched after stop returns.
func prefetch(rows Rows) *prefetchedRows {
	p := &prefetchedRows{
		batches:  make(chan rowBatch, 4),
		done:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	go p.read(rows)
	return p
}

func (p *prefetchedRows) read(rows Rows) {
	defer close(p.finished)
	batch := make([]partnerfile.Row, 0, prefetchBatch)
	for {
		row, err := rows.Next()
		if err == nil {
			batch = append(batch, row)
			if len(batch) < prefetchBatch {
				continue
			}
		}
		select {
		case p.batches <- rowBatch{rows: batch, err: err}:
		case <-p.done:
			return
		}
		if err != nil {
			return
		}
		batch = make([]partnerfile.Row, 0, prefetchBatch)
	}
}

// Next returns the rows in the order the stream gave them, then the error
// it ended with (io.EOF at its end).
func (p *prefetchedRows) Next() (partnerfile.Row, error) {
	for p.i == len(p.cur) {
		if p.err != nil {
			return partnerfile.Row{}, p.err
		}
		b := <-p.batches
		p.cur, p.i, p.err = b.rows, 0, b.err
	}
	p.i++
	return p.cur[p.i-1], nil
}

// stop ends the reading goroutine, if it is still reading, and waits for
// it: what the stream recorded (a starter's list of problems) is then safe
// to read.
func (p *prefetchedRows) stop() {
	close(p.done)
	<-p.finished
}
