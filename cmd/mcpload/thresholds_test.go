package main

import (
	"encoding/xml"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/junit"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// quickstartWith is the embedded quickstart with its thresholds replaced.
func quickstartWith(t *testing.T, thresholds ...string) string {
	t.Helper()
	b, err := fs.ReadFile(scenarios.EmbeddedFS(), "quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src, _, found := strings.Cut(string(b), "\nthresholds:")
	if !found {
		t.Fatal("quickstart.yaml has no thresholds: section")
	}
	src += "\nthresholds:\n"
	for _, th := range thresholds {
		src += "  - " + th + "\n"
	}
	return writeScenario(t, src)
}

func TestRunThresholdFails(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	// The mock answers in tens of ms: a 1 ms median cannot hold.
	path := quickstartWith(t, "success_rate >= 50%", "conversation.p50 < 1ms")
	code, stdout, stderr := mcpload(t, "run", path, "--duration", "2s", "--seed", "7", "--out", dir, "--progress", "off")
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitThresholds, stderr)
	}
	s := readSummary(t, dir)
	if len(s.Thresholds) != 2 || !s.Thresholds[0].Pass || s.Thresholds[1].Pass {
		t.Fatalf("thresholds = %+v, want the first to pass and the second to fail", s.Thresholds)
	}
	measured := s.Thresholds[1].Measured
	// Milliseconds, or seconds on a loaded machine: a duration, above 1 ms.
	if measured == "" || !strings.HasSuffix(measured, "s") || s.Thresholds[1].Value < 1 {
		t.Errorf("measured %q (value %v), want a median above 1 ms", measured, s.Thresholds[1].Value)
	}
	// The measured value is printed beside the expression, in the summary
	// and in the exit message.
	if !strings.Contains(stdout, "✗ conversation.p50 < 1ms") || !strings.Contains(stdout, "measured "+measured) {
		t.Errorf("summary lacks the failed threshold with %s:\n%s", measured, stdout)
	}
	if !strings.Contains(stderr, "conversation.p50 < 1ms (measured "+measured+")") {
		t.Errorf("stderr lacks the measured value %s:\n%s", measured, stderr)
	}

	var suites junit.Suites
	b, err := os.ReadFile(filepath.Join(dir, junit.File))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, &suites); err != nil {
		t.Fatalf("junit.xml: %v", err)
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Failures != 1 || len(suites.Suites[0].Cases) != 2 {
		t.Errorf("junit.xml = %+v, want one suite, two cases, one failure", suites)
	}
	md, err := os.ReadFile(filepath.Join(dir, markdown.File))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "❌ FAIL") || !strings.Contains(string(md), "`conversation.p50 < 1ms` | "+measured) {
		t.Errorf("report.md lacks the verdict or the failed row:\n%s", md)
	}

	// `mcpload report` re-judges the folder from its scenario.yaml.
	sy := filepath.Join(dir, "scenario.yaml")
	y, err := os.ReadFile(sy)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(y), "conversation.p50 < 1ms", "conversation.p50 < 1m", 1)
	if edited == string(y) {
		t.Fatalf("scenario.yaml does not hold the threshold:\n%s", y)
	}
	if err := os.WriteFile(sy, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := mcpload(t, "report", dir); code != exitPass || !strings.Contains(stdout, "✓ conversation.p50 < 1m") {
		t.Errorf("report: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if s := readSummary(t, dir); len(thresholds.Failed(s.Thresholds)) != 0 {
		t.Errorf("after re-rendering, thresholds = %+v, want all passed", s.Thresholds)
	}
}

func TestRunThresholdsPass(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	// The embedded quickstart's own thresholds.
	code, stdout, stderr := mcpload(t, "run", "quickstart", "--duration", "2s", "--seed", "7", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, want %d; stderr:\n%s\nstdout:\n%s", code, exitPass, stderr, stdout)
	}
	s := readSummary(t, dir)
	if len(s.Thresholds) < 2 {
		t.Fatalf("thresholds = %+v, want quickstart's", s.Thresholds)
	}
	for _, th := range s.Thresholds {
		if !th.Pass || th.Measured == "" {
			t.Errorf("threshold %+v, want passed with a measured value", th)
		}
	}
	if !strings.Contains(stdout, "✓ conversation.p99 < 2s") {
		t.Errorf("summary lacks the thresholds block:\n%s", stdout)
	}
}

func TestValidateRejectsBadThreshold(t *testing.T) {
	path := quickstartWith(t, "conversation.p99 < 2s", "conversation.p99 < 2")
	code, _, stderr := mcpload(t, "validate", path)
	if code != exitInvalid || !strings.Contains(stderr, "thresholds[1]: the limit 2 has no unit") {
		t.Errorf("validate: exit %d, stderr:\n%s", code, stderr)
	}
}
