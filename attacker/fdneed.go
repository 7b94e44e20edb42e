package attacker

import (
	"math"
	"time"

	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/scenarios"
)

// NeedFDs computes the descriptors sc's run may hold at once
// (fdbudget.Count), bounded by the conversations its schedule starts.
// mockInProcess says the built-in mock runs in this process (mcpload run),
// so that its server-side sockets count too. It is pure: it reads sc only.
func NeedFDs(sc *scenarios.Scenario, mockInProcess bool) (fdbudget.Need, error) {
	pacer, planned, err := NewPacer(sc.Load, sc.Seed)
	if err != nil {
		return fdbudget.Need{}, err
	}
	arrivals, ok := plannedArrivals(pacer, planned)
	if !ok {
		arrivals = math.Inf(1)
	}
	return fdbudget.Count(sc, mockInProcess, arrivals), nil
}

// plannedArrivals bounds the conversations sc's schedule starts, when it
// can be known: a stage that runs as fast as slots allow has no bound.
func plannedArrivals(p any, planned time.Duration) (float64, bool) {
	switch p := p.(type) {
	case *StagedPacer:
		if p.hasUnbounded() {
			return 0, false
		}
		return p.Hits(planned) + 1, true
	case *PoissonPacer:
		// A Poisson count can exceed its mean: allow six standard
		// deviations.
		mean, ok := plannedArrivals(p.base, planned)
		return mean + 6*math.Sqrt(mean) + 1, ok
	}
	return 0, false
}
