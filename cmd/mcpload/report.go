package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/scenarios"
)

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report DIR", stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return invalid(errors.New("report takes exactly one run folder"))
	}
	dir := pos[0]
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
	if err := report.PrintText(stdout, s); err != nil {
		return err
	}
	printPaths(stdout, dir)
	return nil
}

// policyRuns reads which policies a comparison folder holds, in the order
// its comparison.json lists them.
func policyRuns(dir string) ([]report.PolicyRun, error) {
	b, err := record.ReadRegular(filepath.Join(dir, "comparison.json"), record.MaxDocumentBytes)
	if err != nil {
		return nil, err
	}
	var prev report.Comparison
	if err := json.Unmarshal(b, &prev); err != nil {
		return nil, fmt.Errorf("comparison.json: %w", err)
	}
	runs := make([]report.PolicyRun, 0, len(prev.Policies))
	for _, p := range prev.Policies {
		runs = append(runs, report.PolicyRun{Name: p.Name, Description: p.Description, Dir: filepath.Join(dir, p.Name), Expect: p.Expect})
	}
	return runs, nil
}

func reportComparison(dir string, runs []report.PolicyRun, stdout io.Writer) error {
	cmp, err := report.ComparePolicies(runs)
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
