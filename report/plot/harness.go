package plot

import (
	"encoding/json"
	"math"

	gplot "gonum.org/v1/plot"

	"github.com/mcpload/mcpload/record"
)

// scheduleLag draws the harness's check of itself: the schedule lag's p50,
// p90 and p99 per interval against the 1 ms bound, and below them the
// process's CPU in cores against the cores it may use (from
// harness.jsonl), so that a lag that grows with the CPU reads as the
// generator's limit.
func scheduleLag(r *run) *figure {
	lag := r.lat[record.LevelScheduleLag]
	if lag == nil || lag.count == 0 {
		return nil
	}
	xs := r.axis.xs()
	g := newLegend()
	g.add("p50", stroke{lineStyle(colP50, 1.4)})
	g.add("p90", stroke{lineStyle(colP90, 1.4)})
	g.add("p99", stroke{lineStyle(colP99, 1.4)})
	bound := float64(record.LagBoundUS) / 1000
	last := []float64{0, math.Max(float64(r.axis.n), 1)}

	p := newPlot("schedule lag: actual start less intended start", "", "lag (ms)")
	r.axis.setX(p)
	addFaults(r.faults, p)
	addLine(p, xs, lag.p50, lineStyle(colP50, 1.4))
	addLine(p, xs, lag.p90, lineStyle(colP90, 1.4))
	addLine(p, xs, lag.p99, lineStyle(colP99, 1.4))
	g.add("1 ms bound", addLine(p, last, []float64{bound, bound}, dashed(colTarget, 1)))
	lo, hi := rangeOf(lag.p50, lag.p99)
	fitLog(&p.Y, math.Min(lo, bound), math.Max(hi, bound))
	panels := []*gplot.Plot{p}

	if cpu, cores := r.harnessCPU(); cpu != nil {
		c := newPlot("mcpload's CPU", "time since start (s)", "cores")
		r.axis.setX(c)
		g.add("CPU (busiest sample)", addLine(c, xs, cpu, lineStyle(colPurple, 1.4)))
		g.add("cores it may use", addLine(c, last, []float64{cores, cores}, dashed(colDropped, 1.2)))
		c.Y.Min, c.Y.Max = 0, math.Max(maxOf(cpu), cores)*1.08
		panels = append(panels, c)
	} else {
		p.X.Label.Text = "time since start (s)"
	}
	legendFaults(g, r.faults)
	return &figure{
		name:  "schedule-lag",
		title: "Harness: schedule lag and CPU",
		caption: "How late mcpload started each interval's arrivals (p50, p90, p99, log scale), and the CPU its process used. " +
			"A p99 above 1 ms is mcpload's own delay inside every latency from the intended start; with the CPU at its cores, the generator is the limit.",
		height: stackHeight(len(panels)),
		panels: panels,
		legend: g,
	}
}

// harnessCPU reads harness.jsonl: the busiest sample's CPU per bucket of
// the axis (NaN where none), and the cores the process could use. nil
// when the folder has no samples.
func (r *run) harnessCPU() ([]float64, float64) {
	out := nans(r.axis.buckets())
	var cores float64
	if s := r.s.Harness; s != nil {
		cores = float64(s.CPU.Cores)
	}
	found := false
	_, err := record.EachLine(r.dir, record.HarnessFile, func(line []byte) {
		var smp record.HarnessSample
		if json.Unmarshal(line, &smp) != nil || smp.T <= 0 || len(out) == 0 {
			return
		}
		// A sample covers the interval before it.
		b := min(int(math.Ceil(smp.T)-1)/r.axis.k, len(out)-1)
		b = max(b, 0)
		if math.IsNaN(out[b]) || smp.CPUCores > out[b] {
			out[b] = smp.CPUCores
		}
		found = true
	})
	if err != nil || !found || cores == 0 {
		return nil, 0
	}
	return out, cores
}
