package plot

import (
	"math"

	gplot "gonum.org/v1/plot"
)

// throughput draws conversations per second by fate (ok, failed,
// dropped), stacked, so that the top of the stack is the load offered,
// with the schedule's target rate over it.
func throughput(r *run) *figure {
	if r.ts == nil || r.axis.n == 0 {
		return nil
	}
	c := r.ts.Conversations
	if total(c.OK)+total(c.Failed)+total(c.Dropped) == 0 {
		return nil
	}
	// Counts per second are drawn as steps, flat over their second, so
	// that a last second with nothing due does not read as a ramp down.
	t := r.axis
	xs, ok := t.steps(t.rate(c.OK))
	_, failed := t.steps(t.rate(c.Failed))
	_, dropped := t.steps(t.rate(c.Dropped))

	p := newPlot("", "time since start (s)", r.unit.plural+"/s")
	t.setX(p)
	g := newLegend()

	zero := make([]float64, len(xs))
	top := make([]float64, len(xs))
	copy(top, ok)
	g.add("ok", addArea(p, xs, zero, top, lighter(colOK, 0.25)))
	hi := top
	if total(c.Failed) > 0 {
		lo := hi
		hi = sum(lo, failed)
		g.add("failed", addArea(p, xs, lo, hi, lighter(colFailed, 0.15)))
	}
	if total(c.Dropped) > 0 {
		lo := hi
		hi = sum(lo, dropped)
		g.add("dropped (in-flight cap)", addArea(p, xs, lo, hi, lighter(colDropped, 0.2)))
	}
	// Over the areas, so that the windows show, under the target.
	addFaults(r.faults, p)
	ymax := maxOf(hi)
	if r.sc != nil && len(r.sc.Load.Stages) > 0 {
		_, target := t.steps(t.mean(targetRate(r.sc.Load, t.n)))
		g.add("target rate", addLine(p, xs, target, dashed(colTarget, 1.4)))
		ymax = math.Max(ymax, maxOf(target))
	}
	legendFaults(g, r.faults)
	p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
	return &figure{
		name:  "throughput",
		title: "Throughput: " + r.unit.plural + " per second by fate",
		caption: r.unit.plural + " counted in the second of their intended start, stacked: ok, failed and dropped add up to the " +
			"load offered, which should follow the dashed target rate of the load stages (open model).",
		panels: []*gplot.Plot{p},
		legend: g,
	}
}

// sum adds a and b element by element.
func sum(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
	}
	return out
}

// maxOf is the largest of v, skipping NaN; 0 for none.
func maxOf(v []float64) float64 {
	var m float64
	for _, x := range v {
		if !math.IsNaN(x) {
			m = math.Max(m, x)
		}
	}
	return m
}
