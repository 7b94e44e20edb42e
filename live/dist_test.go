package live

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
)

// histOf returns an HDR histogram of the values (µs).
func histOf(t *testing.T, values ...int64) *hdrhistogram.Histogram {
	t.Helper()
	h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// TestDistBuckets checks that the classic buckets are cumulative counts at
// the bounds and that the native buckets put each value where
// Prometheus's schema 3 puts it.
func TestDistBuckets(t *testing.T) {
	t.Parallel()
	// 1 ms, 2 ms, 2 ms, 400 ms, 2 s.
	d := newDist("step.model:primary.failed", histOf(t, 1000, 2000, 2000, 400000, 2000000))
	if d.Level != "step" || d.Key != "model:primary" || !d.Failed {
		t.Errorf("tag parts = %q %q %v", d.Level, d.Key, d.Failed)
	}
	if d.Count != 5 {
		t.Fatalf("count = %d", d.Count)
	}
	want := map[float64]uint64{0.001: 1, 0.0025: 3, 0.25: 3, 0.5: 4, 1: 4, 2.5: 5, 300: 5}
	for i, b := range Bounds {
		if w, ok := want[b]; ok && d.Buckets[i] != w {
			t.Errorf("bucket le=%g = %d, want %d", b, d.Buckets[i], w)
		}
	}
	// Bucket i holds (2^((i-1)/8), 2^(i/8)]: 1 ms is 2^-9.97, in -79;
	// 2 ms 2^-8.97, in -71; 400 ms 2^-1.32, in -10; 2 s 2^1 exactly, in 8
	// (the HDR value just above 2 s, its highest equivalent, is in 9).
	native := map[int]int64{}
	for i, n := range d.Native {
		native[i] = n
	}
	if native[-79] != 1 || native[-71] != 2 || native[-10] != 1 || native[8]+native[9] != 1 {
		t.Errorf("native buckets = %v", native)
	}
	var sum int64
	for _, n := range native {
		sum += n
	}
	if sum != 5 {
		t.Errorf("native buckets hold %d values, want 5", sum)
	}
	if d.SumS < 2.404 || d.SumS > 2.406 {
		t.Errorf("sum = %gs, want about 2.405", d.SumS)
	}
}

// TestDistMatchesBars checks the one-pass bucketing against the library's
// own bars of the same histogram, over values from 1 µs to an hour.
func TestDistMatchesBars(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var values []int64
	for range 5000 {
		values = append(values, min(record.HistHighest, int64(math.Exp(r.Float64()*math.Log(float64(record.HistHighest))))))
	}
	h := histOf(t, values...)
	d := newDist("conversation", h)
	wantBuckets := make([]uint64, len(Bounds))
	wantNative := map[int]int64{}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		s := float64(b.To) / 1e6
		for i, bound := range Bounds {
			if s <= bound {
				wantBuckets[i] += uint64(b.Count)
			}
		}
		wantNative[int(math.Ceil(math.Log2(s)*8))] += b.Count
	}
	if !slices.Equal(d.Buckets, wantBuckets) {
		t.Errorf("classic buckets %v, the bars give %v", d.Buckets, wantBuckets)
	}
	if !maps.Equal(d.Native, wantNative) {
		t.Errorf("native buckets %v, the bars give %v", d.Native, wantNative)
	}
	if d.Count != 5000 {
		t.Errorf("count %d", d.Count)
	}
}
