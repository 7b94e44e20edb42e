package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
)

func readRunJSON(t *testing.T, dir string) record.Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var run record.Run
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestAbortOnFailStopsTheRun gives the quickstart a 60 s schedule and a
// threshold it cannot meet, with abort_on_fail after 1 s: the run must stop
// itself within seconds, say why, and exit 3. A threshold without
// abort_on_fail that fails as well must not stop it earlier.
func TestAbortOnFailStopsTheRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := quickstartWith(t, "{expr: conversation.p50 < 1ms, abort_on_fail: true, delay: 1s}")
	began := time.Now()
	code, _, stderr := mcpload(t, "run", path, "--duration", "60s", "--seed", "7", "--out", dir, "--progress", "off")
	took := time.Since(began)
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitThresholds, stderr)
	}
	// A bound that holds on a loaded machine: far below the 60 s schedule.
	if took > 30*time.Second {
		t.Errorf("the run took %s: abort_on_fail did not stop it", took)
	}
	run := readRunJSON(t, dir)
	if run.Status != record.StatusAborted || !strings.HasPrefix(run.StopReason, stopThreshold+"conversation.p50 < 1ms (measured ") {
		t.Errorf("run.json status %q, stop_reason %q; want aborted by the threshold", run.Status, run.StopReason)
	}
	if !strings.Contains(stderr, "aborted: threshold failed: conversation.p50 < 1ms") {
		t.Errorf("stderr does not say why the run stopped:\n%s", stderr)
	}
	s := readSummary(t, dir)
	if s.Status != record.StatusAborted || s.Conversations.Started == 0 {
		t.Errorf("summary status %q with %d conversations; want an aborted partial run with its data", s.Status, s.Conversations.Started)
	}
}

// TestAbortWaitsForDelay: the same failing threshold with a delay longer
// than the run never judges, so the run completes (and the threshold
// still fails at the end).
func TestAbortWaitsForDelay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := quickstartWith(t, "{expr: conversation.p50 < 1ms, abort_on_fail: true, delay: 1h}")
	code, _, stderr := mcpload(t, "run", path, "--duration", "3s", "--seed", "7", "--out", dir, "--progress", "off")
	if code != exitThresholds {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitThresholds, stderr)
	}
	if run := readRunJSON(t, dir); run.Status != record.StatusComplete || run.StopReason != "" {
		t.Errorf("run.json status %q, stop_reason %q; want complete", run.Status, run.StopReason)
	}
}

// TestBudgetStopsTheRun caps the quickstart's spend far below what 60 s
// of it costs: the run must stop itself, having spent at least the cap.
// runToSpendCap runs the scenario at path into dir, with args, and fails
// unless the run stopped itself at its spend cap (exit 1, status aborted).
func runToSpendCap(t *testing.T, dir, path string, args ...string) (record.Run, *summary.Summary) {
	t.Helper()
	code, _, stderr := mcpload(t, append([]string{"run", path, "--out", dir, "--progress", "off"}, args...)...)
	if code != exitRuntime {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitRuntime, stderr)
	}
	run := readRunJSON(t, dir)
	if run.Status != record.StatusAborted || !strings.HasPrefix(run.StopReason, stopBudget) {
		t.Fatalf("run.json status %q, stop_reason %q; want aborted at the spend cap", run.Status, run.StopReason)
	}
	return run, readSummary(t, dir)
}

func TestBudgetStopsTheRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	path := quickstartWith(t, "success_rate >= 0%")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const maxUSD = 0.002
	if err := os.WriteFile(path, append(b, []byte("budget:\n  max_usd: 0.002\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	_, s := runToSpendCap(t, dir, path, "--duration", "60s", "--seed", "7")
	if s.Cost == nil || s.Cost.TotalUSD < maxUSD {
		t.Errorf("cost %+v: the run stopped before spending the cap", s.Cost)
	}
	if s.DurationS > 30 {
		t.Errorf("the run lasted %.1f s of its 60 s schedule: the cap did not stop it", s.DurationS)
	}
}
