package live

import (
	"bytes"
	"encoding/json"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// follower reads what a run appends to its histogram log, its events and
// its harness samples, a little at a time (record.LineFollower), and keeps
// their totals: the merged histogram of each tag, the breakers' moves and
// the newest harness sample.
type follower struct {
	dir string
	// started is the run's start, which breaker moves count from.
	started time.Time

	hlog, events, harness record.LineFollower
	batch                 bytes.Buffer

	hists    map[string]*hdrhistogram.Histogram
	changed  map[string]bool
	breakers map[string]*Breaker
	order    []string // breakers in order of their first move
	sample   *record.HarnessSample
}

func newFollower(dir string) *follower {
	return &follower{
		dir:      dir,
		hlog:     record.LineFollower{Name: record.HistogramsFile},
		events:   record.LineFollower{Name: record.EventsFile},
		harness:  record.LineFollower{Name: record.HarnessFile},
		hists:    map[string]*hdrhistogram.Histogram{},
		changed:  map[string]bool{},
		breakers: map[string]*Breaker{},
	}
}

// next reads what the run appended since the last call.
func (f *follower) next() error {
	f.batch.Reset()
	if err := f.hlog.Next(f.dir, func(line []byte) {
		f.batch.Write(line)
		f.batch.WriteByte('\n')
	}); err != nil {
		return err
	}
	f.mergeIntervals()
	if err := f.events.Next(f.dir, f.addEvent); err != nil {
		return err
	}
	return f.harness.Next(f.dir, f.addSample)
}

// mergeIntervals merges the interval histograms of the batch into their
// tags' totals, with the library's own log reader, as the recorder wrote
// them with its writer. A line it cannot read ends the batch: the live
// view loses that interval, and the final report, which reads every line
// on its own, does not.
func (f *follower) mergeIntervals() {
	if f.batch.Len() == 0 {
		return
	}
	r := hdrhistogram.NewHistogramLogReader(&f.batch)
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil || h == nil {
			return
		}
		tag := h.Tag()
		total, ok := f.hists[tag]
		if !ok {
			total = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			f.hists[tag] = total
		}
		total.Merge(h)
		f.changed[tag] = true
	}
}

// addEvent keeps the breakers' moves.
func (f *follower) addEvent(line []byte) {
	var e record.Event
	if json.Unmarshal(line, &e) != nil || e.Kind != record.EventBreaker || e.Provider == "" {
		return
	}
	b, ok := f.breakers[e.Provider]
	if !ok {
		b = &Breaker{Provider: e.Provider}
		f.breakers[e.Provider] = b
		f.order = append(f.order, e.Provider)
	}
	b.State = e.To
	b.Moves = append(b.Moves, Move{State: e.To, AtS: e.Time.Sub(f.started).Seconds()})
	if len(b.Moves) > MaxBreakerMoves {
		b.Moves = append(b.Moves[:0], b.Moves[len(b.Moves)-MaxBreakerMoves:]...)
	}
}

// addSample keeps the newest harness sample.
func (f *follower) addSample(line []byte) {
	var s record.HarnessSample
	if json.Unmarshal(line, &s) == nil {
		f.sample = &s
	}
}
