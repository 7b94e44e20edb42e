package capacity

import (
	"fmt"
	"time"
)

// Saturation watches a probe while it runs and says when it is
// over-saturated: the target (or the generator) falls behind the arrivals
// without bound, so that waiting for the end of the probe would only
// spend time on a verdict already known. It is fed the probe's progress,
// one sample at a time, and judges after the warm-up only.
//
// Two signs count, each on two samples in a row (one can be a blip):
//   - Backlog: by Little's law the conversations in flight are the rate
//     times their mean time in the system. More in flight than Factor
//     times rate × Bound means the conversations in the system have been
//     there, on average, longer than Factor × Bound: the latency the SLO
//     allows is already lost.
//   - Schedule lag: the generator has started (or dropped) fewer
//     conversations than the schedule called for by more than MaxLag.
//     That is the harness at its limit, not the target; it fails the
//     probe too, since the rate was not offered.
//
// The zero Bound judges the lag only.
type Saturation struct {
	// Warmup is when judging starts.
	Warmup time.Duration
	// Bound is the largest latency the SLO allows (or the client's
	// timeout); Factor is the backlog's margin over it, default 2.
	Bound  time.Duration
	Factor float64
	// MaxLag is the schedule lag that counts, default 1s.
	MaxLag time.Duration

	strikes int
	why     string
	// lag is the largest lag seen, in seconds.
	lag float64
	// The sums of a least-squares line through the in-flight samples
	// after the warm-up, for Trend: count, t, y, t², t·y (t in seconds).
	n, st, sy, stt, sty float64
	rate                float64
}

// Sample is one look at a running probe.
type Sample struct {
	Elapsed time.Duration
	// Rate is the scheduled arrival rate, per second.
	Rate float64
	// InFlight counts conversations running; Started and Dropped those
	// the generator started and dropped so far.
	InFlight         int64
	Started, Dropped uint64
	// Scheduled is how many arrivals the schedule called for by Elapsed.
	Scheduled float64
}

// Add judges one sample, and reports whether the probe is over-saturated.
// Once it has said so it keeps saying so.
func (s *Saturation) Add(x Sample) bool {
	if s.why != "" {
		return true
	}
	lag := 0.0
	if x.Rate > 0 {
		lag = (x.Scheduled - float64(x.Started+x.Dropped)) / x.Rate
	}
	s.lag = max(s.lag, lag)
	if x.Elapsed < s.Warmup || x.Rate <= 0 {
		return false
	}
	t, y := x.Elapsed.Seconds(), float64(x.InFlight)
	s.n, s.st, s.sy, s.stt, s.sty, s.rate = s.n+1, s.st+t, s.sy+y, s.stt+t*t, s.sty+t*y, x.Rate
	factor, maxLag := s.Factor, s.MaxLag
	if factor == 0 {
		factor = 2
	}
	if maxLag == 0 {
		maxLag = time.Second
	}
	var why string
	if limit := factor * x.Rate * s.Bound.Seconds(); s.Bound > 0 && float64(x.InFlight) > limit {
		why = fmt.Sprintf("backlog: %d in flight at %.4g/s, over %.0f (%gx the rate times the SLO's %s): latency grows without bound", x.InFlight, x.Rate, limit, factor, s.Bound)
	} else if lag > maxLag.Seconds() {
		why = fmt.Sprintf("schedule lag: the generator is %.2fs behind the schedule at %.4g/s (the harness, not the target, is the limit)", lag, x.Rate)
	}
	if why == "" {
		s.strikes = 0
		return false
	}
	s.strikes++
	if s.strikes >= 2 {
		s.why = why
		return true
	}
	return false
}

// Why says why the probe is over-saturated, or "" while it is not.
func (s *Saturation) Why() string { return s.why }

// MaxLagS returns the largest schedule lag seen, in seconds.
func (s *Saturation) MaxLagS() float64 { return s.lag }

// Trend is how fast the conversations in flight grew after the warm-up,
// per second: the slope of a least-squares line through the samples. A
// stable system holds its backlog steady, whatever its size; above its
// capacity the backlog grows by the excess of arrivals over completions,
// which a short probe may not run long enough to turn into latency.
// ok is false with fewer than 4 samples.
func (s *Saturation) Trend() (perS float64, ok bool) {
	d := s.n*s.stt - s.st*s.st
	if s.n < 4 || d <= 0 {
		return 0, false
	}
	return (s.n*s.sty - s.st*s.sy) / d, true
}

// Growing reports whether the backlog grew faster than tol times the
// rate: more than that share of arrivals were not served. Half the
// search's tolerance is the natural tol: a rate above the capacity by
// more than the tolerance fails, and within it need not be told apart.
func (s *Saturation) Growing(tol float64) (string, bool) {
	slope, ok := s.Trend()
	if !ok || slope <= tol*s.rate {
		return "", false
	}
	return fmt.Sprintf("backlog: conversations in flight grew by %.3g/s over the probe, over %.2g of the %.4g/s offered: the target does not keep up", slope, tol, s.rate), true
}
