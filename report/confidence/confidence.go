// Package confidence computes the 95% intervals that claims and run
// comparisons are judged on: a bootstrap for percentiles and means, and
// Wilson's score interval for rates.
//
// The bootstrap resamples an HDR histogram rather than raw samples. A
// resample of n values drawn with replacement from a histogram is a
// multinomial draw of n over its buckets, made here one binomial per
// bucket, so one resample costs the number of distinct buckets (a few
// thousand at most) whatever n is: a million-conversation run bootstraps
// as fast as a thousand-conversation one. The values are the histogram's
// (3 significant digits), which moves a percentile by at most 0.1%.
package confidence

import (
	"math"
	"math/rand/v2"
	"slices"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of every interval here.
const Level = 0.95

// z is the standard normal quantile for a two-sided 95% interval.
var z = distuv.UnitNormal.Quantile(1 - (1-Level)/2)

// Resamples is the number of bootstrap resamples.
const Resamples = 2000

// Interval is a two-sided confidence interval around an estimate.
type Interval struct {
	Estimate float64 `json:"estimate"`
	Lo       float64 `json:"lo"`
	Hi       float64 `json:"hi"`
	// N is the number of samples the interval rests on.
	N uint64 `json:"n"`
	// Method names how the interval was computed.
	Method string `json:"method"`
}

// Methods.
const (
	MethodBootstrap = "bootstrap"
	MethodWilson    = "wilson"
)

// Wilson returns the Wilson score interval of the proportion k/n, in the
// same unit as k/n (0-1). It behaves at 0 and at n, where the normal
// approximation collapses to a point: 1000 successes out of 1000 do not
// prove 100%.
func Wilson(k, n uint64) Interval {
	iv := Interval{N: n, Method: MethodWilson}
	if n == 0 {
		return iv
	}
	p := float64(k) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	iv.Estimate, iv.Lo, iv.Hi = p, max(0, center-half), min(1, center+half)
	return iv
}

// Dist is a distribution of values, as counts of distinct values: the
// bars of an HDR histogram.
type Dist struct {
	values []float64
	counts []uint64
	n      uint64
}

// FromHistogram takes h's distinct values, multiplied by scale (1e-3 turns
// the recorder's microseconds into milliseconds).
func FromHistogram(h *hdrhistogram.Histogram, scale float64) *Dist {
	d := &Dist{}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		// The bar's midpoint is what the histogram holds for its values.
		d.values = append(d.values, float64(b.From+b.To)/2*scale)
		d.counts = append(d.counts, uint64(b.Count))
		d.n += uint64(b.Count)
	}
	return d
}

// FromValues builds a Dist from raw values, for tests and small inputs.
func FromValues(vs []float64) *Dist {
	s := slices.Clone(vs)
	slices.Sort(s)
	d := &Dist{}
	for i, v := range s {
		if i > 0 && v == s[i-1] {
			d.counts[len(d.counts)-1]++
		} else {
			d.values = append(d.values, v)
			d.counts = append(d.counts, 1)
		}
		d.n++
	}
	return d
}

// N is the number of values.
func (d *Dist) N() uint64 { return d.n }

// Mean is the mean value; 0 for an empty Dist.
func (d *Dist) Mean() float64 {
	if d.n == 0 {
		return 0
	}
	var sum float64
	for i, v := range d.values {
		sum += v * float64(d.counts[i])
	}
	return sum / float64(d.n)
}

// Quantile returns the smallest value with at least q (0-1) of the values
// at or below it, as HdrHistogram's ValueAtQuantile does.
func (d *Dist) Quantile(q float64) float64 {
	if d.n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(d.n)))
	want = max(want, 1)
	var seen uint64
	for i, c := range d.counts {
		seen += c
		if seen >= want {
			return d.values[i]
		}
	}
	return d.values[len(d.values)-1]
}

// Stat is a statistic of a Dist whose bootstrap distribution this package
// knows how to draw from: the mean, or a quantile.
type Stat struct {
	// Q is the quantile (0-1) when the statistic is a quantile.
	Q    float64
	mean bool
}

// Mean is the statistic "mean".
var Mean = Stat{mean: true}

// Quantile returns the statistic "quantile q" (0-1).
func Quantile(q float64) Stat { return Stat{Q: q} }

// MinTail is the fewest samples that must lie beyond a quantile, on its
// rarer side, for its bootstrap interval to be trusted. The bootstrap of
// an extreme quantile from few samples can only pick among the last few
// order statistics, so its interval comes out too narrow: a p99 of 150
// samples, with one or two values beyond it, looks precise and is not.
// Ten beyond is the usual rule of thumb for quantile intervals.
const MinTail = 10

// Enough reports whether n samples are enough for an interval of s that
// can be trusted, and if not, how many would be.
func (s Stat) Enough(n uint64) (ok bool, need uint64) {
	if s.mean {
		return n >= MinTail, MinTail
	}
	rare := min(s.Q, 1-s.Q)
	if rare <= 0 {
		return false, math.MaxUint64
	}
	need = uint64(math.Ceil(MinTail / rare))
	return n >= need, need
}

// Of computes the statistic on d.
func (s Stat) Of(d *Dist) float64 {
	if s.mean {
		return d.Mean()
	}
	return d.Quantile(s.Q)
}

