package plot

import (
	"math"
	"sort"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/mcpload/mcpload/record"
)

// maxStepPanels bounds the step panels of the latency-over-time figure:
// the busiest step keys get one each.
const maxStepPanels = 4

// Percentile colours, the same in every latency plot.
var (
	colP50 = colBlue
	colP90 = colOrange
	colP99 = colFailed
)

// latencyOverTime draws p50, p90 and p99 per interval, one panel for the
// conversation level and one per step key, on a log scale.
func latencyOverTime(r *run) *figure {
	conv := r.lat[record.LevelConversation]
	if conv == nil || conv.count == 0 {
		return nil
	}
	levels := []*latencySeries{conv}
	steps := r.stepSeries()
	note := ""
	if len(steps) > maxStepPanels {
		note = "the " + itoa(maxStepPanels) + " busiest of " + itoa(len(steps)) + " step keys"
		steps = steps[:maxStepPanels]
	}
	levels = append(levels, steps...)

	g := newLegend()
	g.add("p50", stroke{lineStyle(colP50, 1.4)})
	g.add("p90", stroke{lineStyle(colP90, 1.4)})
	g.add("p99", stroke{lineStyle(colP99, 1.4)})
	legendFaults(g, r.faults)

	xs := r.axis.xs()
	panels := make([]*gplot.Plot, len(levels))
	for i, s := range levels {
		title := r.unit.singular + " (from intended start; ok only)"
		if i > 0 {
			title = "step " + strings.TrimPrefix(s.tag, record.LevelStep+".")
		}
		xLabel := ""
		if i == len(levels)-1 {
			xLabel = "time since start (s)"
		}
		p := newPlot(title, xLabel, "latency (ms)")
		r.axis.setX(p)
		addFaults(r.faults, p)
		addLine(p, xs, s.p50, lineStyle(colP50, 1.4))
		addLine(p, xs, s.p90, lineStyle(colP90, 1.4))
		addLine(p, xs, s.p99, lineStyle(colP99, 1.4))
		lo, hi := rangeOf(s.p50, s.p99)
		fitLog(&p.Y, lo, hi)
		panels[i] = p
	}
	return &figure{
		name:  "latency",
		title: "Latency percentiles over time",
		caption: "p50, p90 and p99 of each interval's successful " + r.unit.plural + " and steps, on a log scale, " +
			"placed at the interval in which they finished. Failures are kept out: see the outcome plots.",
		height: stackHeight(len(panels)),
		panels: panels,
		legend: g,
		note:   note,
	}
}

// stepSeries returns the step keys' series, busiest first.
func (r *run) stepSeries() []*latencySeries {
	var steps []*latencySeries
	for tag, s := range r.lat {
		if strings.HasPrefix(tag, record.LevelStep+".") && !strings.HasSuffix(tag, record.FailedSuffix) && s.count > 0 {
			steps = append(steps, s)
		}
	}
	sort.Slice(steps, func(i, j int) bool {
		ci, cj := steps[i].count, steps[j].count
		if ci != cj {
			return ci > cj
		}
		return steps[i].tag < steps[j].tag
	})
	return steps
}

// stackHeight is the height of a figure of n stacked panels.
func stackHeight(n int) vg.Length {
	if n <= 1 {
		return figHeight
	}
	return px(70 + 170*float64(n))
}

// rangeOf returns the smallest of lo and the largest of hi, skipping NaN.
func rangeOf(lo, hi []float64) (float64, float64) {
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range lo {
		if !math.IsNaN(v) {
			mn = math.Min(mn, v)
		}
	}
	for _, v := range hi {
		if !math.IsNaN(v) {
			mx = math.Max(mx, v)
		}
	}
	return mn, mx
}
