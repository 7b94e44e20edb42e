package plot

import (
	"math"

	gplot "gonum.org/v1/plot"
)

// inFlight draws the conversations in flight: each second's time-weighted
// mean as a line, its peak as a lighter area behind it, and the
// max_in_flight cap when it is close enough to matter.
func inFlight(r *run) *figure {
	if r.ts == nil || r.axis.n == 0 || len(r.ts.InFlightMean) == 0 || total(r.ts.InFlightMax) == 0 {
		return nil
	}
	t := r.axis
	xs := t.xs()
	mean, peak := t.mean(r.ts.InFlightMean), t.peak(r.ts.InFlightMax)

	p := newPlot("", "time since start (s)", r.unit.plural+" in flight")
	t.setX(p)
	g := newLegend()
	g.add("max in the second", addArea(p, xs, make([]float64, len(xs)), peak, lighter(colBlue, 0.72)))
	addFaults(r.faults, p)
	g.add("time-weighted mean", addLine(p, xs, mean, lineStyle(colBlue, 1.6)))
	ymax := maxOf(peak)
	if r.sc != nil {
		if c := float64(r.sc.Load.MaxInFlight); c > 0 && c <= 2*ymax {
			cap := []float64{c, c}
			g.add("max_in_flight cap", addLine(p, []float64{0, float64(t.n)}, cap, dashed(colFailed, 1.2)))
			ymax = math.Max(ymax, c)
		}
	}
	legendFaults(g, r.faults)
	p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
	return &figure{
		name:  "in-flight",
		title: capitalize(r.unit.plural) + " in flight",
		caption: "How many " + r.unit.plural + " were running, each from its intended start to its end, sampled every 10 ms: " +
			"the mean of each second, and its largest sample. By Little's law the mean is the rate times the latency.",
		panels: []*gplot.Plot{p},
		legend: g,
	}
}
