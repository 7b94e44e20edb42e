package plot

import (
	"sort"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mcpload/mcpload/report/summary"
)

// faultSpan is a stretch of the run that fault windows cover. Windows
// that overlap (a 503 and a reset of the same outage) make one span, so
// that they shade once.
type faultSpan struct {
	from, to float64
	names    []string
}

// faultSpans merges the fault windows of a timeseries.
func faultSpans(faults []summary.SeriesFault) []faultSpan {
	fs := make([]summary.SeriesFault, 0, len(faults))
	for _, f := range faults {
		if f.EndS > f.FromS {
			fs = append(fs, f)
		}
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].FromS < fs[j].FromS })
	var out []faultSpan
	for _, f := range fs {
		if n := len(out); n > 0 && f.FromS <= out[n-1].to {
			out[n-1].to = max(out[n-1].to, f.EndS)
			out[n-1].names = append(out[n-1].names, f.Name)
			continue
		}
		out = append(out, faultSpan{from: f.FromS, to: f.EndS, names: []string{f.Name}})
	}
	return out
}

// faultShade shades fault spans across the whole height of a plot.
type faultShade struct{ spans []faultSpan }

// Plot implements gonum's Plotter.
func (s faultShade) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, sp := range s.spans {
		from, to := max(sp.from, p.X.Min), min(sp.to, p.X.Max)
		if to <= from {
			continue
		}
		x0, x1 := trX(from), trX(to)
		c.FillPolygon(colFault, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		edge := lineStyle(colFaultEdge, 0.6)
		c.StrokeLine2(edge, x0, c.Min.Y, x0, c.Max.Y)
		c.StrokeLine2(edge, x1, c.Min.Y, x1, c.Max.Y)
	}
}

// addFaults shades spans on every panel. The shade is translucent: add
// it after filled areas, so that it shows over them, and before lines,
// so that they are drawn over it.
func addFaults(spans []faultSpan, panels ...*gplot.Plot) {
	if len(spans) == 0 {
		return
	}
	for _, p := range panels {
		p.Add(faultShade{spans: spans})
	}
}

// legendFaults adds the fault windows' legend entry, if there are any.
func legendFaults(g *legend, spans []faultSpan) {
	if len(spans) > 0 {
		g.add(faultLabel(spans), swatch{fill: colFault, edge: colFaultEdge})
	}
}

// faultLabel names the fault windows in the legend.
func faultLabel(spans []faultSpan) string {
	var names []string
	seen := map[string]bool{}
	for _, s := range spans {
		for _, n := range s.names {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	if len(names) == 1 {
		return "fault: " + names[0]
	}
	label := "faults: " + strings.Join(names, ", ")
	if len([]rune(label)) > maxLegendChars {
		label = "fault windows (" + itoa(len(names)) + ")"
	}
	return label
}
