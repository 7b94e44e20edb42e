package merge

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"path/filepath"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// intervals yields the interval histograms of dir's histograms.hlog, in
// the log's order, skipping and counting damaged lines into damaged.
func intervals(dir string, damaged *int64, errp *error) iter.Seq[record.Interval] {
	return func(yield func(record.Interval) bool) {
		stopped := false
		d, err := record.EachLine(dir, record.HistogramsFile, func(line []byte) {
			if stopped {
				return
			}
			iv, ok := record.ParseInterval(line)
			switch {
			case !ok:
				*damaged++
			case iv.Hist != nil:
				stopped = !yield(iv)
			}
		})
		*damaged += d.Lines
		if err != nil {
			*errp = fmt.Errorf("%s: %w", dir, err)
		}
	}
}

// flushes groups a log's intervals by the flush that wrote them: the
// recorder writes every tag of one interval with the same start.
func flushes(ivs iter.Seq[record.Interval]) iter.Seq[[]record.Interval] {
	return func(yield func([]record.Interval) bool) {
		var group []record.Interval
		for iv := range ivs {
			if len(group) > 0 && iv.StartS != group[0].StartS {
				if !yield(group) {
					return
				}
				group = nil
			}
			group = append(group, iv)
		}
		if len(group) > 0 {
			yield(group)
		}
	}
}

// histograms merges histograms.hlog: the n-th interval of every shard
// into the n-th merged interval, tag by tag. Every shard starts its
// schedule together (--start-at) or on its own, and cuts an interval every
// second of its schedule, so the n-th intervals cover the same second of
// the schedule. Adding histograms of the same settings is exact: the
// merged log holds, bucket for bucket, the sum of the shards'.
func (w *writer) histograms() error {
	errs := make([]error, len(w.shards))
	type source struct {
		next    func() ([]record.Interval, bool)
		baseMs  int64
		stopped bool
	}
	sources := make([]*source, len(w.shards))
	for i, s := range w.shards {
		next, stop := iter.Pull(flushes(intervals(s.dir, &w.damaged, &errs[i])))
		defer stop()
		sources[i] = &source{next: next, baseMs: s.run.Started.UnixMilli()}
	}
	started := w.shards[0].run.Started
	for _, s := range w.shards {
		if s.run.Started.Before(started) {
			started = s.run.Started
		}
	}
	err := writeAtomic(filepath.Join(w.out, record.HistogramsFile), func(f io.Writer) error {
		lw := hdrhistogram.NewHistogramLogWriter(f)
		if err := record.WriteHlogHeader(lw, started); err != nil {
			return err
		}
		for {
			var (
				order   []string
				byTag   = map[string]*hdrhistogram.Histogram{}
				startMs = int64(math.MaxInt64)
				endMs   = int64(math.MinInt64)
				found   bool
			)
			for _, src := range sources {
				if src.stopped {
					continue
				}
				group, ok := src.next()
				if !ok {
					src.stopped = true
					continue
				}
				found = true
				for _, iv := range group {
					s := src.baseMs + int64(math.Round(iv.StartS*1000))
					startMs = min(startMs, s)
					endMs = max(endMs, s+int64(math.Round(iv.LengthS*1000)))
					h := byTag[iv.Tag]
					if h == nil {
						h = hdrhistogram.New(iv.Hist.LowestTrackableValue(), iv.Hist.HighestTrackableValue(), int(iv.Hist.SignificantFigures()))
						byTag[iv.Tag] = h
						order = append(order, iv.Tag)
					}
					if dropped := h.Merge(iv.Hist); dropped > 0 {
						return fmt.Errorf("merging %s: %d values out of range", iv.Tag, dropped)
					}
				}
			}
			if !found {
				return nil
			}
			for _, tag := range order {
				h := byTag[tag]
				h.SetTag(tag)
				h.SetStartTimeMs(startMs)
				h.SetEndTimeMs(endMs)
				if err := lw.OutputIntervalHistogram(h); err != nil {
					return err
				}
			}
		}
	})
	for _, e := range errs {
		err = errors.Join(err, e)
	}
	return err
}
