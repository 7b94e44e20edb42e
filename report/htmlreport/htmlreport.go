// Package htmlreport writes report.html: one self-contained page per run
// folder, with the verdict first, then thresholds and claims, the plots
// and the tables, readable with no network.
package htmlreport

import (
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/plot"
)

// File is the page's name inside a run folder.
const File = "report.html"

// Write writes dir/report.html for the run summarized by s, embedding
// plots.
func Write(dir string, s *report.Summary, plots []plot.File) error {
	return nil
}

// WriteComparison writes dir/report.html for a policy comparison folder.
func WriteComparison(dir string, cmp *report.Comparison, plots []plot.File) error {
	return nil
}
