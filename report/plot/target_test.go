package plot

import (
	"math"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

func stage(rate float64, d, ramp time.Duration) scenarios.Stage {
	return scenarios.Stage{Rate: scenarios.Rate(rate), Duration: scenarios.Duration(d), Ramp: scenarios.Duration(ramp)}
}

func TestTargetRate(t *testing.T) {
	load := scenarios.LoadShape{Arrival: scenarios.ArrivalPoisson, Stages: []scenarios.Stage{
		// 0 -> 10/s over 2 s, then 10/s.
		stage(10, 4*time.Second, 2*time.Second),
		// 10 -> 20/s over 1 s, then 20/s.
		stage(20, 2*time.Second, time.Second),
		// As fast as max_in_flight allows: no target.
		stage(0, time.Second, 0),
		// 30/s for half a second.
		stage(30, 500*time.Millisecond, 0),
	}}
	got := targetRate(load, 10)
	// The rate is 5t over the first ramp: 2.5 in [0, 1), 7.5 in [1, 2).
	// It is 10+10t over the second: 15 in [4, 5). The last stage ends
	// half way through second 7, and nothing is due after it.
	want := []float64{2.5, 7.5, 10, 10, 15, 20, math.NaN(), 15, 0, 0}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-9 {
			t.Errorf("second %d: target %v, want %v", i, got[i], want[i])
		}
	}
	// The schedule's conversations add up to what the stages hold.
	var sum float64
	for _, v := range got {
		if !math.IsNaN(v) {
			sum += v
		}
	}
	if wantSum := 10.0 + 20 + 15 + 20 + 15; math.Abs(sum-wantSum) > 1e-9 {
		t.Errorf("target adds up to %v conversations, want %v", sum, wantSum)
	}
}
