// Package plot draws a run folder's plots with gonum/plot, as PNG and SVG
// files in the folder's plots/ directory.
package plot

import "github.com/mcpload/mcpload/report"

// Dir is the folder, inside a run folder, that holds the plots.
const Dir = "plots"

// File is one plot, drawn twice.
type File struct {
	// Name is the file name without extension, as in "latency".
	Name string `json:"name"`
	// Title is what the plot shows; Caption says how to read it.
	Title   string `json:"title"`
	Caption string `json:"caption,omitempty"`
	// PNG and SVG are paths relative to the run folder.
	PNG string `json:"png"`
	SVG string `json:"svg"`
}

// Run draws the plots of the run folder dir, whose summary is s.
func Run(dir string, s *report.Summary) ([]File, error) {
	// Drawn by the plots work.
	return nil, nil
}

// Comparison draws the policies of a comparison folder side by side.
func Comparison(dir string, cmp *report.Comparison) ([]File, error) {
	return nil, nil
}
