package capacity

import (
	"strings"
	"testing"
	"time"
)

// feed gives s one sample a second, at rate, with inFlight(i) in flight and
// the schedule met (started = scheduled) unless behind(i) says how many
// arrivals are missing. It returns the second at which s said saturated,
// or -1.
func feed(s *Saturation, seconds int, rate float64, inFlight func(i int) int64, behind func(i int) float64) int {
	for i := 1; i <= seconds; i++ {
		sched := rate * float64(i)
		started := sched
		if behind != nil {
			started -= behind(i)
		}
		if s.Add(Sample{Elapsed: time.Duration(i) * time.Second, Rate: rate, InFlight: inFlight(i), Started: uint64(started), Scheduled: sched}) {
			return i
		}
	}
	return -1
}

func TestSaturationBacklog(t *testing.T) {
	// 100/s against an SLO of 300ms: a steady 20 in flight is fine; a
	// backlog that grows by 50 a second passes 2 × 100 × 0.3 = 60 in the
	// second second and is called on the third, after the 1s warm-up.
	steady := &Saturation{Warmup: time.Second, Bound: 300 * time.Millisecond}
	if at := feed(steady, 30, 100, func(int) int64 { return 20 }, nil); at != -1 {
		t.Errorf("a steady backlog called saturated at %ds", at)
	}
	growing := &Saturation{Warmup: time.Second, Bound: 300 * time.Millisecond}
	if at := feed(growing, 30, 100, func(i int) int64 { return int64(50 * i) }, nil); at != 3 {
		t.Errorf("a growing backlog called saturated at %ds, want 3s", at)
	}
	if !strings.Contains(growing.Why(), "backlog") {
		t.Errorf("why = %q", growing.Why())
	}
	// One blip over the limit is not a trend.
	blip := &Saturation{Warmup: time.Second, Bound: 300 * time.Millisecond}
	if at := feed(blip, 30, 100, func(i int) int64 {
		if i == 5 {
			return 1000
		}
		return 20
	}, nil); at != -1 {
		t.Errorf("a one-sample blip called saturated at %ds", at)
	}
	// The warm-up is not judged.
	warm := &Saturation{Warmup: 10 * time.Second, Bound: 300 * time.Millisecond}
	if at := feed(warm, 30, 100, func(int) int64 { return 1000 }, nil); at != 11 {
		t.Errorf("a backlog from the start called at %ds, want 11s (the warm-up is 10s)", at)
	}
}

func TestSaturationScheduleLag(t *testing.T) {
	s := &Saturation{Warmup: time.Second}
	// The generator falls 30 arrivals a second further behind at 100/s:
	// 0.3s, 0.6s, 0.9s, 1.2s... over the 1s default from the fourth
	// second, called on the fifth.
	if at := feed(s, 30, 100, func(int) int64 { return 5 }, func(i int) float64 { return float64(30 * i) }); at != 5 {
		t.Errorf("a growing lag called at %ds, want 5s", at)
	}
	if !strings.Contains(s.Why(), "schedule lag") || s.MaxLagS() < 1.2 {
		t.Errorf("why = %q, max lag %.2fs", s.Why(), s.MaxLagS())
	}
}

func TestSaturationTrend(t *testing.T) {
	// 200/s, sampled 10 times a second after a 300ms warm-up: a steady
	// backlog of 10 ± 2 does not grow; one growing by 20/s (10% of the
	// rate) does, over a 5% tolerance, and not over a 20% one.
	for _, tc := range []struct {
		name    string
		inFl    func(t float64, i int) int64
		tol     float64
		growing bool
	}{
		{"steady", func(_ float64, i int) int64 { return int64(10 + []int{0, 2, -2, 1, -1}[i%5]) }, 0.05, false},
		{"growing 10%", func(t float64, i int) int64 { return int64(10 + 20*t) }, 0.05, true},
		{"growing 10%, tolerance 20%", func(t float64, i int) int64 { return int64(10 + 20*t) }, 0.20, false},
	} {
		s := &Saturation{Warmup: 300 * time.Millisecond}
		for i := 1; i <= 13; i++ {
			el := time.Duration(i) * 100 * time.Millisecond
			s.Add(Sample{Elapsed: el, Rate: 200, InFlight: tc.inFl(el.Seconds(), i), Started: uint64(200 * el.Seconds()), Scheduled: 200 * el.Seconds()})
		}
		why, growing := s.Growing(tc.tol)
		if growing != tc.growing || (growing && !strings.Contains(why, "grew")) {
			slope, _ := s.Trend()
			t.Errorf("%s: growing %v (%q, slope %.2f/s), want %v", tc.name, growing, why, slope, tc.growing)
		}
	}
	if _, ok := (&Saturation{}).Trend(); ok {
		t.Error("a trend with no samples")
	}
}
