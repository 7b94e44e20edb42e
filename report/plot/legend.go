package plot

import (
	"image/color"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxLegendChars bounds a legend entry, so that a long step key cannot
// squeeze the plot.
const maxLegendChars = 36

// legend is a figure's legend, drawn in a column right of the panels
// rather than over the data.
type legend struct {
	l     gplot.Legend
	names []string
}

func newLegend() *legend {
	l := gplot.NewLegend()
	l.TextStyle = textStyle(sans, legendSize)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = px(22)
	l.Padding = px(3)
	return &legend{l: l}
}

// add adds an entry; the thumbnails draw its icon.
func (g *legend) add(name string, thumbs ...gplot.Thumbnailer) {
	name = shorten(name, maxLegendChars)
	g.names = append(g.names, name)
	g.l.Add(name, thumbs...)
}

func (g *legend) len() int { return len(g.names) }

// width is the width the legend needs.
func (g *legend) width() vg.Length {
	var w vg.Length
	for _, n := range g.names {
		w = max(w, g.l.TextStyle.Width(n))
	}
	return g.l.ThumbnailWidth + g.l.TextStyle.Width(" ") + w
}

func (g *legend) draw(c draw.Canvas) { g.l.Draw(c) }

// shorten cuts s to n characters, with an ellipsis.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// swatch is a filled-square thumbnail, for areas and bars.
type swatch struct {
	fill, edge color.Color
}

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	r.Min.Y += px(1)
	r.Max.Y -= px(1)
	c.FillPolygon(s.fill, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
	if s.edge != nil {
		c.StrokeLines(lineStyle(s.edge, 0.8), []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
	}
}

// stroke is a line thumbnail.
type stroke struct{ style draw.LineStyle }

func (s stroke) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(s.style, c.Min.X, y, c.Max.X, y)
}
