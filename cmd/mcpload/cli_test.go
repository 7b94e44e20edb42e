package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mcploadProcess runs one command line as a real mcpload process (this
// test binary re-executed as the command, see TestMain), as a user's shell
// would, and returns its exit code and output.
func mcploadProcess(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return mcploadProcessEnv(t, nil, args...)
}

// mcploadProcessEnv is mcploadProcess with env added to the environment.
func mcploadProcessEnv(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runProcess(t, exec.Command(os.Args[0], args...), env)
}

// runProcess runs cmd, which starts this test binary as mcpload (directly,
// or behind a wrapper such as prlimit), with env added to the environment.
func runProcess(t *testing.T, cmd *exec.Cmd, env []string) (code int, stdout, stderr string) {
	t.Helper()
	cmd.Env = append(append(os.Environ(), "MCPLOAD_TEST_MAIN=1", "CI=true"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return code, out.String(), errb.String()
}

// TestCLIForgivesTypos: each mistake gets one error, a suggestion where
// one is near, and exit 2.
func TestCLIForgivesTypos(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string // all in stderr
	}{
		{[]string{"runn", "quickstart"}, []string{`unknown command "runn"`, "Did you mean this?", "run"}},
		{[]string{"scenarioss"}, []string{"Did you mean this?", "scenarios"}},
		{[]string{"run", "quickstart", "--progres", "off"}, []string{"unknown flag: --progres", "--progress"}},
		{[]string{"run", "quickstart", "-duration", "2s"}, []string{"--duration"}},
		{[]string{"compare", "a", "b", "--formt", "json"}, []string{"--format"}},
		{[]string{"run", "quickstart", "--duration", "10"}, []string{`--duration: "10" is not a duration`, "10s"}},
		{[]string{"run", "quickstart", "--duration", "0s"}, []string{"--duration must be more than 0"}},
		{[]string{"run", "quickstart", "--policy", "x"}, []string{"--policy does not apply", "no policies"}},
		{[]string{"run", "quickstart", "--progress", "sometimes"}, []string{"--progress: expected auto, on or off"}},
		{[]string{"run"}, []string{"run takes exactly one SCENARIO"}},
		{[]string{"scenarios", "show", "quickstar"}, []string{`did you mean "quickstart"`}},
		{[]string{"report", "no-such-dir"}, []string{"no-such-dir: no such folder"}},
		{[]string{"cost", "no-such-dir"}, []string{"no-such-dir: no such folder"}},
		{[]string{"cost", "x", "--format", "xml"}, []string{"--format: expected text or json"}},
	} {
		code, stdout, stderr := mcploadProcess(t, tc.args...)
		if code != exitInvalid {
			t.Errorf("mcpload %v: exit %d, want %d\n%s%s", tc.args, code, exitInvalid, stdout, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("mcpload %v: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
		// Printed once: no "Error:" from cobra beside our own line, and no
		// usage dump after it.
		if n := strings.Count(stderr, "mcpload:"); n != 1 || strings.Contains(stderr, "Error:") || strings.Contains(stderr, "Flags:") {
			t.Errorf("mcpload %v: the error is not printed exactly once (%d):\n%s", tc.args, n, stderr)
		}
	}
}

// TestCLIHelpAndCompletion: -h lists each command's flags; completion
// scripts and man pages are generated.
func TestCLIHelpAndCompletion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := mcploadProcess(t, "run", "-h")
	if code != exitPass || !strings.Contains(stdout, "Flags:") || !strings.Contains(stdout, "--duration duration") || !strings.Contains(stdout, "--allow-remote") {
		t.Errorf("run -h: exit %d, want the flags listed:\n%s", code, stdout)
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		code, stdout, stderr := mcploadProcess(t, "completion", shell)
		if code != exitPass || !strings.Contains(stdout, "mcpload") || len(stdout) < 1000 {
			t.Errorf("completion %s: exit %d, %d bytes\n%s", shell, code, len(stdout), stderr)
		}
	}
	// What the shell asks for when the user presses tab after "run ".
	code, stdout, _ = mcploadProcess(t, "__complete", "run", "")
	if code != exitPass || !strings.Contains(stdout, "quickstart\n") || !strings.Contains(stdout, "incident-replay\n") {
		t.Errorf("completing run's SCENARIO: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = mcploadProcess(t, "__complete", "run", "quickstart", "--progress", "")
	if code != exitPass || !strings.Contains(stdout, "auto\non\noff\n") {
		t.Errorf("completing --progress: exit %d\n%s", code, stdout)
	}
	dir := t.TempDir()
	if code, _, stderr := mcploadProcess(t, "man", dir); code != exitPass {
		t.Fatalf("man: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "mcpload-run.1"))
	if err != nil || !bytes.Contains(b, []byte(".TH \"MCPLOAD\" \"1\"")) || !bytes.Contains(b, []byte("allow-remote")) {
		t.Errorf("mcpload-run.1: %v\n%.300s", err, b)
	}
}

// TestScenariosShow prints an embedded scenario that validates as a file.
func TestScenariosShow(t *testing.T) {
	code, stdout, stderr := mcploadProcess(t, "scenarios", "show", "quickstart")
	if code != exitPass || !strings.Contains(stdout, "name: quickstart") || !strings.Contains(stdout, "#") {
		t.Fatalf("scenarios show: exit %d, want the scenario with its comments\n%s%s", code, stdout, stderr)
	}
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte(stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errb := mcploadProcess(t, "validate", path); code != exitPass {
		t.Errorf("the printed scenario does not validate: exit %d\n%s%s", code, out, errb)
	}
	if code, stdout, _ := mcploadProcess(t, "scenarios", "list"); code != exitPass || !strings.Contains(stdout, "vendor-claims") {
		t.Errorf("scenarios list: exit %d\n%s", code, stdout)
	}
}

// TestReportAndCompareGate: report and compare exit 3 on a run whose
// thresholds failed, as run does; cost prints JSON.
func TestReportAndCompareGate(t *testing.T) {
	t.Parallel()
	failing := filepath.Join(t.TempDir(), "failing")
	path := quickstartWith(t, "conversation.p50 < 1ms")
	if code, _, stderr := mcpload(t, "run", path, "--duration", "2s", "--seed", "7", "--out", failing, "--progress", "off"); code != exitThresholds {
		t.Fatalf("run: exit %d, want %d\n%s", code, exitThresholds, stderr)
	}
	code, stdout, stderr := mcploadProcess(t, "report", failing)
	if code != exitThresholds || !strings.Contains(stderr, "conversation.p50 < 1ms") || !strings.Contains(stdout, "Results") {
		t.Errorf("report of a failing run: exit %d, want %d\n%s%s", code, exitThresholds, stdout, stderr)
	}
	// Compared with itself there is no regression, but NEW still failed
	// its own gate.
	code, _, stderr = mcploadProcess(t, "compare", failing, failing)
	if code != exitThresholds || !strings.Contains(stderr, "thresholds failed") {
		t.Errorf("compare with a failing NEW: exit %d, want %d\n%s", code, exitThresholds, stderr)
	}

	code, stdout, stderr = mcploadProcess(t, "cost", failing, "--format", "json", "--volume", "1M")
	if code != exitPass {
		t.Fatalf("cost --format json: exit %d\n%s", code, stderr)
	}
	var got struct {
		Run                  string `json:"run"`
		ConversationsStarted uint64 `json:"conversations_started"`
		Cost                 *struct {
			TotalUSD float64 `json:"total_usd"`
			Monthly  *struct {
				USD float64 `json:"usd"`
			} `json:"monthly"`
		} `json:"cost"`
		WhatIf []json.RawMessage `json:"what_if"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("cost --format json is not JSON: %v\n%s", err, stdout)
	}
	if got.Run != failing || got.ConversationsStarted == 0 || got.Cost == nil || got.Cost.TotalUSD <= 0 ||
		got.Cost.Monthly == nil || got.Cost.Monthly.USD <= 0 || len(got.WhatIf) == 0 {
		t.Errorf("cost --format json = %+v, want a priced run, its monthly cost and what-if rows", got)
	}
}
