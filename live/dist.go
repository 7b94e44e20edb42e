package live

import (
	"math"
	"strings"
	"sync"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// Dist is one latency histogram of the run so far, in the forms its
// readers want: percentiles for the dashboard, and bucket counts for
// Prometheus (classic buckets at Bounds, and native exponential buckets).
type Dist struct {
	// Tag is the histogram's tag (record.Tag); Level, Key and Failed are
	// its parts.
	Tag    string `json:"tag"`
	Level  string `json:"level"`
	Key    string `json:"key,omitempty"`
	Failed bool   `json:"failed,omitempty"`

	Count uint64 `json:"count"`
	// SumS is the sum of the values, in seconds (from the histogram's
	// mean, so within its 0.1% precision).
	SumS float64 `json:"sum_s"`
	// Percentiles in milliseconds.
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`

	// Buckets counts the values at or below each of Bounds (cumulative).
	Buckets []uint64 `json:"-"`
	// Native counts the values per native bucket of NativeSchema, by
	// bucket index: bucket i holds (2^((i-1)/8), 2^(i/8)] seconds.
	Native map[int]int64 `json:"-"`
}

// Bounds are the upper bounds, in seconds, of the classic histogram
// buckets: from 1 ms (an MCP call on loopback) to 5 minutes (a long
// conversation behind timeouts and retries).
var Bounds = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

// NativeSchema is the native histograms' resolution: schema 3 has 8
// buckets per power of two, each about 9% wide. The HDR histograms under
// them are finer (0.1%), so nothing is lost that a scraper could keep.
const NativeSchema = 3

// newDist summarises the HDR histogram h of tag, whose values are µs.
func newDist(tag string, h *hdrhistogram.Histogram) *Dist {
	base, failed := strings.CutSuffix(tag, record.FailedSuffix)
	level, key, _ := strings.Cut(base, ".")
	d := &Dist{Tag: tag, Level: level, Key: key, Failed: failed, Buckets: make([]uint64, len(Bounds)), Native: map[int]int64{}}
	n := h.TotalCount()
	if n <= 0 {
		return d
	}
	d.Count = uint64(n)
	d.SumS = h.Mean() * float64(n) / 1e6
	ms := func(us int64) float64 { return float64(us) / 1e3 }
	d.P50, d.P90, d.P99, d.Max = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(90)), ms(h.ValueAtQuantile(99)), ms(h.Max())
	g := histGeometry()
	counts := h.Export().Counts
	if len(counts) < len(g.classic) || h.LowestTrackableValue() != record.HistLowest || h.HighestTrackableValue() != record.HistHighest || h.SignificantFigures() != record.HistSigFigs {
		// A histogram of another geometry (not the recorder's): no
		// buckets rather than wrong ones.
		return d
	}
	// The counts past the geometry's are of values above HistHighest,
	// which no histogram records.
	for i, n := range counts[:len(g.classic)] {
		if n == 0 {
			continue
		}
		for b := int(g.classic[i]); b < len(Bounds); b++ {
			d.Buckets[b] += uint64(n)
		}
		d.Native[int(g.native[i])] += n
	}
	return d
}

// geometry maps each counts index of the recorder's HDR histograms (values
// in µs, record.HistLowest to record.HistHighest, record.HistSigFigs) to
// its buckets: classic is the first of Bounds that holds the index's
// values (len(Bounds) for none), native its native bucket. A histogram's
// buckets are then one pass over its counts, with no allocation but the
// counts' copy: Histogram.Distribution would allocate a bar per index on
// every frame.
type geometry struct {
	classic []uint8
	native  []int16
}

var (
	geometryOnce sync.Once
	geometryOf   geometry
)

// histGeometry builds the geometry once, from the library's own bars of a
// histogram that holds its highest value: one bar per counts index, in
// index order. A bar's values are equivalent to its highest, which decides
// its buckets.
func histGeometry() geometry {
	geometryOnce.Do(func() {
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		_ = h.RecordValue(record.HistHighest)
		bars := h.Distribution()
		g := geometry{classic: make([]uint8, len(bars)), native: make([]int16, len(bars))}
		scale := math.Ldexp(1, NativeSchema)
		for i, b := range bars {
			s := float64(b.To) / 1e6
			g.classic[i] = uint8(len(Bounds))
			for j, bound := range Bounds {
				if s <= bound {
					g.classic[i] = uint8(j)
					break
				}
			}
			g.native[i] = int16(math.Ceil(math.Log2(s) * scale))
		}
		geometryOf = g
	})
	return geometryOf
}
