package plot

import (
	"math"

	"github.com/mcpload/mcpload/scenarios"
)

// ratePiece is a span of the schedule whose rate is constant or moves
// linearly, as the attacker's pacer builds it (attacker/pacer.go): a
// stage with a ramp moves from the previous stage's rate (0 for the
// first) to its own over the ramp, then holds it. Poisson arrivals have
// the same mean rate.
type ratePiece struct {
	start, end float64 // seconds since the start of the run
	r0, r1     float64 // rate at start and end, per second
	unbounded  bool    // rate 0: as fast as max_in_flight allows
}

// ratePieces builds the schedule of load's stages.
func ratePieces(load scenarios.LoadShape) []ratePiece {
	var pieces []ratePiece
	var t, prev float64
	for _, st := range load.Stages {
		rate := float64(st.Rate)
		d := st.Duration.D().Seconds()
		ramp := math.Min(math.Max(st.Ramp.D().Seconds(), 0), d)
		if d <= 0 || math.IsNaN(rate) || rate < 0 {
			continue
		}
		switch {
		case rate == 0:
			pieces = append(pieces, ratePiece{start: t, end: t + d, unbounded: true})
		default:
			if ramp > 0 {
				pieces = append(pieces, ratePiece{start: t, end: t + ramp, r0: prev, r1: rate})
			}
			if d > ramp {
				pieces = append(pieces, ratePiece{start: t + ramp, end: t + d, r0: rate, r1: rate})
			}
		}
		t += d
		prev = rate
	}
	return pieces
}

// hits is the conversations p schedules over [a, b], within p.
func (p ratePiece) hits(a, b float64) float64 {
	slope := (p.r1 - p.r0) / (p.end - p.start)
	ta, tb := a-p.start, b-p.start
	return p.r0*(tb-ta) + slope*(tb*tb-ta*ta)/2
}

// targetRate is the schedule's target for each of n one-second
// intervals: the conversations due in [i, i+1), the mean rate of the
// second. It is NaN in a second that a rate-0 stage (as fast as
// max_in_flight allows) touches, which has no target, and 0 once the
// schedule has ended.
func targetRate(load scenarios.LoadShape, n int) []float64 {
	pieces := ratePieces(load)
	out := make([]float64, n)
	for i := range out {
		a, b := float64(i), float64(i+1)
		for _, p := range pieces {
			from, to := math.Max(a, p.start), math.Min(b, p.end)
			if to <= from {
				continue
			}
			if p.unbounded {
				out[i] = math.NaN()
				break
			}
			out[i] += p.hits(from, to)
		}
	}
	return out
}
