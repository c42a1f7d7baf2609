package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tiershift/tiershift/logging"
)

// progress counts a launch's outcomes; workers update it concurrently and a
// reporter shows it: a bar redrawn in place on a terminal, a log line every
// few seconds otherwise.
type progress struct {
	total   int64
	start   time.Time
	started atomic.Int64
	already atomic.Int64
	failed  atomic.Int64
}

func newProgress(total int64, now time.Time) *progress {
	return &progress{total: total, start: now}
}

// snapshot is one consistent-enough reading of the counters.
type snapshot struct {
	Total, Started, Already, Failed, Done int64
	Rate                                  float64 // starts per second so far
	Elapsed, ETA                          time.Duration
}

func (p *progress) snapshot(now time.Time) snapshot {
	s := snapshot{Total: p.total, Started: p.started.Load(), Already: p.already.Load(), Failed: p.failed.Load()}
	s.Done = s.Started + s.Already + s.Failed
	s.Elapsed = now.Sub(p.start)
	if sec := s.Elapsed.Seconds(); sec > 0 {
		s.Rate = float64(s.Done) / sec
	}
	if s.Rate > 0 && s.Total > s.Done {
		s.ETA = time.Duration(float64(s.Total-s.Done) / s.Rate * float64(time.Second))
	}
	return s
}

const barWidth = 30

// bar renders the one-line progress bar.
func (s snapshot) bar() string {
	frac := 1.0
	if s.Total > 0 {
		frac = min(float64(s.Done)/float64(s.Total), 1)
	}
	filled := int(frac * barWidth)
	eta := "--"
	if s.ETA > 0 {
		eta = s.ETA.Round(time.Second).String()
	} else if s.Done >= s.Total {
		eta = "0s"
	}
	return fmt.Sprintf("[%s%s] %3.0f%% %d/%d  started %d  already %d  failed %d  %.1f/s  ETA %s",
		strings.Repeat("=", filled), strings.Repeat(" ", barWidth-filled), frac*100,
		s.Done, s.Total, s.Started, s.Already, s.Failed, s.Rate, eta)
}

func (s snapshot) log(ev *zerolog.Event) *zerolog.Event {
	return ev.Int64("done", s.Done).Int64("total", s.Total).Int64("started", s.Started).
		Int64("already", s.Already).Int64("failed", s.Failed).
		Float64("rate_per_s", roundTo(s.Rate, 1)).Str("eta", logging.Duration(s.ETA))
}

func roundTo(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}

// report shows progress until ctx ends, then shows the final state once
// more. On a terminal it redraws a bar on w; otherwise it tells every
// interval (a line of the bar, or a structured line).
func (p *progress) report(ctx context.Context, w io.Writer, tty bool, tell teller, log zerolog.Logger, interval time.Duration) {
	if tty {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s := p.snapshot(time.Now())
			if tty {
				fmt.Fprintf(w, "\r%s\n", s.bar())
			}
			return
		case now := <-t.C:
			s := p.snapshot(now)
			if tty {
				fmt.Fprintf(w, "\r%s", s.bar())
			} else {
				tell.say(w, log, "launch progress", s.log, "%s\n", s.bar())
			}
		}
	}
}
