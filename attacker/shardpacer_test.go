package attacker

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// TestShardsInterleaveTheGlobalSchedule: for constant arrivals, with a
// ramp up, a plateau, a fractional rate and a ramp down, the n shards'
// hits are exactly the one schedule's, each at its global place and with
// its global number, whatever n.
func TestShardsInterleaveTheGlobalSchedule(t *testing.T) {
	t.Parallel()
	load := scenarios.LoadShape{Arrival: scenarios.ArrivalConstant, Stages: []scenarios.Stage{
		stage(50, 2*time.Second, time.Second),
		stage(33.3, 3*time.Second, 0),
		stage(7, 2*time.Second, 1500*time.Millisecond),
	}}
	one, _, err := NewPacer(load, 1)
	if err != nil {
		t.Fatal(err)
	}
	global := schedule(t, one, 1_000_000, 0)
	for _, n := range []int{1, 2, 4, 7} {
		got := make([]time.Duration, len(global))
		seen := make([]bool, len(global))
		for i := range n {
			p, _, err := NewShardedPacer(load, 1, i, n)
			if err != nil {
				t.Fatal(err)
			}
			spec := ShardSpec{Index: i, Count: n}
			for local, due := range schedule(t, p, 1_000_000, 0) {
				g := spec.seq(uint64(local))
				if g >= uint64(len(global)) || seen[g] {
					t.Fatalf("n=%d shard %d: hit %d is global %d, out of the schedule or taken twice", n, i, local, g)
				}
				seen[g], got[g] = true, due
			}
		}
		for g, ok := range seen {
			if !ok {
				t.Fatalf("n=%d: global hit %d of %d ran in no shard", n, g, len(global))
			}
		}
		if !slices.Equal(got, global) {
			t.Errorf("n=%d: the shards' due times differ from the one schedule's", n)
		}
	}
}

// TestShardedPoissonKeepsRateAndDistribution: n independent Poisson
// streams of rate r/n add up to a Poisson process of rate r: the count is
// r·T within 4σ, and the gaps of the union (rate r) and of each shard
// (rate r/n) pass a Kolmogorov–Smirnov test against their exponential
// distribution. The shards' streams differ from one another.
func TestShardedPoissonKeepsRateAndDistribution(t *testing.T) {
	t.Parallel()
	const rate, secs = 400.0, 30.0
	load := scenarios.LoadShape{Arrival: scenarios.ArrivalPoisson, Stages: []scenarios.Stage{stage(rate, secs*time.Second, 0)}}
	for _, n := range []int{2, 4, 7} {
		var union []time.Duration
		var firsts []time.Duration
		for i := range n {
			p, _, err := NewShardedPacer(load, 42, i, n)
			if err != nil {
				t.Fatal(err)
			}
			hits := schedule(t, p, 1_000_000, 0)
			if len(hits) < 10 {
				t.Fatalf("n=%d shard %d: %d hits", n, i, len(hits))
			}
			firsts = append(firsts, hits[0])
			if d := ksExponential(gaps(hits), rate/float64(n)); d > ksCritical(len(hits)) {
				t.Errorf("n=%d shard %d: gaps are not exponential at rate %g: KS D=%.4f > %.4f", n, i, rate/float64(n), d, ksCritical(len(hits)))
			}
			union = append(union, hits...)
		}
		slices.Sort(union)
		want := rate * secs
		if got := float64(len(union)); math.Abs(got-want) > 4*math.Sqrt(want) {
			t.Errorf("n=%d: %d arrivals in %gs, want %g ± %.0f", n, len(union), secs, want, 4*math.Sqrt(want))
		}
		if d := ksExponential(gaps(union), rate); d > ksCritical(len(union)) {
			t.Errorf("n=%d: merged gaps are not exponential at rate %g: KS D=%.4f > %.4f", n, rate, d, ksCritical(len(union)))
		}
		slices.Sort(firsts)
		if len(slices.Compact(firsts)) != n {
			t.Errorf("n=%d: shards drew the same stream: first arrivals %v", n, firsts)
		}
	}
}

func gaps(hits []time.Duration) []float64 {
	g := make([]float64, 0, len(hits))
	for i := 1; i < len(hits); i++ {
		g = append(g, (hits[i] - hits[i-1]).Seconds())
	}
	return g
}

// ksExponential is the Kolmogorov–Smirnov statistic of xs against the
// exponential distribution of the given rate.
func ksExponential(xs []float64, rate float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	var d float64
	n := float64(len(xs))
	for i, x := range xs {
		cdf := 1 - math.Exp(-rate*x)
		d = max(d, math.Abs(cdf-float64(i)/n), math.Abs(float64(i+1)/n-cdf))
	}
	return d
}

// ksCritical is the KS critical value at the 0.1% level.
func ksCritical(n int) float64 { return 1.95 / math.Sqrt(float64(n)) }
