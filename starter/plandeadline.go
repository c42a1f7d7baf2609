package main

import (
	"cmp"
	"fmt"
	"time"

	"github.com/tiershift/tiershift/partnerfile"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

// planDeadlines gives plan each partner's deadline as a transition launched
// at launch would set it (program.DeadlineIn: the end of the grace
// period's last day in the program's zone), written in the partner's zone
// (zones.ForPartner), as its emails write it.
type planDeadlines struct {
	launch time.Time
	loc    *time.Location // the program's zone
	zone   string         // its name, "" for UTC
	tracks map[string]*program.Program
	// Caches, since a million partners share a handful of each and
	// computing them per row cost plan ~10% of its time: locs holds the
	// partners' zones, at each (track, old tier)'s deadline, text the
	// table's text of each (deadline, zone).
	locs map[string]*time.Location
	at   map[trackTier]time.Time
	text map[instantZone]string
}

type trackTier struct{ track, tier string }

type instantZone struct {
	unix int64
	zone string
}

// planDeadline is one partner's deadline per evaluation (one per track),
// in its zone, and that zone's name.
type planDeadline struct {
	at   []time.Time
	zone string
	from *planDeadlines // forRow's, whose cache holds the table's text
}

// tableText is the i-th deadline as plan's table shows it.
func (dl planDeadline) tableText(i int) string {
	return dl.from.tableText(dl.at[i], dl.zone)
}

func newPlanDeadlines(p *program.Program, launch time.Time) (*planDeadlines, error) {
	loc, err := zones.Load(cmp.Or(p.TimeZone, zones.UTC))
	if err != nil {
		return nil, err
	}
	d := &planDeadlines{launch: launch, loc: loc, zone: p.TimeZone, tracks: map[string]*program.Program{}, locs: map[string]*time.Location{},
		at: map[trackTier]time.Time{}, text: map[instantZone]string{}}
	for _, tp := range p.TrackPrograms() {
		d.tracks[tp.Name] = tp.Program
	}
	return d, nil
}

// zoneOf is the zone a partner reads its dates in.
func (d *planDeadlines) zoneOf(r partnerfile.Row) string {
	return zones.ForPartner(r.TimeZone, r.Country, d.zone)
}

// forRow is the deadline of each of evs, in r's zone; at is reused.
func (d *planDeadlines) forRow(at []time.Time, r partnerfile.Row, evs []program.TrackEvaluation) (planDeadline, error) {
	zone := d.zoneOf(r)
	loc, ok := d.locs[zone]
	if !ok {
		var err error
		if loc, err = zones.Load(zone); err != nil {
			return planDeadline{}, fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
		}
		d.locs[zone] = loc
	}
	at = at[:0]
	for _, ev := range evs {
		key := trackTier{ev.Track, ev.OldTier}
		dl, ok := d.at[key]
		if !ok {
			var err error
			if dl, err = d.tracks[ev.Track].DeadlineIn(ev.OldTier, d.launch, d.loc); err != nil {
				return planDeadline{}, fmt.Errorf("%s:%d: %w", r.File, r.Line, err)
			}
			d.at[key] = dl
		}
		at = append(at, dl.In(loc))
	}
	return planDeadline{at: at, zone: zone, from: d}, nil
}

// planTableDeadline is a deadline as plan's table shows it:
// "2010-01-14 23:59 Europe/Paris".
func planTableDeadline(t time.Time, zone string) string {
	return t.Format("2006-01-02 15:04") + " " + zone
}

// tableText is planTableDeadline, formatted once per deadline and zone.
func (d *planDeadlines) tableText(t time.Time, zone string) string {
	key := instantZone{t.Unix(), zone}
	if s, ok := d.text[key]; ok {
		return s
	}
	s := planTableDeadline(t, zone)
	d.text[key] = s
	return s
}
