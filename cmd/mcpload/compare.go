package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/record"
	comparereport "github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/summary"
)

type compareFlags struct {
	tolerance, rateTolerance, format string
}

func newCompareCmd(stdout, _ io.Writer) *cobra.Command {
	var f compareFlags
	c := &cobra.Command{
		Use:               "compare BASE NEW",
		Short:             "Compare two runs; exit 3 on a regression beyond noise, or when NEW failed a threshold",
		Example:           `  mcpload compare results/main results/pr --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args:              args(2, 2, "two run folders, BASE and NEW"),
		ValidArgsFunction: completeDirs,
		RunE: func(_ *cobra.Command, a []string) error {
			return compare(a, f, stdout)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.tolerance, "tolerance", "10%", "how much a latency percentile or the cost per successful conversation may rise before it counts as a regression")
	fs.StringVar(&f.rateTolerance, "rate-tolerance", "0.5", "how many percentage points the success rate may fall before it counts as a regression")
	fs.StringVar(&f.format, "format", "text", "output: text, markdown (for a pull-request comment) or json")
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "markdown", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

func compare(pos []string, f compareFlags, stdout io.Writer) error {
	tolerance, rateTolerance, format := &f.tolerance, &f.rateTolerance, &f.format
	var err error
	o := comparereport.DefaultRegressionOptions
	if o.Tolerance, err = parseTolerance(*tolerance); err != nil {
		return invalid(fmt.Errorf("--tolerance: %w", err))
	}
	if o.RateTolerance, err = parsePoints(*rateTolerance); err != nil {
		return invalid(fmt.Errorf("--rate-tolerance: %w", err))
	}
	var write func(*comparereport.RunComparison, io.Writer) error
	switch *format {
	case "text":
		write = (*comparereport.RunComparison).WriteText
	case "markdown", "md":
		write = (*comparereport.RunComparison).WriteMarkdown
	case "json":
		write = (*comparereport.RunComparison).WriteJSON
	default:
		return invalid(fmt.Errorf("--format: expected text, markdown or json, got %q", *format))
	}
	for _, dir := range pos {
		if err := comparereport.RunFolder(dir); err != nil {
			return invalid(err)
		}
	}
	cmp, err := comparereport.Runs(pos[0], pos[1], o)
	if err != nil {
		return err
	}
	if err := write(cmp, stdout); err != nil {
		return err
	}
	if len(cmp.Regressions) > 0 {
		return &exitError{exitThresholds, errors.New(cmp.Summary())}
	}
	return newThresholdsVerdict(pos[1])
}

// newThresholdsVerdict gates on the thresholds the NEW run's summary.json
// judged: a comparison without a regression still fails when NEW failed
// its own gates. A policy-comparison folder has no summary of its own.
func newThresholdsVerdict(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	if err != nil {
		return nil
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%s: %w", record.SummaryFile, err)
	}
	return thresholdsVerdict(&s, dir)
}

// parseTolerance reads a relative tolerance written as a percentage, "5%"
// or "5", and returns it as a fraction.
func parseTolerance(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || math.IsNaN(v) || v < 0 || v >= 100 {
		return 0, fmt.Errorf("expected a percentage from 0 to 100, such as 5%%, got %q", s)
	}
	return v / 100, nil
}

// parsePoints reads a number of percentage points, such as 0.5.
func parsePoints(s string) (float64, error) {
	t := strings.TrimSpace(s)
	for _, suffix := range []string{"points", "pt", "%"} {
		t = strings.TrimSpace(strings.TrimSuffix(t, suffix))
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
		return 0, fmt.Errorf("expected percentage points from 0 to 100, such as 0.5, got %q", s)
	}
	return v, nil
}
