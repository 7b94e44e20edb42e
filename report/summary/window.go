package summary

import (
	"fmt"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
)

// SummarizeAfter is the summary of the run in dir with its first from
// discarded, as a capacity probe discards its warm-up: the latencies come
// from the histogram intervals that start at or after from, and the
// conversation counts, success rate and achieved rate from the
// conversations whose intended start is at or after from. Tokens,
// attempts, cost and the resilience analysis stay the whole run's.
func SummarizeAfter(dir string, from time.Duration) (*Summary, error) {
	s, _, err := Summarize(dir)
	if err != nil {
		return nil, err
	}
	if from <= 0 {
		return s, nil
	}
	hs := runfolder.Histograms{}
	if _, err := record.EachLine(dir, record.HistogramsFile, func(line []byte) {
		if start, ok := runfolder.IntervalStart(line); ok && start >= from.Seconds() {
			if tag, h, ok := runfolder.ParseInterval(line); ok && h != nil {
				hs.Add(tag, h)
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("read histograms: %w", err)
	}
	s.LatencyMS = latencies(hs)

	c := record.Counts{ByOutcome: map[string]uint64{}}
	var first, last time.Time
	begin := s.Started.Add(from)
	if _, err := runfolder.EachResult(dir, func(r *vegeta.Result) {
		if r.Timestamp.Before(begin) {
			return
		}
		switch {
		case strings.HasPrefix(r.Error, record.OutcomeDropped):
			c.Dropped++
			return
		case r.Error == "":
			c.OK++
		default:
			c.Failed++
			outcome, _, _ := strings.Cut(r.Error, ": ")
			c.ByOutcome[outcome]++
		}
		c.Started++
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if r.Timestamp.After(last) {
			last = r.Timestamp
		}
	}); err != nil {
		return nil, err
	}
	s.Conversations = Conversations{Counts: c}
	if offered := c.Started + c.Dropped; offered > 0 {
		s.Conversations.SuccessRate = Round3(100 * float64(c.OK) / float64(offered))
	}
	s.Rate.Achieved = 0
	if span := last.Sub(first).Seconds(); c.Started > 1 && span > 0 {
		s.Rate.Achieved = Round3(float64(c.Started-1) / span)
	}
	return s, nil
}
