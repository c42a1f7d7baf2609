package main

import (
	"encoding/csv"
	"strings"
)

// csvFormulaStarts are the first characters that make a spreadsheet read a
// cell as a formula (OWASP, "CSV Injection"): '=', '+', '-', '@', tab and
// carriage return.
const csvFormulaStarts = "=+-@\t\r"

// csvCell is the one rule for every cell of every CSV the starter writes:
// a cell starting with a formula character gets a leading single quote, so
// a channel manager's spreadsheet shows it as text instead of running it
// (=HYPERLINK(...) would otherwise be a live link). Other cells, the common
// case, are returned as they are, without allocating.
func csvCell(s string) string {
	if s != "" && strings.IndexByte(csvFormulaStarts, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// csvWriter is encoding/csv's writer with csvCell applied to every cell.
type csvWriter struct{ *csv.Writer }

// Write writes one row, each cell through csvCell.
func (w csvWriter) Write(row []string) error {
	for i := range row {
		row[i] = csvCell(row[i])
	}
	return w.Writer.Write(row)
}
