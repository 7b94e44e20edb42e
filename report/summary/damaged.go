package summary

import (
	"fmt"
	"strings"
)

// Damaged counts what report skipped of a damaged run folder, reading the
// rest around it: a torn last record after a crash, or damage anywhere
// (a bad disk, a bad copy, a hand edit). It is absent from summary.json
// when nothing was skipped.
type Damaged struct {
	// AttemptLines counts lines of attempts.jsonl(.gz) that were not
	// records; AttemptBytes the bytes, as stored, of gzip members that did
	// not decode past some point (their later lines are lost).
	AttemptLines int64 `json:"attempt_lines"`
	AttemptBytes int64 `json:"attempt_bytes"`
	// EventLines counts lines of events.jsonl that were not records.
	EventLines int64 `json:"event_lines"`
	// HistogramIntervals counts lines of histograms.hlog that did not
	// parse: each lost one interval of one tag.
	HistogramIntervals int64 `json:"histogram_intervals"`
	// ResultRecords counts the damaged stretches of results.bin, each of
	// at least one Result, and ResultBytes their bytes.
	ResultRecords int64 `json:"result_records"`
	ResultBytes   int64 `json:"result_bytes"`
}

// orNil returns d, or nil when it counts nothing.
func (d *Damaged) orNil() *Damaged {
	if d == nil || *d == (Damaged{}) {
		return nil
	}
	return d
}

// String says what was skipped, for the terminal.
func (d *Damaged) String() string {
	var parts []string
	add := func(n int64, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(d.AttemptLines, "attempt lines")
	add(d.AttemptBytes, "bytes of compressed attempts")
	add(d.EventLines, "event lines")
	add(d.HistogramIntervals, "histogram intervals")
	add(d.ResultRecords, "stretches of results.bin")
	add(d.ResultBytes, "bytes of results.bin")
	return strings.Join(parts, ", ")
}
