package partnerfile

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings a partner file may be read as (--encoding).
const (
	// EncodingAuto reads a byte-order mark (UTF-8 or UTF-16) when there is
	// one; otherwise UTF-8 when the start of the file is valid UTF-8, else
	// Windows-1252 with a notice.
	EncodingAuto        = "auto"
	EncodingUTF8        = "utf-8"
	EncodingUTF16       = "utf-16"
	EncodingWindows1252 = "windows-1252"
)

// Encodings lists the values of Options.Encoding.
var Encodings = []string{EncodingAuto, EncodingUTF8, EncodingUTF16, EncodingWindows1252}

// sniffSize is how much of the file decides its encoding and line ends.
const sniffSize = 64 << 10

var (
	bomUTF8    = []byte("\xef\xbb\xbf")
	bomUTF16LE = []byte("\xff\xfe")
	bomUTF16BE = []byte("\xfe\xff")
)

// saveAsUTF8 is the fix every encoding error suggests.
const saveAsUTF8 = `save it from the spreadsheet as "CSV UTF-8"`

// decode returns the file as UTF-8 text, the encoding it was read as
// (EncodingUTF8, EncodingUTF16 or EncodingWindows1252), and a notice for the
// operator when the encoding was guessed. Text that is still not UTF-8
// after this (a UTF-8 file with a stray byte after its first 64 KB) is
// refused field by field with its line and column, never read garbled.
func decode(r io.Reader, filename, encoding string) (text io.Reader, used, notice string, err error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, "", "", fmt.Errorf("read %s: %w", filename, err)
	}
	atEOF := err == io.EOF
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		if encoding != EncodingAuto && encoding != EncodingUTF8 {
			return nil, "", "", headerError(filename, fmt.Sprintf("the file starts with a UTF-8 byte-order mark but --encoding is %s", encoding))
		}
		_, _ = br.Discard(len(bomUTF8))
		return br, EncodingUTF8, "", nil
	case bytes.HasPrefix(head, bomUTF16LE), bytes.HasPrefix(head, bomUTF16BE):
		if encoding != EncodingAuto && encoding != EncodingUTF16 {
			return nil, "", "", headerError(filename, fmt.Sprintf("the file starts with a UTF-16 byte-order mark but --encoding is %s", encoding))
		}
		// ExpectBOM: the mark decides the byte order and is dropped.
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), EncodingUTF16, "", nil
	}
	switch encoding {
	case EncodingUTF16:
		return nil, "", "", headerError(filename, "the file has no UTF-16 byte-order mark; "+saveAsUTF8+", or as \"Unicode text\", which has one")
	case EncodingWindows1252:
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), EncodingWindows1252, "", nil
	case EncodingUTF8:
		return br, EncodingUTF8, "", nil
	}
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	if bytes.IndexByte(firstLine, 0) >= 0 {
		return nil, "", "", headerError(filename, "the header has NUL bytes: the file looks like UTF-16 without a byte-order mark; "+saveAsUTF8)
	}
	bad := invalidUTF8(head, atEOF)
	if bad < 0 {
		return br, EncodingUTF8, "", nil
	}
	badLine := 1 + bytes.Count(head[:bad], []byte{'\n'})
	if ok := validMultibyte(head); ok >= 0 {
		return nil, "", "", headerError(filename, fmt.Sprintf("the file mixes encodings: line %d is UTF-8 but line %d has the byte 0x%02X, which is not; %s",
			1+bytes.Count(head[:ok], []byte{'\n'}), badLine, head[bad], saveAsUTF8))
	}
	notice = fmt.Sprintf("note: %s is not UTF-8 (line %d has the byte 0x%02X); reading it as Windows-1252, the encoding of Excel's \"CSV (séparateur: point-virgule)\" files. Pass --encoding windows-1252 to say so, or %s", filename, badLine, head[bad], saveAsUTF8)
	return transform.NewReader(br, charmap.Windows1252.NewDecoder()), EncodingWindows1252, notice, nil
}

// invalidUTF8 returns the offset of the first byte of b that is not UTF-8,
// or -1. Unless atEOF, a sequence cut short by the end of b is not counted.
func invalidUTF8(b []byte, atEOF bool) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(b[i:]) {
				return -1
			}
			return i
		}
		i += size
	}
	return -1
}

// validMultibyte returns the offset of the first valid multi-byte UTF-8
// sequence in b, or -1. Windows-1252 text almost never holds one (an
// accented capital followed by a symbol), so finding one next to a byte that
// is not UTF-8 means the file mixes encodings.
func validMultibyte(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			return i
		}
		i += size
	}
	return -1
}

// crOnly reports whether text uses lone carriage returns as line ends (the
// old Mac OS format, still written by some exports): encoding/csv would
// read the whole file as one header line.
func crOnly(head []byte) bool {
	i := bytes.IndexByte(head, '\r')
	return i >= 0 && i+1 < len(head) && head[i+1] != '\n' && (bytes.IndexByte(head, '\n') < 0 || bytes.IndexByte(head, '\n') > i)
}

func headerError(filename, msg string) error {
	return RowErrors{{File: filename, Line: 1, Message: msg}}
}
