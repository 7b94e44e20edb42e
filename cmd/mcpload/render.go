package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/mcpload/mcpload/report"
	comparereport "github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
)

// render writes everything a run folder shows: summary.json and the other
// files of report.Write, the plots, and report.html.
func render(dir string) (*summary.Summary, error) {
	s, err := report.Write(dir)
	if err != nil {
		return nil, err
	}
	plots, err := plot.Run(dir, s)
	if err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	if err := htmlreport.Write(dir, s, plots); err != nil {
		return nil, fmt.Errorf("report.html: %w", err)
	}
	return s, nil
}

// renderComparison writes a policy comparison folder's own files:
// comparison.json and .md, its plots, and its report.html.
func renderComparison(dir string, cmp *comparereport.Comparison) error {
	if err := writeComparison(dir, cmp); err != nil {
		return err
	}
	plots, err := plot.Comparison(dir, cmp)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if err := htmlreport.WriteComparison(dir, cmp, plots); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	return nil
}

// printPaths ends a summary with where to look next: the folder, and the
// page a person opens.
func printPaths(w io.Writer, dir string) {
	fmt.Fprintf(w, "\nResults       %s\n", dir)
	fmt.Fprintf(w, "Report        %s\n", filepath.Join(dir, htmlreport.File))
}
