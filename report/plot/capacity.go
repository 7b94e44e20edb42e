package plot

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mcpload/mcpload/record"
)

// SLOLine is a latency limit of a capacity search's SLO, drawn across the
// latency-versus-rate plot.
type SLOLine struct {
	Label string
	MS    float64
}

// Capacity draws a capacity search: each probe's p50 and p99 conversation
// latency against its rate, passing probes filled and failing ones hollow,
// the SLO's latency limits across, and the capacity found (the knee) as a
// vertical line. It writes dir/plots/capacity.png and .svg.
func Capacity(dir string, c *record.Capacity, slo []SLOLine) (File, error) {
	if len(c.Probes) == 0 {
		return File{}, nil
	}
	p := newPlot("", "arrival rate (conversations/s)", "conversation latency (ms)")
	g := newLegend()
	var ymax, xmax float64
	for _, pr := range c.Probes {
		ymax = math.Max(ymax, pr.P99MS)
		xmax = math.Max(xmax, pr.Rate)
	}
	series := []struct {
		name string
		v    func(record.CapacityProbe) float64
		col  int
	}{
		{"p99", func(pr record.CapacityProbe) float64 { return pr.P99MS }, 0},
		{"p50", func(pr record.CapacityProbe) float64 { return pr.P50MS }, 1},
	}
	for _, s := range series {
		col := seriesColor(s.col)
		for _, pass := range []bool{true, false} {
			var xy plotter.XYs
			for _, pr := range c.Probes {
				if pr.Pass == pass && !math.IsNaN(s.v(pr)) {
					xy = append(xy, plotter.XY{X: pr.Rate, Y: s.v(pr)})
				}
			}
			if len(xy) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return File{}, fmt.Errorf("plot capacity: %w", err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: px(4), Shape: draw.CircleGlyph{}}
			name := s.name + " (pass)"
			if !pass {
				sc.GlyphStyle.Shape = draw.RingGlyph{}
				name = s.name + " (fail)"
			}
			p.Add(sc)
			g.add(name, sc)
		}
	}
	for i, l := range slo {
		ymax = math.Max(ymax, l.MS)
		g.add("SLO "+l.Label, addLine(p, []float64{0, xmax * 1.05}, []float64{l.MS, l.MS}, dashed(lighter(colFailed, float64(i)*0.3), 1.2)))
	}
	ymax = math.Max(ymax*1.08, 1)
	if c.Rate > 0 {
		g.add(fmt.Sprintf("capacity %.4g/s", c.Rate), addLine(p, []float64{c.Rate, c.Rate}, []float64{0, ymax}, lineStyle(colOK, 1.6)))
	}
	p.X.Min, p.X.Max = 0, math.Max(xmax*1.05, 1)
	p.Y.Min, p.Y.Max = 0, ymax
	f := &figure{
		name:  "capacity",
		title: "Latency versus arrival rate",
		caption: "Each probe's conversation latency after its warm-up, p50 and p99, filled when the probe met the SLO and hollow when it did not; " +
			"dashed: the SLO's latency limits; the vertical line is the capacity found, the knee where latency leaves the SLO.",
		panels: []*gplot.Plot{p},
		legend: g,
	}
	if err := os.MkdirAll(filepath.Join(dir, Dir), 0o755); err != nil {
		return File{}, fmt.Errorf("plot capacity: %w", err)
	}
	return f.save(dir)
}
