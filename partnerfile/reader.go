package partnerfile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/tiershift/tiershift/ids"
	"github.com/tiershift/tiershift/program"
	"github.com/tiershift/tiershift/zones"
)

// Column names, as they appear (case-insensitively) in the header.
const (
	ColPartnerID      = "partner_id"
	ColName           = "name"
	ColEmail          = "email"
	ColLocale         = "locale"
	ColCountry        = "country"
	ColTier           = "tier"
	ColRevenue        = "revenue"
	ColPoints         = "points"
	ColCertifications = "certifications"
	ColCompetencies   = "competencies"
	ColModules        = "modules"
	// ColTracks holds the partner's current level in each track of a
	// program with tracks: "Resell:Advanced|Sell With:Ready".
	ColTracks = "tracks"
	// ColTimeZone is the IANA zone the partner reads its dates in
	// ("Europe/Paris"); without it, its country's zone when the country has
	// only one, else the program's (zones.ForPartner).
	ColTimeZone = "timezone"
)

// Columns lists every column a partner file may have, in canonical order.
var Columns = []string{ColPartnerID, ColName, ColEmail, ColLocale, ColCountry, ColTier, ColRevenue, ColPoints, ColCertifications, ColCompetencies, ColModules, ColTracks, ColTimeZone}

// RequiredColumns must be present in every partner file.
var RequiredColumns = []string{ColPartnerID, ColName, ColEmail, ColTier}

// Locales are the partner languages tiershift can write to:
// program.SupportedLocales, the one list.
var Locales = program.SupportedLocales

// RowError is one problem in the partner file, located by physical line,
// character column and column name so that it can be fixed in a
// spreadsheet or an editor.
type RowError struct {
	File string
	Line int
	// Col is the 1-based byte column where the field starts (0: the whole
	// line), as encoding/csv counts it in the UTF-8 text it reads.
	Col     int
	Column  string
	Message string
}

