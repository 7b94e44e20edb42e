package policy

import (
	"math"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// Backoff computes the wait before a retry from retry.backoff, initial,
// multiplier, max and jitter. It is a pure function of its inputs: the
// random part comes in as a draw, so that a seeded run waits the same each
// time and tests can check the numbers.
type Backoff struct {
	Kind       string // scenarios.Backoff*; "" is exponential
	Initial    time.Duration
	Max        time.Duration // 0: no cap
	Multiplier float64       // exponential growth; <= 0 means 2
	Jitter     string        // scenarios.Jitter*; "" is none
}

// BackoffOf returns the Backoff of a retry section.
func BackoffOf(r *scenarios.Retry) Backoff {
	return Backoff{Kind: r.Backoff, Initial: r.Initial.D(), Max: r.Max.D(), Multiplier: r.Multiplier, Jitter: r.Jitter}
}

// Wait returns the wait before retry n (1 for the first retry). prev is the
// wait before the previous retry (decorrelated backoff grows from it; 0 for
// the first) and u a uniform draw in [0, 1).
//
//   - constant: Initial;
//   - exponential: Initial x Multiplier^(n-1);
//   - decorrelated (AWS's "decorrelated jitter"): random(Initial, 3 x prev),
//     already random, so Jitter does not apply to it;
//
// then capped at Max, then jittered: full is random(0, wait), equal is
// wait/2 + random(0, wait/2).
func (b Backoff) Wait(n int, prev time.Duration, u float64) time.Duration {
	if n < 1 {
		n = 1
	}
	u = min(max(u, 0), 1)
	var d float64
	switch b.Kind {
	case scenarios.BackoffConstant:
		d = float64(b.Initial)
	case scenarios.BackoffDecorrelated:
		lo := float64(b.Initial)
		hi := 3 * float64(max(prev, b.Initial))
		return b.capped(lo + u*(hi-lo))
	default:
		m := b.Multiplier
		if m <= 0 {
			m = 2
		}
		d = float64(b.Initial) * math.Pow(m, float64(n-1))
	}
	w := b.capped(d)
	switch b.Jitter {
	case scenarios.JitterFull:
		w = scale(w, u)
	case scenarios.JitterEqual:
		w = w/2 + scale(w/2, u)
	}
	return w
}

// scale returns u x d for u in [0, 1], without a float rounding past the
// largest Duration.
func scale(d time.Duration, u float64) time.Duration {
	x := u * float64(d)
	if x >= math.MaxInt64 {
		return d
	}
	return time.Duration(x)
}

// capped converts d to a Duration no longer than Max (when set), without
// overflowing on huge exponents.
func (b Backoff) capped(d float64) time.Duration {
	if b.Max > 0 && d > float64(b.Max) {
		return b.Max
	}
	if d >= math.MaxInt64 || math.IsNaN(d) {
		return math.MaxInt64
	}
	return time.Duration(max(d, 0))
}

// draw returns a uniform draw in [0, 1) for try of step of conversation
// conv under seed: a hash, not a shared random source, so that draws need
// no lock and do not depend on the order in which steps run.
func draw(seed, conv uint64, step, try int) float64 {
	x := splitmix64(seed ^ splitmix64(conv^splitmix64(uint64(step)<<20^uint64(try))))
	return float64(x>>11) / (1 << 53)
}

// splitmix64 is a strong 64-bit mixer (Steele et al., SplitMix).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
