package plot

import (
	"math"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// TestReadLatency reads per-interval percentiles back from an interval
// log, one point per second, and summed into 2-s buckets.
func TestReadLatency(t *testing.T) {
	s := newSynthRun(t, 4)
	for sec, ms := range []time.Duration{10, 30, 50, 70} {
		for range 10 {
			s.latency(record.LevelConversation, sec, ms*time.Millisecond)
		}
	}
	// A tag the reader is not asked for, and a quiet second.
	s.latency(record.LevelService, 0, time.Second)
	dir := s.write("")

	near := func(got, want float64) bool { return math.Abs(got-want) <= want*0.002 }
	lat, err := readLatency(dir, s.start, newTimeAxis(4), wantLatency)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 1 || lat[record.LevelConversation] == nil {
		t.Fatalf("series for %d tags, want conversation only", len(lat))
	}
	c := lat[record.LevelConversation]
	for i, want := range []float64{10, 30, 50, 70} {
		if !near(c.p50[i], want) || !near(c.p99[i], want) {
			t.Errorf("second %d: p50 %v p99 %v, want %v", i, c.p50[i], c.p99[i], want)
		}
	}
	if c.count != 40 {
		t.Errorf("count = %d, want 40", c.count)
	}

	// Buckets of two seconds: half the values at 10 ms, half at 30.
	lat, err = readLatency(dir, s.start, timeAxis{n: 4, k: 2}, wantLatency)
	if err != nil {
		t.Fatal(err)
	}
	c = lat[record.LevelConversation]
	if len(c.p50) != 2 || !near(c.p50[0], 10) || !near(c.p99[0], 30) || !near(c.p50[1], 50) || !near(c.p99[1], 70) {
		t.Errorf("2-s buckets: p50 %v p99 %v, want [10 50] and [30 70]", c.p50, c.p99)
	}
}

func TestTimeAxis(t *testing.T) {
	// An hour is summed into 6-s buckets: at most maxPoints points.
	ax := newTimeAxis(3600)
	if ax.k != 6 || ax.buckets() != 600 {
		t.Fatalf("an hour: buckets of %d s, %d points; want 6 s and 600", ax.k, ax.buckets())
	}
	// A rate stays per second; the short last bucket is not diluted.
	ax = timeAxis{n: 5, k: 2}
	got := ax.rate([]uint64{2, 4, 6, 8, 10})
	want := []float64{3, 7, 10}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rate = %v, want %v", got, want)
			break
		}
	}
	if x := ax.x(2); x != 4.5 {
		t.Errorf("last bucket's midpoint = %v, want 4.5", x)
	}
}
