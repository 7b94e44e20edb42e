package live

import (
	"math"
	"strings"

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
	scale := math.Ldexp(1, NativeSchema)
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		// A bar's values are equivalent to its highest: that is the value
		// that decides its buckets.
		s := float64(b.To) / 1e6
		for i, bound := range Bounds {
			if s <= bound {
				d.Buckets[i] += uint64(b.Count)
			}
		}
		d.Native[int(math.Ceil(math.Log2(s)*scale))] += b.Count
	}
	return d
}
