package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
)

// Live follows a run folder while the attacker writes it, for the gates
// that judge during a run: thresholds with abort_on_fail, and the spend
// cap. Each Update reads only what was appended since the last one, so a
// check every second costs what that second wrote, however long the run.
//
// Live never reads a line the attacker has not finished: it stops at the
// last newline and takes the rest next time.
type Live struct {
	dir string
	cat *pricing.Catalog

	hs          Histograms
	usage       modelUsage
	hlogOff     int64
	attemptsOff int64
}

// NewLive follows the run folder dir, pricing its attempts with cat.
func NewLive(dir string, cat *pricing.Catalog) *Live {
	return &Live{dir: dir, cat: cat, hs: Histograms{}, usage: modelUsage{}}
}

// Update reads what the run appended and returns its summary so far, with
// its cost. Conversations still in flight are left out of the counts
// (started counts finished ones only), so that a rate such as
// success_rate judges what has finished rather than reading in-flight
// conversations as failures. It returns nil and no error before run.json
// exists.
func (l *Live) Update() (*Summary, error) {
	run, err := ReadRun(l.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := l.follow(record.HistogramsFile, &l.hlogOff, l.addHistograms); err != nil {
		return nil, err
	}
	if err := l.follow(record.AttemptsFile, &l.attemptsOff, l.addAttempts); err != nil {
		return nil, err
	}
	c := &run.Conversations
	c.Started = c.OK + c.Failed
	s := NewSummary(run, l.hs)
	s.analysis = &analysis{models: l.usage}
	if s.Cost, err = PriceRun(l.dir, s, l.cat); err != nil {
		return nil, err
	}
	return s, nil
}

// follow hands fn the complete lines appended to name since *off, and
// moves *off past them.
func (l *Live) follow(name string, off *int64, fn func([]byte)) error {
	f, err := record.OpenRegular(filepath.Join(l.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("follow %s: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.NewSectionReader(f, *off, 1<<62))
	if err != nil {
		return fmt.Errorf("follow %s: %w", name, err)
	}
	end := bytes.LastIndexByte(b, '\n')
	if end < 0 {
		return nil
	}
	fn(b[:end+1])
	*off += int64(end + 1)
	return nil
}

// addHistograms merges interval histograms into the run's totals.
func (l *Live) addHistograms(lines []byte) {
	r := hdrhistogram.NewHistogramLogReader(bufio.NewReader(bytes.NewReader(lines)))
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil || h == nil {
			return
		}
		total, ok := l.hs[h.Tag()]
		if !ok {
			total = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			l.hs[h.Tag()] = total
		}
		total.Merge(h)
	}
}

// addAttempts sums the token usage of model attempts, for the spend.
func (l *Live) addAttempts(lines []byte) {
	for line := range bytes.SplitSeq(lines, []byte{'\n'}) {
		var a record.Attempt
		if len(line) == 0 || json.Unmarshal(line, &a) != nil {
			continue
		}
		l.usage.add(&a)
	}
}