// replicates returns a function that draws one bootstrap replicate of s
// over d: the statistic of one resample of d.
//
// A quantile's bootstrap distribution is known exactly, so it is drawn
// from, not resampled: the resampled q-quantile is at most v_i exactly
// when at least ceil(q·n) of the n draws fall at or below v_i, and that
// count is Binomial(n, F(v_i)). This is the percentile bootstrap with
// infinitely many resamples, at the cost of one binomial tail per bucket.
//
// A mean is resampled: a multinomial draw over the buckets, made one
// binomial per bucket. Buckets are first merged down to at most
// maxMeanBins, by count-weighted mean, which keeps the mean exactly and
// the spread to within a bucket's width.
func (s Stat) replicates(d *Dist) func(*rand.Rand) float64 {
	if s.mean {
		r := &resampler{d: d.coarsen(maxMeanBins)}
		r.out = Dist{values: r.d.values, counts: make([]uint64, len(r.d.counts)), n: r.d.n}
		return func(rng *rand.Rand) float64 { return r.draw(rng).Mean() }
	}
	cdf := s.quantileCDF(d)
	return func(rng *rand.Rand) float64 {
		u := rng.Float64()
		i, _ := slices.BinarySearch(cdf, u)
		return d.values[min(i, len(d.values)-1)]
	}
}

// quantileCDF returns, for each bucket i, the probability that the
// bootstrap quantile is at most values[i].
func (s Stat) quantileCDF(d *Dist) []float64 {
	n := float64(d.n)
	need := max(math.Ceil(s.Q*n), 1)
	cdf := make([]float64, len(d.counts))
	var below uint64
	for i, c := range d.counts {
		below += c
		f := float64(below) / float64(d.n)
		switch {
		case f >= 1:
			cdf[i] = 1
		default:
			// P(Binomial(n, f) >= need)
			cdf[i] = 1 - distuv.Binomial{N: n, P: f}.CDF(need-1)
		}
	}
	return cdf
}

// maxMeanBins bounds the buckets a mean's resample draws over.
const maxMeanBins = 512

// coarsen merges adjacent buckets of d into at most bins buckets of about
// equal count, each at the count-weighted mean of what it merged.
func (d *Dist) coarsen(bins int) *Dist {
	if len(d.values) <= bins {
		return d
	}
	per := (d.n + uint64(bins) - 1) / uint64(bins)
	out := &Dist{n: d.n}
	var sum float64
	var cnt uint64
	for i, c := range d.counts {
		sum += d.values[i] * float64(c)
		cnt += c
		if cnt >= per || i == len(d.counts)-1 {
			out.values = append(out.values, sum/float64(cnt))
			out.counts = append(out.counts, cnt)
			sum, cnt = 0, 0
		}
	}
	return out
}

// resampler draws multinomial resamples of one Dist into a reused buffer.
type resampler struct {
	d   *Dist
	out Dist
}

// draw makes one multinomial resample: bucket i gets Binomial(left,
// c_i/remaining) of the draws not yet placed.
func (r *resampler) draw(rng *rand.Rand) *Dist {
	left, remaining := r.d.n, r.d.n
	for i, c := range r.d.counts {
		var k uint64
		switch {
		case left == 0:
		case c == remaining:
			k = left
		default:
			p := float64(c) / float64(remaining)
			k = uint64(distuv.Binomial{N: float64(left), P: p, Src: rng}.Rand())
		}
		r.out.counts[i] = k
		left -= k
		remaining -= c
	}
	return &r.out
}

// Bootstrap returns the percentile-bootstrap 95% interval of stat over d,
// from Resamples replicates drawn from seed: the same seed gives the same
// interval.
func Bootstrap(d *Dist, stat Stat, seed uint64) Interval {
	iv := Interval{Estimate: stat.Of(d), N: d.n, Method: MethodBootstrap}
	if d.n == 0 {
		return iv
	}
	draw := stat.replicates(d)
	rng := rand.New(rand.NewPCG(seed, 0x6d63706c6f6164))
	reps := make([]float64, Resamples)
	for i := range reps {
		reps[i] = draw(rng)
	}
	iv.Lo, iv.Hi = percentileInterval(reps)
	return iv
}

// BootstrapRatio returns the 95% interval of stat(b)/stat(a), each side
// resampled on its own: how much larger b's statistic is than a's, with
// the noise of both runs in it. The estimate is NaN when stat(a) is 0.
func BootstrapRatio(a, b *Dist, stat Stat, seed uint64) Interval {
	iv := Interval{N: min(a.n, b.n), Method: MethodBootstrap}
	sa, sb := stat.Of(a), stat.Of(b)
	if a.n == 0 || b.n == 0 || sa == 0 {
		iv.Estimate, iv.Lo, iv.Hi = math.NaN(), math.NaN(), math.NaN()
		return iv
	}
	iv.Estimate = sb / sa
	rng := rand.New(rand.NewPCG(seed, 0x636f6d70617265))
	da, db := stat.replicates(a), stat.replicates(b)
	ratios := make([]float64, 0, Resamples)
	for range Resamples {
		x, y := da(rng), db(rng)
		if x > 0 {
			ratios = append(ratios, y/x)
		}
	}
	if len(ratios) == 0 {
		iv.Lo, iv.Hi = math.NaN(), math.NaN()
		return iv
	}
	iv.Lo, iv.Hi = percentileInterval(ratios)
	return iv
}

// percentileInterval returns the 2.5th and 97.5th percentiles of reps,
// which it sorts.
func percentileInterval(reps []float64) (lo, hi float64) {
	slices.Sort(reps)
	at := func(q float64) float64 {
		i := int(math.Round(q * float64(len(reps)-1)))
		return reps[i]
	}
	return at((1 - Level) / 2), at(1 - (1-Level)/2)
}
