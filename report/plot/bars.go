package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// hbars is a horizontal bar chart, one row per name, top to bottom, each
// bar stacked from parts and labelled at its end. Bar thickness is in
// data units, so it follows the panel's height.
type hbars struct {
	names []string
	// parts[i] are row i's stacked values; NaN rows draw no bar.
	parts [][]float64
	// color gives the colour of part k of row i.
	color func(i, k int) color.Color
	// labels are written past each bar's end.
	labels []string
}

const barThickness = 0.62

// y is the data y of row i: the first row on top.
func (b hbars) y(i int) float64 { return float64(len(b.names) - 1 - i) }

// total is row i's bar length.
func (b hbars) total(i int) float64 {
	var s float64
	for _, v := range b.parts[i] {
		if !math.IsNaN(v) {
			s += math.Max(v, 0)
		}
	}
	return s
}

// Plot implements gonum's Plotter.
func (b hbars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	label := textStyle(sans, tickSize)
	label.YAlign = draw.YCenter
	for i := range b.names {
		y0, y1 := trY(b.y(i)-barThickness/2), trY(b.y(i)+barThickness/2)
		var at float64
		for k, v := range b.parts[i] {
			if math.IsNaN(v) || v <= 0 {
				continue
			}
			x0, x1 := trX(at), trX(at+v)
			c.FillPolygon(b.color(i, k), []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			at += v
		}
		if i < len(b.labels) && b.labels[i] != "" {
			c.FillText(label, vg.Point{X: trX(at) + px(4), Y: trY(b.y(i))}, b.labels[i])
		}
	}
}

// DataRange implements gonum's DataRanger.
func (b hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	for i := range b.names {
		xmax = math.Max(xmax, b.total(i))
	}
	return 0, xmax, -0.5, float64(len(b.names)) - 0.5
}

// newBarPlot is a horizontal bar panel of b, with room on the right for
// the labels.
func newBarPlot(title, xLabel string, b hbars) *gplot.Plot {
	p := newPlot(title, xLabel, "")
	p.Add(b)
	rev := make([]string, len(b.names))
	for i, n := range b.names {
		rev[len(b.names)-1-i] = shorten(n, 24)
	}
	p.NominalY(rev...)
	_, xmax, _, _ := b.DataRange()
	// Leave room for the longest label past the longest bar.
	var lw vg.Length
	for _, l := range b.labels {
		lw = max(lw, textStyle(sans, tickSize).Width(l))
	}
	p.X.Min = 0
	if xmax <= 0 {
		// All zero: a unit axis reads "0, 0.2 ... 1", not "2e-10 ...".
		xmax = 1
	}
	p.X.Max = xmax * (1 + float64(lw+px(10))/float64(px(300)))
	p.Y.Min, p.Y.Max = -0.5, float64(len(b.names))-0.5
	p.Y.Padding = 0
	return p
}
