package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/report"
)

func compareCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("compare", "compare BASE NEW [--tolerance 10%] [--rate-tolerance 0.5] [--format text|markdown|json]", stderr)
	tolerance := fs.String("tolerance", "10%", "how much a latency percentile or the cost per successful conversation may rise before it counts as a regression")
	rateTolerance := fs.String("rate-tolerance", "0.5", "how many percentage points the success rate may fall before it counts as a regression")
	format := fs.String("format", "text", "output: text, markdown (for a pull-request comment) or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return invalid(errors.New("compare takes two run folders: BASE and NEW"))
	}
	o := report.DefaultRegressionOptions
	if o.Tolerance, err = parseTolerance(*tolerance); err != nil {
		return invalid(fmt.Errorf("--tolerance: %w", err))
	}
	if o.RateTolerance, err = parsePoints(*rateTolerance); err != nil {
		return invalid(fmt.Errorf("--rate-tolerance: %w", err))
	}
	var write func(*report.RunComparison, io.Writer) error
	switch *format {
	case "text":
		write = (*report.RunComparison).WriteText
	case "markdown", "md":
		write = (*report.RunComparison).WriteMarkdown
	case "json":
		write = (*report.RunComparison).WriteJSON
	default:
		return invalid(fmt.Errorf("--format: expected text, markdown or json, got %q", *format))
	}
	for _, dir := range pos {
		if err := report.RunFolder(dir); err != nil {
			return invalid(err)
		}
	}
	cmp, err := report.CompareRuns(pos[0], pos[1], o)
	if err != nil {
		return err
	}
	if err := write(cmp, stdout); err != nil {
		return err
	}
	if len(cmp.Regressions) > 0 {
		return &exitError{exitThresholds, errors.New(cmp.Summary())}
	}
	return nil
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
