package scenarios

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem in a scenario, located by file, line and column
// (1-based; 0 when unknown, as for a scenario built in Go) and by the path of
// the field, such as load.stages[1].duration.
type FieldError struct {
	File   string
	Line   int
	Column int
	Field  string
	Msg    string
}

// Error formats e as "file:line:column: field: msg", leaving out the parts
// that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
		if e.Column > 0 {
			loc += ":" + strconv.Itoa(e.Column)
		}
	}
	if loc != "" {
		b.WriteString(loc)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a scenario, in file order. Parse and Load
// return all of them at once, so that an author fixes a file in one pass.
type Errors []*FieldError

// Error puts one error on each line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a single *FieldError.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sorted orders es by position; errors without a position keep their order
// after those with one. It returns nil when es is empty, so that a caller can
// return it as an error without the typed-nil trap.
func (es Errors) sorted() error {
	if len(es) == 0 {
		return nil
	}
	slices.SortStableFunc(es, func(a, b *FieldError) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		return cmp.Compare(a.Column, b.Column)
	})
	return es
}
