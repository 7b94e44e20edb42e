package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/junit"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// TestEveryEmbeddedScenarioWritesItsReports runs each embedded scenario,
// shortened, as a user runs it, and checks that its folder holds every
// report: summary.json, report.md, junit.xml, report.html and the plots,
// and for a policy comparison the comparison's own files beside the
// policies' folders.
func TestEveryEmbeddedScenarioWritesItsReports(t *testing.T) {
	for _, name := range scenarios.Embedded() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenarios.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), name)
			args := []string{"run", name, "--duration", "3s", "--out", dir, "--progress", "off"}
			if len(sc.Policies) > 0 {
				// Two policies make a comparison; all of them would only
				// take longer.
				args = append(args, "--policy", sc.Policies[0].Name+","+sc.Policies[len(sc.Policies)-1].Name)
			}
			code, _, stderr := mcploadProcessEnv(t, []string{plotsEnv + "=1"}, args...)
			if code != exitPass && code != exitThresholds {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if len(sc.Policies) == 0 {
				checkRunReports(t, dir)
				return
			}
			for _, p := range []string{sc.Policies[0].Name, sc.Policies[len(sc.Policies)-1].Name} {
				checkRunReports(t, filepath.Join(dir, p))
			}
			for _, f := range []string{"comparison.json", "comparison.md"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("comparison folder: %v", err)
				}
			}
			checkHTML(t, dir)
			checkPlots(t, dir, 1)
		})
	}
}

// checkRunReports checks one run folder's reports.
func checkRunReports(t *testing.T, dir string) {
	t.Helper()
	s := readSummary(t, dir)
	if s.Status != record.StatusComplete || s.Conversations.Started == 0 {
		t.Errorf("%s: status %q, %d started", dir, s.Status, s.Conversations.Started)
	}
	for _, f := range []string{markdown.File, junit.File, summary.TimeseriesFile} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %s missing or empty: %v", dir, f, err)
		}
	}
	checkHTML(t, dir)
	// Latency over time, the HDR distribution, throughput and in-flight
	// exist for every run.
	checkPlots(t, dir, 4)
}

// checkHTML checks that report.html is a whole page that loads nothing
// from the network.
func checkHTML(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, htmlreport.File))
	if err != nil {
		t.Errorf("%s: %v", dir, err)
		return
	}
	page := string(b)
	if !strings.Contains(page, "<html") || !strings.Contains(page, "</html>") {
		t.Errorf("%s: report.html is not a whole page", dir)
	}
	for _, ref := range []string{`src="http`, `href="http`, `url(http`, `@import`} {
		if strings.Contains(page, ref) {
			t.Errorf("%s: report.html refers to the network (%s)", dir, ref)
		}
	}
}

// checkPlots checks that dir/plots holds at least min plots, each as a
// PNG and an SVG.
func checkPlots(t *testing.T, dir string, min int) {
	t.Helper()
	pngs, _ := filepath.Glob(filepath.Join(dir, plot.Dir, "*.png"))
	if len(pngs) < min {
		t.Errorf("%s: %d plots, want at least %d", dir, len(pngs), min)
	}
	for _, p := range pngs {
		svg := strings.TrimSuffix(p, ".png") + ".svg"
		if fi, err := os.Stat(svg); err != nil || fi.Size() == 0 {
			t.Errorf("%s has no SVG twin: %v", p, err)
		}
	}
}
