package htmlreport

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"path/filepath"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/plot"
)

// pngMagic starts every PNG file.
var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// maxPlotBytes bounds one embedded plot: gonum's PNGs are 50-200 KB, and a
// page several times that would be a sign of a wrong file.
const maxPlotBytes = 8 << 20

// plotView is one plot as the page shows it.
type plotView struct {
	Title, Caption string
	// Src is the img element's src attribute, the PNG as a data: URL;
	// empty when it could not be read.
	Src template.HTMLAttr
	// SVG is the relative path of the vector version, for zooming.
	SVG string
	// Err says why the plot is missing.
	Err string
}

// embedPlots reads each plot's PNG under dir and makes it a data: URL, so
// that the page needs no other file. A plot that cannot be read shows as
// a note in its place: one missing image should not cost the whole page.
func embedPlots(dir string, plots []plot.File) []plotView {
	out := make([]plotView, 0, len(plots))
	for _, p := range plots {
		v := plotView{Title: p.Title, Caption: p.Caption}
		if p.SVG != "" && filepath.IsLocal(filepath.FromSlash(p.SVG)) {
			v.SVG = filepath.ToSlash(p.SVG)
		}
		src, err := pngDataURL(dir, p.PNG)
		if err != nil {
			v.Err = err.Error()
		}
		v.Src = src
		out = append(out, v)
	}
	return out
}

// pngDataURL reads the PNG at the relative path rel under dir and returns
// the src attribute that shows it.
func pngDataURL(dir, rel string) (template.HTMLAttr, error) {
	name := filepath.FromSlash(rel)
	// The paths come from the plot package, relative to the folder; a
	// path that leaves it is a bug, not a file to embed.
	if !filepath.IsLocal(name) {
		return "", fmt.Errorf("plot %q: not a path inside the run folder", rel)
	}
	f, err := record.OpenRegular(filepath.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("plot: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, maxPlotBytes+1)); err != nil {
		return "", fmt.Errorf("plot %s: %w", rel, err)
	}
	switch {
	case b.Len() > maxPlotBytes:
		return "", fmt.Errorf("plot %s: larger than %d MiB", rel, maxPlotBytes>>20)
	case !bytes.HasPrefix(b.Bytes(), pngMagic):
		return "", fmt.Errorf("plot %s: not a PNG file", rel)
	}
	// The attribute is built here from bytes checked to be a PNG, in
	// base64, which has no quote, < or &: it is safe to mark as trusted.
	// html/template would refuse a data: URL, and as a template.URL it
	// would write each + of the base64 as &#43;, a fifth more bytes.
	return template.HTMLAttr(`src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(b.Bytes()) + `"`), nil
}
