package htmlreport

import (
	"html/template"
	"strings"
)

// page is what the template renders: a header with the verdict, the
// headline figures, then sections in reading order. Every text is plain
// and escaped by html/template; only the plots' data: URLs and the style
// sheet are typed as trusted, and both are made here.
type page struct {
	// Title is the document title; Heading and Subheading the page's.
	Title, Heading, Subheading string
	// Facts describe the run: scenario, seed, start, duration...
	Facts   []fact
	Verdict verdict
	// Warnings are the harness's, in a banner under the verdict: when
	// they are there, some figures are mcpload's limits, not the target's.
	Warnings []string
	Headline []figure
	Sections []*section
	// Footer says what wrote the page.
	Footer string
	CSS    template.CSS
}

// verdict is the banner: PASS or FAIL, why, and the run's status.
type verdict struct {
	// Word is PASS or FAIL; Class is pass or fail.
	Word, Class string
	// Text explains the word: which thresholds failed.
	Text string
	// Status is the run's status; StatusClass is ok or warn, and
	// StatusText explains a status other than complete.
	Status, StatusClass, StatusText string
	// Extra lists further lines: claims refuted, policies that failed.
	Extra []string
}

// figure is one headline number.
type figure struct {
	Label, Value, Sub string
}

// fact is one label and value of a definition list.
type fact struct {
	Label, Value string
	// Code shows the value in a monospace font.
	Code bool
}

// section is one part of the page, with an anchor in the contents.
type section struct {
	ID, Title string
	// Intro is a paragraph before the contents of the section.
	Intro  string
	Facts  []fact
	Tables []*table
	Plots  []plotView
	// Pre is preformatted text, such as the resolved scenario.
	Pre   string
	Notes []string
}

// table is one table of a section.
type table struct {
	// Title heads the table; Intro and Note are paragraphs around it.
	Title, Intro, Note string
	// Narrow tables take the width they need, not the page's.
	Narrow bool
	Cols   []col
	Rows   [][]cell
}

// col is one column: numbers are right-aligned in tabular figures.
type col struct {
	Head string
	Num  bool
	// Fit shrinks the column to its content, as for a verdict badge.
	Fit bool
	// Help is the heading's tooltip.
	Help string
}

// cell is one table cell.
type cell struct {
	Text string
	// Sub is a second, quieter line, such as a claim's source.
	Sub string
	// Pill shows the text as a verdict badge: pass, fail or warn.
	Pill string
	// Class colors a figure: good or bad.
	Class string
	Code  bool
	// Wrap lets long code, such as an error message, wrap; other code
	// stays on one line.
	Wrap bool
	// Href links the cell to a file of the run folder, by relative path.
	Href string
	// Classes is the cell's class attribute, made by add from its column
	// and the fields above.
	Classes string
}

// add appends a row, aligning each cell as its column.
func (t *table) add(cells ...cell) {
	for i := range cells {
		c := &cells[i]
		var cls []string
		if i < len(t.Cols) {
			cls = append(cls, t.Cols[i].class()...)
		}
		if c.Wrap {
			cls = append(cls, "long")
		}
		if c.Class != "" {
			cls = append(cls, c.Class)
		}
		c.Classes = strings.Join(cls, " ")
	}
	t.Rows = append(t.Rows, cells)
}

// class is the class of the column's cells.
func (c col) class() []string {
	var cls []string
	if c.Num {
		cls = append(cls, "num")
	}
	if c.Fit {
		cls = append(cls, "fit")
	}
	return cls
}

// Class is the class attribute of the column's heading.
func (c col) Class() string { return strings.Join(c.class(), " ") }

// cols makes columns from headings: a heading that starts with '#' is a
// number column.
func cols(heads ...string) []col {
	out := make([]col, len(heads))
	for i, h := range heads {
		if len(h) > 0 && h[0] == '#' {
			out[i] = col{Head: h[1:], Num: true}
		} else {
			out[i] = col{Head: h}
		}
	}
	return out
}
