package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/claims"
	"github.com/mcpload/mcpload/report/junit"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
)

// Write renders the run in dir: summary.json, timeseries.json, the .hgrm
// files, junit.xml and report.md. The thresholds of the resolved
// scenario.yaml are evaluated afresh, so that re-rendering a folder
// re-judges it. It returns the summary it wrote.
func Write(dir string) (*summary.Summary, error) {
	s, hs, err := summary.Summarize(dir)
	if err != nil {
		return nil, err
	}
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, err
	}
	if sc != nil {
		exprs := make([]string, len(sc.Thresholds))
		for i, t := range sc.Thresholds {
			exprs[i] = t.Expr
		}
		s.Thresholds = thresholds.Evaluate(s, exprs)
		// Claims never gate the exit code; they are judged after the
		// thresholds, on the run's seed, so that a re-render agrees.
		s.Claims = claims.Evaluate(s, hs, sc)
	}
	if err := writeFile(dir, junit.File, func(w io.Writer) error { return junit.Write(w, s) }); err != nil {
		return nil, err
	}
	if err := writeFile(dir, markdown.File, func(w io.Writer) error { return markdown.Write(w, s) }); err != nil {
		return nil, err
	}
	if err := hs.WriteHgrm(dir); err != nil {
		return nil, err
	}
	if ts := s.Series(); ts != nil {
		if err := summary.WriteTimeseries(dir, ts); err != nil {
			return nil, err
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode summary: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, record.SummaryFile), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write summary: %w", err)
	}
	return s, nil
}

// writeFile renders a file of the run folder in memory, then writes it, so
// that a rendering error leaves no half-written file.
func writeFile(dir, name string, render func(io.Writer) error) error {
	var b bytes.Buffer
	if err := render(&b); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
