package summary

import (
	"encoding/json"
	"errors"
	"os"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
)

// Live follows a run folder while the attacker writes it, for the gates
// that judge during a run: thresholds with abort_on_fail, and the spend
// cap. Each Update reads only what was appended since the last one, so a
// check every second costs what that second wrote, however long the run.
//
// Live never reads a line or a gzip member the attacker has not finished:
// it takes the rest next time (see record.LineFollower).
type Live struct {
	dir string
	cat *pricing.Catalog

	hs       runfolder.Histograms
	usage    cost.ModelUsage
	hlog     record.LineFollower
	attempts record.LineFollower
}

// NewLive follows the run folder dir, pricing its attempts with cat.
func NewLive(dir string, cat *pricing.Catalog) *Live {
	return &Live{
		dir: dir, cat: cat, hs: runfolder.Histograms{}, usage: cost.ModelUsage{},
		hlog:     record.LineFollower{Name: record.HistogramsFile},
		attempts: record.LineFollower{Name: record.AttemptsFile},
	}
}

// Update reads what the run appended and returns its summary so far, with
// its cost. Conversations still in flight are left out of the counts
// (started counts finished ones only), so that a rate such as
// success_rate judges what has finished rather than reading in-flight
// conversations as failures. It returns nil and no error before run.json
// exists.
func (l *Live) Update() (*Summary, error) {
	run, err := runfolder.ReadRun(l.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := l.hlog.Next(l.dir, l.addInterval); err != nil {
		return nil, err
	}
	if err := l.attempts.Next(l.dir, l.addAttempt); err != nil {
		return nil, err
	}
	c := &run.Conversations
	c.Started = c.OK + c.Failed
	s := NewSummary(run, l.hs)
	priced := cost.Measured{Started: s.Conversations.Started, OK: s.Conversations.OK, Usage: l.usage}
	if s.Cost, err = cost.PriceRun(l.dir, priced, l.cat); err != nil {
		return nil, err
	}
	return s, nil
}

// addInterval merges an interval histogram into the run's totals.
func (l *Live) addInterval(line []byte) {
	if tag, h, ok := runfolder.ParseInterval(line); ok && h != nil {
		l.hs.Add(tag, h)
	}
}

// addAttempt sums the token usage of a model attempt, for the spend.
func (l *Live) addAttempt(line []byte) {
	var a record.Attempt
	if json.Unmarshal(line, &a) == nil {
		l.usage.Add(&a)
	}
}
