package mockprovider

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// z99 is the standard normal quantile at 0.99: a lognormal's p99 sits z99
// standard deviations of its log above its median.
const z99 = 2.3263478740408408

// maxSample caps a draw so that a long lognormal tail cannot overflow a
// time.Duration; no mock latency is meaningful beyond an hour.
const maxSample = time.Hour

// Sample draws one delay from the latency model l using r. The zero Latency
// and unknown distributions give 0. Normal draws are clamped at 0 and, when
// set, to Min and Max; uniform draws lie in [Min, Max); lognormal draws are
// parameterised by their median and 99th percentile and clamped to Min and
// Max when set.
func Sample(l scenarios.Latency, r *rand.Rand) time.Duration {
	switch l.Dist {
	case "", scenarios.DistFixed:
		return l.Value.D()
	case scenarios.DistUniform:
		lo, hi := l.Min.D(), l.Max.D()
		if hi <= lo {
			return lo
		}
		return lo + time.Duration(r.Int64N(int64(hi-lo)))
	case scenarios.DistNormal:
		v := float64(l.Mean.D()) + float64(l.Stddev.D())*r.NormFloat64()
		return clamp(v, l.Min.D(), l.Max.D())
	case scenarios.DistLognormal:
		p50, p99 := float64(l.P50.D()), float64(l.P99.D())
		if p50 <= 0 {
			return 0
		}
		if p99 <= p50 {
			return clamp(p50, l.Min.D(), l.Max.D())
		}
		mu := math.Log(p50)
		sigma := (math.Log(p99) - mu) / z99
		return clamp(math.Exp(mu+sigma*r.NormFloat64()), l.Min.D(), l.Max.D())
	default:
		return 0
	}
}

// clamp converts v nanoseconds to a Duration within [max(lo,0), hi] (hi only
// when set) and within maxSample.
func clamp(v float64, lo, hi time.Duration) time.Duration {
	if v < float64(lo) {
		v = float64(lo)
	}
	if v < 0 || math.IsNaN(v) {
		v = 0
	}
	if hi > 0 && v > float64(hi) {
		v = float64(hi)
	}
	if v > float64(maxSample) {
		v = float64(maxSample)
	}
	return time.Duration(v)
}
