package confidence

import (
	"math"
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestWilsonKnownValues(t *testing.T) {
	// Reference values from the Wilson formula at z = 1.959964.
	cases := []struct {
		k, n   uint64
		lo, hi float64
	}{
		{50, 100, 0.4038, 0.5962},
		{0, 100, 0, 0.0370},
		{100, 100, 0.9630, 1},
		{999, 1000, 0.99437, 0.99982},
	}
	for _, c := range cases {
		iv := Wilson(c.k, c.n)
		if math.Abs(iv.Lo-c.lo) > 5e-4 || math.Abs(iv.Hi-c.hi) > 5e-4 {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], want [%.4f, %.4f]", c.k, c.n, iv.Lo, iv.Hi, c.lo, c.hi)
		}
		if iv.N != c.n || iv.Estimate != float64(c.k)/float64(c.n) {
			t.Errorf("Wilson(%d, %d) = %+v", c.k, c.n, iv)
		}
	}
}

// TestBootstrapMeanCoversTruth draws samples from a known normal
// distribution: the bootstrap interval of the mean must contain the true
// mean and be about as wide as 2·1.96·σ/√n.
func TestBootstrapMeanCoversTruth(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, mu, sigma = 4000, 100.0, 20.0
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = math.Round(mu + sigma*rng.NormFloat64())
	}
	iv := Bootstrap(FromValues(vs), Mean, 7)
	if iv.Lo > mu || iv.Hi < mu {
		t.Errorf("interval [%.2f, %.2f] misses the true mean %v", iv.Lo, iv.Hi, mu)
	}
	want := 2 * 1.96 * sigma / math.Sqrt(n)
	if w := iv.Hi - iv.Lo; w < 0.8*want || w > 1.2*want {
		t.Errorf("width %.3f, want about %.3f", w, want)
	}
	if again := Bootstrap(FromValues(vs), Mean, 7); again != iv {
		t.Errorf("same seed gave %+v then %+v", iv, again)
	}
}

// TestBootstrapQuantileFromHistogram bootstraps p99 of an exponential
// distribution recorded in an HDR histogram, as the recorder records it.
func TestBootstrapQuantileFromHistogram(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h := hdrhistogram.New(1, 3_600_000_000, 3)
	const mean = 10_000.0 // µs
	for range 20000 {
		_ = h.RecordValue(int64(rng.ExpFloat64() * mean))
	}
	truth := -math.Log(0.01) * mean / 1000 // ms
	iv := Bootstrap(FromHistogram(h, 1e-3), Quantile(0.99), 11)
	if iv.Lo > truth || iv.Hi < truth {
		t.Errorf("p99 interval [%.2f, %.2f] ms misses the true %.2f ms", iv.Lo, iv.Hi, truth)
	}
	if iv.Hi-iv.Lo > 0.2*truth {
		t.Errorf("p99 interval [%.2f, %.2f] ms is too wide for 20000 samples", iv.Lo, iv.Hi)
	}
	if got := iv.Estimate; math.Abs(got-float64(h.ValueAtQuantile(99))/1000) > 0.01*got {
		t.Errorf("estimate %.3f ms, histogram says %.3f ms", got, float64(h.ValueAtQuantile(99))/1000)
	}
}

func TestBootstrapRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func(scale float64) *Dist {
		vs := make([]float64, 3000)
		for i := range vs {
			vs[i] = math.Round(rng.ExpFloat64() * scale)
		}
		return FromValues(vs)
	}
	base, same, slower := draw(100), draw(100), draw(150)
	if iv := BootstrapRatio(base, same, Quantile(0.9), 1); iv.Lo > 1 || iv.Hi < 1 {
		t.Errorf("same distribution: ratio interval [%.3f, %.3f] excludes 1", iv.Lo, iv.Hi)
	}
	if iv := BootstrapRatio(base, slower, Quantile(0.9), 1); iv.Lo < 1.3 || iv.Hi > 1.7 {
		t.Errorf("1.5x slower: ratio interval [%.3f, %.3f], want inside [1.3, 1.7]", iv.Lo, iv.Hi)
	}
}

func TestEmpty(t *testing.T) {
	d := FromValues(nil)
	if iv := Bootstrap(d, Mean, 1); iv.N != 0 || iv.Lo != 0 || iv.Hi != 0 {
		t.Errorf("empty bootstrap = %+v", iv)
	}
	if iv := BootstrapRatio(d, d, Mean, 1); !math.IsNaN(iv.Estimate) {
		t.Errorf("empty ratio = %+v", iv)
	}
	if iv := Wilson(0, 0); iv.N != 0 || iv.Hi != 0 {
		t.Errorf("Wilson(0,0) = %+v", iv)
	}
}

// TestExactQuantileBootstrapMatchesResampling checks the exact bootstrap
// distribution of a quantile against brute-force resampling of raw values.
func TestExactQuantileBootstrapMatchesResampling(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	vs := make([]float64, 300)
	for i := range vs {
		vs[i] = math.Round(rng.ExpFloat64() * 50)
	}
	d := FromValues(vs)
	exact := Bootstrap(d, Quantile(0.9), 3)

	reps := make([]float64, 8000)
	re := make([]float64, len(vs))
	for i := range reps {
		for j := range re {
			re[j] = vs[rng.IntN(len(vs))]
		}
		reps[i] = FromValues(re).Quantile(0.9)
	}
	lo, hi := percentileInterval(reps)
	if math.Abs(exact.Lo-lo) > 0.05*lo || math.Abs(exact.Hi-hi) > 0.05*hi {
		t.Errorf("exact [%.1f, %.1f], brute force [%.1f, %.1f]", exact.Lo, exact.Hi, lo, hi)
	}
}

func TestEnough(t *testing.T) {
	cases := []struct {
		s    Stat
		n    uint64
		ok   bool
		need uint64
	}{
		{Quantile(0.99), 999, false, 1000},
		{Quantile(0.99), 1000, true, 1000},
		{Quantile(0.5), 20, true, 20},
		{Quantile(0.999), 5000, false, 10000},
		{Mean, 9, false, 10},
	}
	for _, c := range cases {
		if ok, need := c.s.Enough(c.n); ok != c.ok || need != c.need {
			t.Errorf("%+v.Enough(%d) = %v, %d; want %v, %d", c.s, c.n, ok, need, c.ok, c.need)
		}
	}
}
