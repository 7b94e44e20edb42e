package plot

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figure is one plot file: a title over one or more panels stacked
// vertically, sharing a legend on the right.
type figure struct {
	name    string
	title   string
	caption string
	height  vg.Length
	panels  []*gplot.Plot
	// weights are the panels' relative heights; nil is all the same.
	weights []float64
	// cols lays the panels out in a grid of this many columns, row by
	// row, all of the same height; 0 or 1 stacks them.
	cols   int
	legend *legend
	// note is a line of small print under the title, such as which
	// series were left out.
	note string
}

// Figure margins.
var (
	figPad    = px(10)
	legendGap = px(14)
)

// draw lays the figure out on c: the title on top, the legend on the
// right, the panels in what is left, their data areas aligned.
func (f *figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())

	area := padded(c, figPad)
	title := textStyle(sansBold, titleSize)
	title.XAlign, title.YAlign = draw.XCenter, draw.YTop
	c.FillText(title, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, f.title)
	area.Max.Y -= title.Height(f.title) + px(6)
	if f.note != "" {
		note := textStyle(sans, noteSize)
		note.Color = rgb(0x55, 0x55, 0x55)
		note.XAlign, note.YAlign = draw.XCenter, draw.YTop
		c.FillText(note, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, f.note)
		area.Max.Y -= note.Height(f.note) + px(4)
	}

	var legArea draw.Canvas
	hasLegend := f.legend != nil && f.legend.len() > 0
	if hasLegend {
		legArea = area
		legArea.Min.X = area.Max.X - f.legend.width()
		area.Max.X = legArea.Min.X - legendGap
	}
	canvases := f.layout(area)
	for i, p := range f.panels {
		p.Draw(canvases[i])
	}
	if hasLegend {
		// Level with the top of the first panel's data area.
		legArea.Max.Y = f.panels[0].DataCanvas(canvases[0]).Max.Y
		f.legend.draw(legArea)
	}
}

// layout returns one canvas per panel.
func (f *figure) layout(area draw.Canvas) []draw.Canvas {
	if f.cols <= 1 {
		return stack(area, f.panels, f.weights)
	}
	// A grid: each column a stack of equal panels.
	gap := px(24)
	colW := (area.Max.X - area.Min.X - gap*vg.Length(f.cols-1)) / vg.Length(f.cols)
	rows := (len(f.panels) + f.cols - 1) / f.cols
	out := make([]draw.Canvas, len(f.panels))
	for c := range f.cols {
		col := area
		col.Min.X = area.Min.X + vg.Length(c)*(colW+gap)
		col.Max.X = col.Min.X + colW
		var panels []*gplot.Plot
		for i := c; i < len(f.panels); i += f.cols {
			panels = append(panels, f.panels[i])
		}
		// Pad the column to whole rows, so rows line up.
		for len(panels) < rows {
			panels = append(panels, nil)
		}
		for r, cv := range stack(col, panels, nil) {
			if i := r*f.cols + c; i < len(f.panels) {
				out[i] = cv
			}
		}
	}
	return out
}

// stack returns one canvas per panel, stacked by weight, with their data
// areas aligned left and right, as gonum's Align does for equal tiles. A
// nil panel keeps its place empty.
func stack(area draw.Canvas, panels []*gplot.Plot, weights []float64) []draw.Canvas {
	n := len(panels)
	gap := px(8)
	if len(weights) != n {
		weights = make([]float64, n)
		for i := range weights {
			weights[i] = 1
		}
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	avail := area.Max.Y - area.Min.Y - gap*vg.Length(n-1)
	out := make([]draw.Canvas, n)
	y := area.Max.Y
	for i := range out {
		h := avail * vg.Length(weights[i]/sum)
		c := area
		c.Max.Y, c.Min.Y = y, y-h
		out[i] = c
		y -= h + gap
	}
	// Align the data areas: widen every panel's margins to the widest.
	var left, right vg.Length
	lefts, rights := make([]vg.Length, n), make([]vg.Length, n)
	for i, p := range panels {
		if p == nil {
			continue
		}
		dc := p.DataCanvas(out[i])
		lefts[i], rights[i] = dc.Min.X-out[i].Min.X, out[i].Max.X-dc.Max.X
		left, right = max(left, lefts[i]), max(right, rights[i])
	}
	for i := range out {
		out[i].Min.X += left - lefts[i]
		out[i].Max.X -= right - rights[i]
	}
	return out
}

// padded shrinks c by d on every side.
func padded(c draw.Canvas, d vg.Length) draw.Canvas {
	c.Min.X += d
	c.Min.Y += d
	c.Max.X -= d
	c.Max.Y -= d
	return c
}

// save writes the figure as dir/plots/NAME.png and .svg and returns its
// File.
func (f *figure) save(dir string) (File, error) {
	file := File{
		Name:    f.name,
		Title:   f.title,
		Caption: f.caption,
		PNG:     filepath.ToSlash(filepath.Join(Dir, f.name+".png")),
		SVG:     filepath.ToSlash(filepath.Join(Dir, f.name+".svg")),
	}
	h := f.height
	if h == 0 {
		h = figHeight
	}

	img := vgimg.NewWith(vgimg.UseWH(figWidth, h), vgimg.UseDPI(dpi))
	f.draw(draw.New(img))
	if err := writeFile(filepath.Join(dir, file.PNG), pngImage{img.Image()}); err != nil {
		return File{}, fmt.Errorf("plot %s: %w", f.name, err)
	}

	svg := vgsvg.New(figWidth, h)
	f.draw(draw.New(svg))
	if err := writeFile(filepath.Join(dir, file.SVG), svg); err != nil {
		return File{}, fmt.Errorf("plot %s: %w", f.name, err)
	}
	return file, nil
}

// pngImage writes an image as PNG with fast compression: twice as fast
// as the default for a few percent more bytes, on images that are mostly
// flat colour.
type pngImage struct{ img image.Image }

func (p pngImage) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err := enc.Encode(cw, p.img)
	return cw.n, err
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// writeFile writes what w writes to path.
func writeFile(path string, w io.WriterTo) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	if _, err := w.WriteTo(bw); err != nil {
		out.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
