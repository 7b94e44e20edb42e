package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/record"
	comparereport "github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

func newReportCmd(stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:               "report DIR",
		Short:             "Re-render a run folder (summary, plots, report.html/.md, junit.xml); exit 3 when a threshold failed",
		Args:              args(1, 1, "exactly one run folder"),
		ValidArgsFunction: completeDirs,
		RunE: func(_ *cobra.Command, a []string) error {
			if err := comparereport.RunFolder(a[0]); err != nil {
				return invalid(err)
			}
			if h, ok := record.Writing(a[0]); ok {
				fmt.Fprintf(stderr, "mcpload: %s is still being written (%s): this report is of the run so far\n", a[0], h)
			}
			return reportDir(a[0], stdout)
		},
	}
}

// reportDir re-renders the run or policy-comparison folder dir and gates
// on its thresholds, as run does.
func reportDir(dir string, stdout io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, record.RunFile)); errors.Is(err, os.ErrNotExist) {
		if runs, err := policyRuns(dir); err == nil {
			// Each policy's folder is re-rendered whole, as a run's is.
			for _, r := range runs {
				if _, err := render(r.Dir); err != nil {
					return fmt.Errorf("policy %s: %w", r.Name, err)
				}
			}
			return reportComparison(dir, runs, stdout)
		}
	}
	s, err := render(dir)
	if err != nil {
		// A scenario.yaml that does not validate is invalid input, as it
		// is for run.
		if _, bad := errors.AsType[scenarios.Errors](err); bad {
			return invalid(err)
		}
		return err
	}
	if err := text.Print(stdout, s); err != nil {
		return err
	}
	printPaths(stdout, dir)
	return reportVerdict(s, dir)
}

// reportVerdict gates a re-rendered run as run gates it: a failed
// threshold, or a stop by one, exits 3. A run still being written, or
// interrupted, is rendered but not judged: its figures cover part of it.
func reportVerdict(s *summary.Summary, dir string) error {
	switch s.Status {
	case record.StatusComplete:
		return thresholdsVerdict(s, dir)
	case record.StatusAborted:
		if strings.HasPrefix(s.StopReason, thresholds.StopThreshold) {
			return &exitError{exitThresholds, fmt.Errorf("aborted: %s; in %s", s.StopReason, dir)}
		}
	}
	return nil
}

// policyRuns reads which policies a comparison folder holds, in the order
// its comparison.json lists them.
func policyRuns(dir string) ([]comparereport.PolicyRun, error) {
	b, err := record.ReadRegular(filepath.Join(dir, "comparison.json"), record.MaxDocumentBytes)
	if err != nil {
		return nil, err
	}
	var prev comparereport.Comparison
	if err := json.Unmarshal(b, &prev); err != nil {
		return nil, fmt.Errorf("comparison.json: %w", err)
	}
	runs := make([]comparereport.PolicyRun, 0, len(prev.Policies))
	for _, p := range prev.Policies {
		runs = append(runs, comparereport.PolicyRun{Name: p.Name, Description: p.Description, Dir: filepath.Join(dir, p.Name), Expect: p.Expect})
	}
	return runs, nil
}

func reportComparison(dir string, runs []comparereport.PolicyRun, stdout io.Writer) error {
	cmp, err := comparereport.Policies(runs)
	if err != nil {
		return err
	}
	if err := renderComparison(dir, cmp); err != nil {
		return err
	}
	if err := cmp.WriteText(stdout); err != nil {
		return err
	}
	printPaths(stdout, dir)
	return nil
}
