package plot

import (
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// maxPoints bounds the points of a time series: a longer run is summed
// into buckets of several seconds, so that a one-hour soak draws as fast
// as a ten-minute run, and no line is denser than the pixels that show it.
const maxPoints = 600

// timeAxis is how a run's seconds map to points: n one-second intervals,
// drawn in buckets of k seconds, each at its midpoint.
type timeAxis struct {
	n, k int
}

func newTimeAxis(n int) timeAxis {
	k := max(1, int(math.Ceil(float64(n)/maxPoints)))
	return timeAxis{n: n, k: k}
}

// buckets is the number of points.
func (t timeAxis) buckets() int { return (t.n + t.k - 1) / t.k }

// x is the midpoint of bucket b, in seconds from the start.
func (t timeAxis) x(b int) float64 {
	from := float64(b * t.k)
	to := math.Min(float64((b+1)*t.k), float64(t.n))
	return (from + to) / 2
}

// span is the number of seconds of bucket b: k, but less for the last.
func (t timeAxis) span(b int) int { return min((b+1)*t.k, t.n) - b*t.k }

// rate turns per-second counts into a per-second rate per bucket.
func (t timeAxis) rate(v []uint64) []float64 {
	out := make([]float64, t.buckets())
	for b := range out {
		var sum uint64
		for i := b * t.k; i < min((b+1)*t.k, len(v)); i++ {
			sum += v[i]
		}
		out[b] = float64(sum) / float64(t.span(b))
	}
	return out
}

// mean averages per-second values per bucket.
func (t timeAxis) mean(v []float64) []float64 {
	out := make([]float64, t.buckets())
	for b := range out {
		var sum float64
		for i := b * t.k; i < min((b+1)*t.k, len(v)); i++ {
			sum += v[i]
		}
		out[b] = sum / float64(t.span(b))
	}
	return out
}

// peak takes the largest per-second value per bucket.
func (t timeAxis) peak(v []uint64) []float64 {
	out := make([]float64, t.buckets())
	for b := range out {
		var m uint64
		for i := b * t.k; i < min((b+1)*t.k, len(v)); i++ {
			m = max(m, v[i])
		}
		out[b] = float64(m)
	}
	return out
}

// ratio divides per bucket, NaN where the denominator is 0.
func (t timeAxis) ratio(num, den []uint64) []float64 {
	n, d := t.rate(num), t.rate(den)
	out := make([]float64, len(n))
	for b := range out {
		if d[b] == 0 {
			out[b] = math.NaN()
			continue
		}
		out[b] = n[b] / d[b]
	}
	return out
}

// xs is every bucket's midpoint.
func (t timeAxis) xs() []float64 {
	out := make([]float64, t.buckets())
	for b := range out {
		out[b] = t.x(b)
	}
	return out
}

// steps turns per-bucket values into a step line: each bucket's value
// held flat from its start to its end, as a count per second is.
func (t timeAxis) steps(v []float64) (xs, ys []float64) {
	xs, ys = make([]float64, 0, 2*len(v)), make([]float64, 0, 2*len(v))
	for b, y := range v {
		from := float64(b * t.k)
		to := math.Min(float64((b+1)*t.k), float64(t.n))
		xs, ys = append(xs, from, to), append(ys, y, y)
	}
	return xs, ys
}

// setX gives p's x axis the run's length, in seconds.
func (t timeAxis) setX(p *gplot.Plot) {
	p.X.Min, p.X.Max = 0, math.Max(float64(t.n), 1)
}

// addLine draws ys over xs as a line, broken where y is NaN, and returns a
// thumbnail for the legend.
func addLine(p *gplot.Plot, xs, ys []float64, style draw.LineStyle) gplot.Thumbnailer {
	for _, seg := range segments(xs, ys) {
		l, err := plotter.NewLine(seg)
		if err != nil {
			continue
		}
		l.LineStyle = style
		if len(seg) == 1 {
			// A lone point has no line to draw: mark it.
			s, err := plotter.NewScatter(seg)
			if err == nil {
				s.GlyphStyle = draw.GlyphStyle{Color: style.Color, Radius: style.Width * 1.2, Shape: draw.CircleGlyph{}}
				p.Add(s)
			}
			continue
		}
		p.Add(l)
	}
	return stroke{style: style}
}

// segments splits xs, ys at NaN and infinite ys.
func segments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range min(len(xs), len(ys)) {
		if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: xs[i], Y: ys[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// addArea fills between lo and hi over xs (both the same length as xs),
// and returns a thumbnail for the legend.
func addArea(p *gplot.Plot, xs, lo, hi []float64, fill color.Color) gplot.Thumbnailer {
	if len(xs) == 0 {
		return swatch{fill: fill}
	}
	pts := make(plotter.XYs, 0, 2*len(xs))
	for i := range xs {
		pts = append(pts, plotter.XY{X: xs[i], Y: hi[i]})
	}
	for i := len(xs) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: xs[i], Y: lo[i]})
	}
	poly, err := plotter.NewPolygon(pts)
	if err != nil {
		return swatch{fill: fill}
	}
	poly.Color = fill
	poly.LineStyle.Width = 0
	p.Add(poly)
	return swatch{fill: fill}
}

// newGrid is a light grid at the major ticks.
func newGrid() *plotter.Grid {
	g := plotter.NewGrid()
	g.Vertical = lineStyle(colGrid, 0.6)
	g.Horizontal = lineStyle(colGrid, 0.6)
	return g
}

// total sums v.
func total(v []uint64) uint64 {
	var s uint64
	for _, x := range v {
		s += x
	}
	return s
}
