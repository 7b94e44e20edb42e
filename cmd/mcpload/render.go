package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpload/mcpload/report"
	comparereport "github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
)

// plotsEnv, set to 0, leaves the plots out of the folders mcpload renders
// (report.html then has no plot section): for CI jobs that read only
// summary.json and the gates, where drawing is most of a short run's CPU.
const plotsEnv = "MCPLOAD_PLOTS"

// plotsOff reports whether plotsEnv turns the plots off.
func plotsOff() bool { return os.Getenv(plotsEnv) == "0" }

// render writes everything a run folder shows: summary.json and the other
// files of report.Write, the plots, and report.html.
func render(dir string) (*summary.Summary, error) {
	s, err := report.Write(dir)
	if err != nil {
		return nil, err
	}
	var plots []plot.File
	if !plotsOff() {
		if plots, err = plot.Run(dir, s); err != nil {
			return nil, fmt.Errorf("plots: %w", err)
		}
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
	var plots []plot.File
	if !plotsOff() {
		var err error
		if plots, err = plot.Comparison(dir, cmp); err != nil {
			return fmt.Errorf("plots: %w", err)
		}
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
