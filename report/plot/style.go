package plot

import (
	"image/color"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Sizes. Plots are drawn at 96 dots per inch, so that a figure of
// figWidth is 900 px wide, and the HTML report shows it at its own size.
const (
	dpi                 = 96
	figWidth  vg.Length = 900 * 72.0 / dpi // 900 px
	figHeight vg.Length = 450 * 72.0 / dpi // 450 px
)

// px converts pixels of the PNG to lengths.
func px(n float64) vg.Length { return vg.Length(n * 72 / dpi) }

// Text sizes, in points.
const (
	titleSize  = 13
	panelSize  = 10.5
	labelSize  = 10
	tickSize   = 9
	legendSize = 9
	noteSize   = 8.5
)

// Fonts: Liberation Sans is metrically compatible with Arial and
// Helvetica, so an SVG read without the font still lays out the same.
var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

// Palette: Okabe and Ito's colour-blind-safe colours, one meaning each.
var (
	colOK        = rgb(0x00, 0x9E, 0x73) // bluish green
	colFailed    = rgb(0xD5, 0x5E, 0x00) // vermillion
	colDropped   = rgb(0x88, 0x88, 0x88) // grey
	colTarget    = rgb(0x00, 0x00, 0x00)
	colBlue      = rgb(0x00, 0x72, 0xB2)
	colOrange    = rgb(0xE6, 0x9F, 0x00)
	colSky       = rgb(0x56, 0xB4, 0xE9)
	colPurple    = rgb(0xCC, 0x79, 0xA7)
	colOlive     = rgb(0x9A, 0x8B, 0x00) // Okabe-Ito's yellow, darkened to show on white
	colBrown     = rgb(0x8C, 0x56, 0x4B)
	colGrid      = rgb(0xE4, 0xE4, 0xE4)
	colFault     = color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0x26}
	colFaultEdge = color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0x80}
)

// series is the colour cycle of series that have no fixed meaning:
// policies, step keys.
var seriesColors = []color.Color{colBlue, colOrange, colOK, colPurple, colSky, colFailed, colOlive, colBrown, colTarget}

// providerColors tell providers apart in the figure that also shows
// outcome classes, whose colours they avoid.
var providerColors = []color.Color{colBlue, colSky, rgb(0x33, 0x22, 0x88), rgb(0x44, 0xAA, 0x99)}

func providerColor(i int) color.Color { return providerColors[i%len(providerColors)] }

// seriesColor is the i-th colour of the cycle.
func seriesColor(i int) color.Color { return seriesColors[i%len(seriesColors)] }

func rgb(r, g, b uint8) color.Color { return color.NRGBA{R: r, G: g, B: b, A: 0xFF} }

// lighter mixes c with white: f = 0 is c, f = 1 is white.
func lighter(c color.Color, f float64) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8(float64(v>>8) + (255-float64(v>>8))*f) }
	return color.NRGBA{R: mix(r), G: mix(g), B: mix(b), A: 0xFF}
}

// outcomeColor gives each outcome class the same colour in every plot.
func outcomeColor(outcome string) color.Color {
	switch outcome {
	case "ok":
		return colOK
	case "429":
		return colOrange
	case "timeout":
		return colFailed
	case "5xx":
		return colPurple
	case "connection":
		return colBrown
	case "tool_error":
		return colSky
	case "protocol":
		return colOlive
	case "4xx":
		return rgb(0x55, 0x55, 0x55)
	case "breaker_open":
		return colTarget
	case "dropped":
		return colDropped
	default:
		return rgb(0x55, 0x55, 0x55)
	}
}

// textStyle is a plain text style of the given size.
func textStyle(f font.Font, size float64) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(f, vg.Length(size)),
		Handler: gplot.DefaultTextHandler,
	}
}

// newPlot returns a plot styled like every other: sans-serif text, a light
// grid, the axis labels given. title is the panel title, often empty: the
// figure draws its own.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(sansBold, panelSize)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = vg.Points(4)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = textStyle(sans, labelSize)
		a.Label.TextStyle.XAlign = draw.XCenter
		a.Label.TextStyle.YAlign = draw.YBottom
		a.Tick.Label.Font = font.From(sans, tickSize)
		a.Tick.Length = vg.Points(4)
		a.Padding = vg.Points(2)
		a.LineStyle.Color = rgb(0x66, 0x66, 0x66)
		a.Tick.LineStyle.Color = rgb(0x66, 0x66, 0x66)
		a.Tick.Marker = linearTicks{}
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.Padding = vg.Points(2)
	p.Y.Label.Padding = vg.Points(4)
	p.Add(newGrid())
	return p
}

// lineStyle is a solid line of colour c.
func lineStyle(c color.Color, width float64) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(width)}
}

// dashed is a dashed line of colour c.
func dashed(c color.Color, width float64) draw.LineStyle {
	s := lineStyle(c, width)
	s.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	return s
}

// dotted is a dotted line of colour c.
func dotted(c color.Color, width float64) draw.LineStyle {
	s := lineStyle(c, width)
	s.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	return s
}

// dash is a line's pattern.
type dash int

const (
	solidLine dash = iota
	dashedLine
	dottedLine
)

// lineSpec describes a line: colour, width in points, pattern.
type lineSpec struct {
	color color.Color
	width float64
	dash  dash
}

func (l lineSpec) style() draw.LineStyle {
	switch l.dash {
	case dashedLine:
		return dashed(l.color, l.width)
	case dottedLine:
		return dotted(l.color, l.width)
	}
	return lineStyle(l.color, l.width)
}

// capitalize upper-cases the first letter of an ASCII word.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
