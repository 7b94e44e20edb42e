package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/report/htmlreport"
	"github.com/mcpload/mcpload/report/markdown"
)

// slotBoundScenario sends an arrival every 20 ms through one slot to a mock
// that answers in 100 ms: each arrival waits for the slot, so the harness,
// not the target, sets most of the latency.
const slotBoundScenario = `version: 1
name: slot-bound
seed: 7
providers:
  primary:
    api: openai
    base_url: mock
    model: gpt-4.1-mini
    mock:
      latency: {dist: fixed, value: 100ms}
conversation:
  provider: primary
  turns:
    - user: hi
      model:
        - content: hello
load:
  arrival: constant
  stages:
    - {rate: 50, duration: 600ms}
  max_in_flight: 1
  on_cap: queue
`

// TestHarnessWarnsWhenSlotsAreTheLimit runs arrivals that must wait for
// the one slot: the run warns, in CI mode, on stderr, in summary.json and
// in report.html's banner and report.md, that the schedule lag is
// mcpload's and says what to change.
func TestHarnessWarnsWhenSlotsAreTheLimit(t *testing.T) {
	tmp := t.TempDir()
	path := filepath.Join(tmp, "slot-bound.yaml")
	if err := os.WriteFile(path, []byte(slotBoundScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(tmp, "run")
	t.Setenv("CI", "true")
	code, _, stderr := mcpload(t, "run", path, "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	s := readSummary(t, dir)
	h := s.Harness
	if h == nil || h.ScheduleLag == nil {
		t.Fatalf("summary.json harness %+v", h)
	}
	if h.ScheduleLag.Count != int64(s.Conversations.Started) || h.ScheduleLag.P99 <= 1000 {
		t.Errorf("schedule lag %+v over %d started: want every arrival, p99 over 1 ms", h.ScheduleLag, s.Conversations.Started)
	}
	if !h.Saturated || h.Slots != 1 || h.QueuedLate == 0 || len(h.Warnings) == 0 {
		t.Fatalf("harness %+v: want saturated by its one slot, with a warning", h)
	}
	w := h.Warnings[0]
	for _, want := range []string{"Schedule lag p99", "not the target's latency", "load.max_in_flight (1) was full", "raise load.max_in_flight"} {
		if !strings.Contains(w, want) {
			t.Errorf("warning %q lacks %q", w, want)
		}
	}
	if !strings.Contains(stderr, "WARNING (harness): "+w) {
		t.Errorf("stderr lacks the warning:\n%s", stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, htmlreport.File))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	banner := strings.Index(html, `id="harness-warning"`)
	if banner < 0 || banner > strings.Index(html, `id="thresholds"`) {
		t.Fatalf("report.html has no harness banner above the sections")
	}
	if !strings.Contains(html, "load.max_in_flight (1) was full") {
		t.Errorf("report.html lacks the warning's text")
	}
	md, err := os.ReadFile(filepath.Join(dir, markdown.File))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**Harness:** Schedule lag p99") {
		t.Errorf("report.md lacks the warning:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "schedule_lag.hgrm")); err != nil {
		t.Errorf("no schedule_lag.hgrm: %v", err)
	}
}
