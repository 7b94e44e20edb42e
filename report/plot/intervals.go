package plot

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// latencySeries is one histogram tag's latency: its percentiles in every
// bucket of the time axis.
type latencySeries struct {
	tag string
	// p50, p90 and p99 are milliseconds per bucket, NaN when the bucket
	// recorded nothing.
	p50, p90, p99 []float64
	// count is how many values the tag recorded over the run.
	count int64

	cur  *hdrhistogram.Histogram
	curB int
}

// readLatency reads histograms.hlog, the recorder's interval log, and
// returns the series of the tags that want accepts. It decodes only
// those tags' histograms, and holds one histogram per tag at a time, so
// memory does not grow with the run's length. An interval is placed by
// its midpoint; when the axis's buckets are longer than a second, the
// intervals of a bucket are summed. A missing log gives no series; a line
// that does not parse (a torn tail) is skipped.
func readLatency(dir string, started time.Time, t timeAxis, want func(tag string) bool) (map[string]*latencySeries, error) {
	f, err := record.OpenRegular(filepath.Join(dir, record.HistogramsFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]*latencySeries{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read interval histograms: %w", err)
	}
	defer f.Close()

	out := map[string]*latencySeries{}
	startedS := float64(started.UnixNano()) / 1e9
	var baseS float64
	haveBase := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "#[BaseTime: "); ok {
			if v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64); err == nil {
				baseS, haveBase = v, true
			}
			continue
		}
		rest, ok := strings.CutPrefix(line, "Tag=")
		if !ok {
			continue
		}
		tag, rest, ok := strings.Cut(rest, ",")
		if !ok || !want(tag) {
			continue
		}
		fields := strings.SplitN(rest, ",", 4)
		if len(fields) != 4 {
			continue
		}
		start, err1 := strconv.ParseFloat(fields[0], 64)
		length, err2 := strconv.ParseFloat(fields[1], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		h, err := hdrhistogram.Decode([]byte(fields[3]))
		if err != nil {
			continue
		}
		// Interval times are relative to BaseTime, the run's start; a log
		// without one has absolute times.
		switch {
		case haveBase:
			start += baseS - startedS
		case start > 1e9:
			start -= startedS
		}
		b := int(math.Floor((start + length/2) / float64(t.k)))
		b = min(max(b, 0), t.buckets()-1)
		if b < 0 {
			continue
		}

		s, ok := out[tag]
		if !ok {
			s = newLatencySeries(tag, t.buckets())
			out[tag] = s
		}
		s.count += h.TotalCount()
		if s.cur != nil && s.curB != b {
			s.flush()
		}
		if s.cur == nil {
			s.cur, s.curB = h, b
		} else {
			s.cur.Merge(h)
		}
	}
	// A scanner error is a torn or oversized line: keep what came before,
	// as report.ReadHistograms does.
	for _, s := range out {
		s.flush()
	}
	return out, nil
}

func newLatencySeries(tag string, n int) *latencySeries {
	s := &latencySeries{
		tag: tag,
		p50: nans(n),
		p90: nans(n),
		p99: nans(n),
	}
	return s
}

// flush computes the percentiles of the bucket being filled.
func (s *latencySeries) flush() {
	if s.cur == nil {
		return
	}
	if s.cur.TotalCount() > 0 {
		s.p50[s.curB] = ms(s.cur.ValueAtQuantile(50))
		s.p90[s.curB] = ms(s.cur.ValueAtQuantile(90))
		s.p99[s.curB] = ms(s.cur.ValueAtQuantile(99))
	}
	s.cur = nil
}

// ms converts the histograms' microseconds.
func ms(us int64) float64 { return float64(us) / 1000 }

func nans(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}
