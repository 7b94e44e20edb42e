// Package htmlreport writes report.html: one self-contained page per run
// folder, with the verdict first, then thresholds and claims, the plots
// and the tables, readable with no network.
//
// Self-contained means the page loads nothing: the style sheet is inline,
// the plots are PNG data: URLs, there is no script, and the only links
// are relative ones to other files of the results folder (the plots' SVG
// versions, each policy's own page). The template is html/template, so
// every text from the run (scenario names, error messages, the scenario
// itself) is escaped.
package htmlreport

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"

	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
)

// File is the page's name inside a run folder.
const File = "report.html"

//go:embed page.html.tmpl style.css
var assets embed.FS

// pageTemplate is parsed once; a parsed template is safe for concurrent
// use and never changes.
var pageTemplate = template.Must(template.ParseFS(assets, "page.html.tmpl"))

// style is the page's inline style sheet.
var style = func() template.CSS {
	b, err := assets.ReadFile("style.css")
	if err != nil {
		panic(err)
	}
	return template.CSS(b)
}()

// Write writes dir/report.html for the run summarized by s, embedding
// plots. It reads attempts.jsonl once more, for the errors and the
// attempts by key, and scenario.yaml.
func Write(dir string, s *summary.Summary, plots []plot.File) error {
	p, err := runPage(dir, s, plots)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return writePage(dir, p)
}

// WriteComparison writes dir/report.html for a policy comparison folder:
// each policy's verdict, read from its folder's summary.json, the
// comparison table and plots, and links to each policy's own page.
func WriteComparison(dir string, cmp *compare.Comparison, plots []plot.File) error {
	return writePage(dir, comparisonPage(dir, cmp, plots))
}

// writePage renders p and replaces dir/report.html with it, through a
// temporary file, so that a reader never sees half a page.
func writePage(dir string, p *page) error {
	p.CSS = style
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		return fmt.Errorf("html report: render: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".report-*.html")
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("html report: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("html report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, File)); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}