// Error formats the problem as "file:line:col: column: message", the form
// editors and compilers use.
func (e *RowError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	b.WriteString(strconv.Itoa(e.Line))
	if e.Col > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Col))
	}
	b.WriteString(": ")
	if e.Column != "" {
		b.WriteString(e.Column)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// RowErrors is several problems found at once: in the header, or in one row.
// errors.As(err, &rowErr) finds the first; Errors lists them all.
type RowErrors []*RowError

// Error prints one problem per line.
func (es RowErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each problem to errors.Is and errors.As.
func (es RowErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Errors returns the row errors in err (a *RowError or RowErrors), or nil if
// err is not about rows: such an error (I/O) means reading must stop.
func Errors(err error) []*RowError {
	var many RowErrors
	if errors.As(err, &many) {
		return many
	}
	var one *RowError
	if errors.As(err, &one) {
		return []*RowError{one}
	}
	return nil
}

// Reader streams partners from a CSV partner file.
type Reader struct {
	file   string
	csv    *csv.Reader
	col    [kTimeZone + 1]int // index of each column in a record, or -1
	ncol   int
	seen   IDSet // partner IDs and their first lines, for duplicates
	errs   RowErrors
	header []string
	prog   *program.Program // when set, rows are checked against it
	notice string
	// windows1252: the text was decoded from Windows-1252, so a U+FFFD in
	// it is a byte that encoding does not define.
	windows1252 bool
	// validCountry[26*(a-'a')+(b-'a')] is whether "ab" was found to be a
	// country code (Reader.country).
	validCountry [26 * 26]bool
	rows         int   // rows returned so far, valid or not
	empty        bool  // the "no partner rows" error was returned
	maxLen       []int // per record index: the column's MaxFieldLen
}

// Options tune how a partner file is read.
type Options struct {
	// Encoding is one of Encodings; "" means EncodingAuto.
	Encoding string
}

// NewReader reads the header of a partner file and returns a reader for its
// rows, with the default Options.
func NewReader(r io.Reader, filename string) (*Reader, error) {
	return NewReaderWith(r, filename, Options{})
}

// NewReaderWith reads the header of a partner file and returns a reader for
// its rows. The encoding is read from a byte-order mark (UTF-8, UTF-16) or
// taken from opts (auto: UTF-8 when the start of the file is UTF-8, else
// Windows-1252, said in Notice). The delimiter (',', ';' or tab) is
// detected from the header line. Lone carriage returns as line ends, NUL
// bytes in the header and a header with no rows are refused by name. A bad
// header is reported as RowErrors naming every bad column.
func NewReaderWith(r io.Reader, filename string, opts Options) (*Reader, error) {
	enc := opts.Encoding
	if enc == "" {
		enc = EncodingAuto
	}
	if !slices.Contains(Encodings, enc) {
		return nil, fmt.Errorf("encoding %q is not supported (use one of %s)", enc, strings.Join(Encodings, ", "))
	}
	text, used, notice, err := decode(r, filename, enc)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(text, sniffSize)
	head, _ := br.Peek(br.Size())
	if crOnly(head) {
		return nil, headerError(filename, "the lines end with a carriage return alone (the old Mac format), so the whole file reads as one line; save it with Windows (CRLF) or Unix (LF) line ends")
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	cr.Comma = detectDelimiter(head)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rd := &Reader{file: filename, csv: cr, notice: notice, windows1252: used == EncodingWindows1252}
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, RowErrors{{File: filename, Line: 1, Message: "file is empty; the first line must be a header such as " + strings.Join(RequiredColumns, ",")}}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, RowErrors{{File: filename, Line: pe.Line, Col: pe.Column, Message: "header: " + pe.Err.Error()}}
		}
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	if err := rd.readHeader(rec); err != nil {
		return nil, err
	}
	return rd, nil
}

// Notice is what the operator should be told about how the file was read
// (its encoding was guessed), or "".
func (rd *Reader) Notice() string { return rd.notice }

// detectDelimiter picks whichever of ',', ';' and tab appears most often
// outside quotes in the header line; French Excel writes ';'.
func detectDelimiter(line []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ',' || c == ';' || c == '\t'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// maxColumnName is the longest unknown column name a message names it by.
const maxColumnName = 40

func (rd *Reader) readHeader(rec []string) error {
	for i := range rd.col {
		rd.col[i] = -1
	}
	var errs RowErrors
	rd.header = make([]string, len(rec))
	rd.maxLen = make([]int, len(rec))
	for i, h := range rec {
		_, col := rd.csv.FieldPos(i)
		name := strings.ToLower(strings.TrimSpace(h))
		rd.header[i] = name
		rd.maxLen[i] = maxFieldLen(name)
		k := slices.Index(Columns, name)
		switch {
		case name == "":
			errs = append(errs, &RowError{File: rd.file, Line: 1, Col: col, Column: fmt.Sprintf("column %d", i+1), Message: "header has an empty column name"})
		case k < 0:
			// The name is quoted, and the column named by its number
			// when its name is not plain text: nothing of it reaches a
			// terminal raw.
			column := name
			if checkField(name, maxColumnName, rd.windows1252) != "" {
				column = fmt.Sprintf("column %d", i+1)
			}
			errs = append(errs, &RowError{File: rd.file, Line: 1, Col: col, Column: column, Message: fmt.Sprintf("unknown column %s (columns: %s)", ids.Quote(h), strings.Join(Columns, ", "))})
		case rd.col[k] >= 0:
			errs = append(errs, &RowError{File: rd.file, Line: 1, Col: col, Column: name, Message: fmt.Sprintf("column %q appears twice (columns %d and %d)", name, rd.col[k]+1, i+1)})
		default:
			rd.col[k] = i
		}
	}
	for _, req := range RequiredColumns {
		if rd.col[slices.Index(Columns, req)] < 0 {
			errs = append(errs, &RowError{File: rd.file, Line: 1, Column: req, Message: fmt.Sprintf("required column %q is missing (required: %s)", req, strings.Join(RequiredColumns, ", "))})
		}
	}
	rd.ncol = len(rec)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Next returns the next partner. At the end of the file it returns io.EOF.
// A problem with the row is returned as a *RowError (or RowErrors when the
// row has several) together with what could be read of the row; reading may
// go on, so that all problems of a file are reported at once. Any other
// error is fatal.
func (rd *Reader) Next() (Row, error) {
	for {
		rec, err := rd.csv.Read()
		if err == io.EOF {
			if rd.rows == 0 && !rd.empty {
				rd.empty = true
				return Row{Line: 1, File: rd.file}, &RowError{File: rd.file, Line: 1,
					Message: "the file holds no partner: it has a header but no rows"}
			}
			return Row{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				rd.rows++
				return Row{Line: pe.StartLine, File: rd.file}, &RowError{File: rd.file, Line: pe.Line, Col: pe.Column, Message: "cannot read the line: " + pe.Err.Error() + " (check the quotes)"}
			}
			return Row{}, fmt.Errorf("read %s: %w", rd.file, err)
		}
		if blank(rec) {
			continue
		}
		return rd.row(rec)
	}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// field returns column k of a record whose fields checkFields trimmed.
func (rd *Reader) field(rec []string, k int) string {
	i := rd.col[k]
	if i < 0 || i >= len(rec) {
		return ""
	}
	return rec[i]
}

// fail records a problem with column k (kPartnerID...) of the current record.
func (rd *Reader) fail(k int, format string, args ...any) {
	rd.failAt(rd.col[k], format, args...)
}

// failAt records a problem with field i of the current record.
func (rd *Reader) failAt(i int, format string, args ...any) {
	line, col := rd.csv.FieldPos(i)
	rd.errs = append(rd.errs, &RowError{File: rd.file, Line: line, Col: col, Column: rd.header[i], Message: fmt.Sprintf(format, args...)})
}

// Column indexes into Columns, kept in step with it.
const (
	kPartnerID = iota
	kName
	kEmail
	kLocale
	kCountry
	kTier
	kRevenue
	kPoints
	kCertifications
	kCompetencies
	kModules
	kTracks
	kTimeZone
)

func (rd *Reader) row(rec []string) (Row, error) {
	line, _ := rd.csv.FieldPos(0)
	rd.errs = rd.errs[:0]
	rd.rows++
	if len(rec) != rd.ncol {
		// The fields are misaligned: checking them one by one would only
		// add confusing errors.
		return Row{Line: line, File: rd.file},
			&RowError{File: rd.file, Line: line, Message: fmt.Sprintf("has %d fields but the header has %d (check the delimiter %q and quotes)", len(rec), rd.ncol, rd.csv.Comma)}
	}
	if !rd.checkFields(rec) {
		// Characters no field may hold: the values are not worth reading
		// further (and must not reach a terminal or an email).
		return Row{Line: line, File: rd.file}, rd.result()
	}
	// Strings from the record are owned by us: encoding/csv allocates them
	// afresh for each record even with ReuseRecord.
	r := Row{
		Line:      line,
		File:      rd.file,
		PartnerID: rd.field(rec, kPartnerID),
		Name:      rd.field(rec, kName),
		Email:     rd.field(rec, kEmail),
		Locale:    rd.field(rec, kLocale),
		Country:   rd.field(rec, kCountry),
		Tier:      rd.field(rec, kTier),
		TimeZone:  rd.field(rec, kTimeZone),
	}
	if r.PartnerID == "" {
		rd.fail(kPartnerID, "is empty")
	} else if err := ids.Partner(r.PartnerID); err != nil {
		rd.fail(kPartnerID, "%v", err)
	} else if first, dup := rd.seen.Add(r.PartnerID, line); dup {
		rd.fail(kPartnerID, "%q is already used on line %d", r.PartnerID, first)
	}
	if r.Name == "" {
		rd.fail(kName, "is empty")
	}
	if r.Email == "" {
		rd.fail(kEmail, "is empty")
	} else if err := program.CheckEmailAddress(r.Email); err != nil {
		rd.fail(kEmail, "%v", err)
	}
	if r.Country != "" {
		c, suggestion, ok := rd.country(r.Country)
		switch {
		case suggestion != "":
			rd.fail(kCountry, "%q is not an ISO 3166-1 alpha-2 country code (write %s)", r.Country, suggestion)
		case !ok:
			rd.fail(kCountry, "%q is not an ISO 3166-1 alpha-2 country code (e.g. FR, US, GB)", r.Country)
		}
		r.Country = c
	}
	if r.TimeZone != "" {
		if _, err := zones.Load(r.TimeZone); err != nil {
			rd.fail(kTimeZone, "%v", err)
		}
	}
	loc, ok := normalizeLocale(r.Locale)
	if !ok {
		rd.fail(kLocale, "%q is not supported (use %s, e.g. fr-FR)", r.Locale, strings.Join(Locales, " or "))
	}
	r.Locale = loc
	if r.Tier == "" {
		rd.fail(kTier, "is empty")
	}
	if s := rd.field(rec, kRevenue); s != "" {
		m, err := program.ParseMoney(s)
		if err != nil {
			rd.fail(kRevenue, "%v", err)
		}
		r.Facts.Revenue = m
	}
	if s := rd.field(rec, kPoints); s != "" {
		n, err := program.ParsePoints(s)
		if err != nil {
			rd.fail(kPoints, "%v", err)
		}
		r.Facts.Points = n
	}
	if s := rd.field(rec, kCertifications); s != "" {
		r.Facts.Certifications = rd.certifications(s)
	}
	if s := rd.field(rec, kCompetencies); s != "" {
		r.Facts.Competencies = rd.list(kCompetencies, s)
	}
	if s := rd.field(rec, kModules); s != "" {
		r.Facts.Modules = rd.list(kModules, s)
	}
	if s := rd.field(rec, kTracks); s != "" {
		r.Tracks = rd.tracks(s)
	}
	if rd.prog != nil {
		rd.checkProgram(&r)
	}
	return r, rd.result()
}

// result is the current row's problems as Next returns them.
func (rd *Reader) result() error {
	switch len(rd.errs) {
	case 0:
		return nil
	case 1:
		return rd.errs[0]
	default:
		return slices.Clone(rd.errs)
	}
}

// certifications reads "VTSP:2|VSP" (a bare name counts once).
func (rd *Reader) certifications(s string) map[string]int {
	// Sized up front: growing the map from empty was 7% of reading a row.
	out := make(map[string]int, strings.Count(s, "|")+1)
	for part := range strings.SplitSeq(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, count := part, 1
		if i := strings.LastIndexByte(part, ':'); i >= 0 {
			name = strings.TrimSpace(part[:i])
			n, err := strconv.Atoi(strings.TrimSpace(part[i+1:]))
			if err != nil || n < 1 {
				rd.fail(kCertifications, "count %q of %q must be a whole number, 1 or more", part[i+1:], name)
				continue
			}
			count = n
		}
		if name == "" {
			rd.fail(kCertifications, "%q has no certification name", part)
			continue
		}
		if _, dup := out[name]; dup {
			rd.fail(kCertifications, "%q is listed twice", name)
			continue
		}
		out[name] = count
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// tracks reads "Resell:Advanced|Sell With:Ready": a track name (which
// never contains ':' or '|') and the partner's level in it, sorted by track
// so that the same levels always read the same.
func (rd *Reader) tracks(s string) []program.TrackLevel {
	out := make([]program.TrackLevel, 0, strings.Count(s, "|")+1)
	for part := range strings.SplitSeq(s, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		track, tier, ok := strings.Cut(part, ":")
		track, tier = strings.TrimSpace(track), strings.TrimSpace(tier)
		switch {
		case !ok:
			rd.fail(kTracks, "%q must be track:tier, such as Resell:Advanced", part)
			continue
		case track == "":
			rd.fail(kTracks, "%q has no track name", part)
			continue
		case tier == "":
			rd.fail(kTracks, "%q has no tier after the ':'", part)
			continue
		}
		out = append(out, program.TrackLevel{Track: track, Tier: tier})
	}
	slices.SortStableFunc(out, func(a, b program.TrackLevel) int { return strings.Compare(a.Track, b.Track) })
	for i := 1; i < len(out); i++ {
		if out[i].Track == out[i-1].Track {
			rd.fail(kTracks, "track %q is listed twice", out[i].Track)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// list reads "a|b", sorted and deduplicated like program.Facts.Normalize.
func (rd *Reader) list(k int, s string) []string {
	out := make([]string, 0, strings.Count(s, "|")+1)
	for part := range strings.SplitSeq(s, "|") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	slices.Sort(out)
	n := len(out)
	out = slices.Compact(out)
	if len(out) != n {
		rd.fail(k, "lists the same name twice")
	}
	if len(out) == 0 {
		return nil // a list of blanks reads as an empty cell does
	}
	return out
}

// normalizeLocale turns "", "en", "fr-FR", "fr_CA", "EN-us" into a
// supported base language; "" means en.
func normalizeLocale(s string) (string, bool) {
	if s == "" {
		return "en", true
	}
	base := s
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		base = s[:i]
	}
	base = strings.ToLower(base)
	if slices.Contains(Locales, base) {
		return base, true
	}
	return s, false
}

// CheckWith makes the reader also check every row against the program it
// will be planned, previewed or imported with: its tier must be an old tier,
// every certification, competency and module must be declared, and every
// track level must name a track of the program and an old tier of it. plan,
// preview and import all read through a Reader set up this way, so they
// refuse exactly the same rows with the same messages.
func (rd *Reader) CheckWith(p *program.Program) { rd.prog = p }

// checkProgram adds the program's problems with the row to rd.errs.
func (rd *Reader) checkProgram(row *Row) {
	p := rd.prog
	if row.Tier != "" && !p.IsOldTier(row.Tier) {
		rd.fail(kTier, "%q is not a tier of the old program (old tiers: %s)", row.Tier, strings.Join(p.OldTiers, ", "))
	}
	if len(row.Facts.Certifications) > 0 {
		var bad []string
		for name := range row.Facts.Certifications {
			if !p.HasCertification(name) {
				bad = append(bad, name)
			}
		}
		slices.Sort(bad)
		for _, name := range bad {
			rd.fail(kCertifications, "%q is not declared by program %s (declared: %s)", name, p.ID, declared(p.Certifications))
		}
	}
	for _, name := range row.Facts.Competencies {
		if !p.HasCompetency(name) {
			rd.fail(kCompetencies, "%q is not declared by program %s (declared: %s)", name, p.ID, declared(p.Competencies))
		}
	}
	for _, name := range row.Facts.Modules {
		if !p.HasModule(name) {
			rd.fail(kModules, "%q is not declared by program %s (declared: %s)", name, p.ID, declared(p.Modules))
		}
	}
	for _, msg := range p.CheckLevels(row.Tracks) {
		rd.fail(kTracks, "%s", msg)
	}
}

func declared(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
