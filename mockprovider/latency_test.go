package mockprovider

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

const draws = 200_000

// quantiles draws n samples of l and returns their p50 and p99.
func quantiles(l scenarios.Latency, seed uint64) (p50, p99 time.Duration, all []time.Duration) {
	r := rand.New(rand.NewPCG(seed, seed+1))
	all = make([]time.Duration, draws)
	for i := range all {
		all[i] = Sample(l, r)
	}
	slices.Sort(all)
	return all[draws/2], all[draws*99/100], all
}

// near reports whether got is within frac of want.
func near(got, want time.Duration, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

// dur converts nanoseconds, rounding; a function so that constants need not be integral.
func dur(ns float64) time.Duration { return time.Duration(math.Round(ns)) }

func ms(n float64) scenarios.Duration { return scenarios.Duration(n * float64(time.Millisecond)) }

func TestSampleDistributions(t *testing.T) {
	cases := []struct {
		name     string
		l        scenarios.Latency
		p50, p99 time.Duration
	}{
		{"fixed", scenarios.Latency{Dist: scenarios.DistFixed, Value: ms(80)}, 80 * time.Millisecond, 80 * time.Millisecond},
		{"fixed shorthand", scenarios.Latency{Value: ms(5)}, 5 * time.Millisecond, 5 * time.Millisecond},
		{"uniform", scenarios.Latency{Dist: scenarios.DistUniform, Min: ms(20), Max: ms(200)}, 110 * time.Millisecond, dur(20e6 + 0.99*180e6)},
		{"normal", scenarios.Latency{Dist: scenarios.DistNormal, Mean: ms(100), Stddev: ms(20)}, 100 * time.Millisecond, dur(100e6 + z99*20e6)},
		{"lognormal", scenarios.Latency{Dist: scenarios.DistLognormal, P50: ms(120), P99: ms(900)}, 120 * time.Millisecond, 900 * time.Millisecond},
		{"lognormal narrow", scenarios.Latency{Dist: scenarios.DistLognormal, P50: ms(40), P99: ms(60)}, 40 * time.Millisecond, 60 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p50, p99, _ := quantiles(c.l, 7)
			if !near(p50, c.p50, 0.03) || !near(p99, c.p99, 0.03) {
				t.Errorf("p50 %v p99 %v, want %v %v within 3%%", p50, p99, c.p50, c.p99)
			}
		})
	}
}

func TestSampleClamps(t *testing.T) {
	// A normal whose mean is near 0 would go negative half the time.
	_, _, all := quantiles(scenarios.Latency{Dist: scenarios.DistNormal, Mean: ms(1), Stddev: ms(10)}, 1)
	if all[0] != 0 {
		t.Errorf("normal min %v, want clamped at 0", all[0])
	}
	if all[draws/4] != 0 {
		t.Errorf("normal p25 %v: a quarter of the draws should clamp to 0", all[draws/4])
	}

	l := scenarios.Latency{Dist: scenarios.DistNormal, Mean: ms(100), Stddev: ms(50), Min: ms(80), Max: ms(130)}
	_, _, all = quantiles(l, 2)
	if all[0] != 80*time.Millisecond || all[draws-1] != 130*time.Millisecond {
		t.Errorf("normal with min/max: range [%v, %v], want [80ms, 130ms]", all[0], all[draws-1])
	}

	_, _, all = quantiles(scenarios.Latency{Dist: scenarios.DistUniform, Min: ms(20), Max: ms(30)}, 3)
	if all[0] < 20*time.Millisecond || all[draws-1] >= 30*time.Millisecond {
		t.Errorf("uniform range [%v, %v], want within [20ms, 30ms)", all[0], all[draws-1])
	}

	// A heavy tail stays a valid duration.
	_, _, all = quantiles(scenarios.Latency{Dist: scenarios.DistLognormal, P50: ms(1000), P99: scenarios.Duration(1000 * time.Hour)}, 4)
	if all[draws-1] != maxSample || all[0] < 0 {
		t.Errorf("heavy lognormal range [%v, %v]", all[0], all[draws-1])
	}

	r := rand.New(rand.NewPCG(1, 2))
	if d := Sample(scenarios.Latency{}, r); d != 0 {
		t.Errorf("zero latency gave %v", d)
	}
}

func TestSampleReproducible(t *testing.T) {
	l := scenarios.Latency{Dist: scenarios.DistLognormal, P50: ms(120), P99: ms(900)}
	a := newRNGSource(99)
	b := newRNGSource(99)
	c := newRNGSource(100)
	hdr := map[string][]string{HeaderSeq: {"17"}}
	other := map[string][]string{HeaderSeq: {"18"}}
	key := endpointKey("chat", "primary")
	for i := 0; i < 3; i++ {
		x := Sample(l, a.forRequest(hdr, key, 0, 1))
		if y := Sample(l, b.forRequest(hdr, key, 0, 1)); x != y {
			t.Fatalf("same seed and step: %v != %v", x, y)
		}
		if y := Sample(l, c.forRequest(hdr, key, 0, 1)); x == y {
			t.Errorf("another seed drew the same %v", x)
		}
		if y := Sample(l, a.forRequest(other, key, 0, 1)); x == y {
			t.Errorf("another conversation drew the same %v", x)
		}
		if y := Sample(l, a.forRequest(hdr, key, 0, 2)); x == y {
			t.Errorf("another reply drew the same %v", x)
		}
		if y := Sample(l, a.forRequest(hdr, endpointKey("chat", "backup"), 0, 1)); x == y {
			t.Errorf("another provider drew the same %v", x)
		}
	}
	// Without the header, draws come from the seeded shared RNG: the same
	// sequence for the same seed.
	for i := 0; i < 3; i++ {
		if x, y := Sample(l, a.forRequest(nil, key, 0, 0)), Sample(l, b.forRequest(nil, key, 0, 0)); x != y {
			t.Errorf("draw %d without header: %v != %v", i, x, y)
		}
	}
}
