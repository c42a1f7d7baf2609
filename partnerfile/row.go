// Package partnerfile reads the partner file (CSV) that vendors export from
// their CRM or a spreadsheet. It streams, so a million-row file is read in
// constant memory, and it accepts what spreadsheet programs write: a UTF-8
// byte-order mark, ';' as the delimiter, CRLF line ends, quoted fields.
package partnerfile

import "github.com/tiershift/tiershift/program"

// Row is one partner as the file describes it. It is one of three partner
// types, each for a reason: Row carries where it came from (File, Line) for
// located errors and lives in a package without I/O, so plan and preview can
// use it with no database; store.Partner is the row as stored, with what
// only the database knows (timestamps, facts changed since by messages);
// contract.PartnerSnapshot is what a workflow records in its history, whose
// JSON names recorded histories depend on. activities' TestOnePartnerAcrossTheLayers
// keeps their shared fields the same.
type Row struct {
	// Line is the row's line number in the file (the header is line 1).
	Line      int
	PartnerID string
	Name      string
	Email     string
	Locale    string
	Country   string
	Tier      string
	// TimeZone is the partner's own IANA zone, when the file gives one.
	TimeZone string
	Facts    program.Facts
	// Tracks is the partner's current level in each track it takes part in
	// (programs with tracks only), sorted by track name.
	Tracks []program.TrackLevel
	// File is the name the reader was given, so later checks
	// can locate their errors.
	File string
}
