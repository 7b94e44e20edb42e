package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// timedProcess runs one command line in a process of its own (this test
// binary as the mcpload command, see TestMain), killed after limit. It
// returns the exit code and what the process wrote to stderr.
func timedProcess(t *testing.T, limit time.Duration, env []string, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "MCPLOAD_TEST_MAIN=1"), env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	took = time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("mcpload %s: still running after %s:\n%s", strings.Join(args, " "), limit, errb.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, errb.String(), took
	case errors.As(err, &ee):
		return ee.ExitCode(), errb.String(), took
	}
	t.Fatalf("mcpload %s: %v", strings.Join(args, " "), err)
	return 0, "", 0
}

// TestThresholdFilterOnUnfilteredLevel is the threshold that panicked the
// parser, conversation.{ < 2s, through validate, run and report: each exits
// 2 with the error at file:line:column and the field, and no stack.
func TestThresholdFilterOnUnfilteredLevel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	src, err := fs.ReadFile(scenarios.EmbeddedFS(), "quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const good, bad = "  - conversation.p99 < 2s\n", "  - conversation.{ < 2s\n"
	at := bytes.Index(src, []byte(good))
	if at < 0 {
		t.Fatalf("quickstart.yaml has no %q", good)
	}
	line := bytes.Count(src[:at], []byte("\n")) + 1
	body := strings.Replace(string(src), good, bad, 1)
	path := writeScenario(t, body)
	runDir := filepath.Join(t.TempDir(), "run")
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(runDir, record.ScenarioFile), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// A run folder: report reads its scenario.yaml first.
	if err := os.WriteFile(filepath.Join(runDir, record.RunFile), []byte(`{"scenario":"quickstart","status":"complete"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The error points at the '{', 13 bytes into the expression at column 5.
	where := ":" + strconv.Itoa(line) + ":18: thresholds[1]: conversation takes no tag filter"
	for _, tc := range []struct {
		args []string
		file string
	}{
		{[]string{"validate", path}, path},
		{[]string{"run", path, "--out", filepath.Join(t.TempDir(), "never"), "--progress", "off"}, path},
		{[]string{"report", runDir}, filepath.Join(runDir, record.ScenarioFile)},
	} {
		code, stderr, _ := timedProcess(t, time.Minute, nil, tc.args...)
		if code != exitInvalid || !strings.Contains(stderr, tc.file+where) {
			t.Errorf("mcpload %s: exit %d, want %d and %q:\n%s", tc.args[0], code, exitInvalid, tc.file+where, stderr)
		}
		if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
			t.Errorf("mcpload %s: a stack on stderr:\n%s", tc.args[0], stderr)
		}
	}
}

// TestScenarioNotARegularFile gives a device that never ends and a named
// pipe that no one writes as the scenario: each is refused at once, by
// name, without reading it.
func TestScenarioNotARegularFile(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	fifo := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, tc := range []struct{ path, kind string }{
		{"/dev/zero", "is a device, not a regular file"},
		{fifo, "is a named pipe (FIFO), not a regular file"},
	} {
		for _, args := range [][]string{{"validate", tc.path}, {"run", tc.path, "--out", filepath.Join(t.TempDir(), "never")}} {
			cmd := args[0]
			// A minute is the kill switch; the refusal takes milliseconds.
			code, stderr, took := timedProcess(t, time.Minute, nil, args...)
			t.Logf("mcpload %s %s: exit %d after %s", cmd, tc.path, code, took)
			if code != exitInvalid || !strings.Contains(stderr, tc.path+" "+tc.kind) {
				t.Errorf("mcpload %s %s: exit %d, want %d and %q:\n%s", cmd, tc.path, code, exitInvalid, tc.kind, stderr)
			}
		}
	}
}

// TestScenarioTooLarge refuses a scenario file over the cap, by name.
func TestScenarioTooLarge(t *testing.T) {
	path := writeScenario(t, "version: 1\n"+strings.Repeat("# padding\n", scenarios.MaxFileBytes/10+1))
	code, _, stderr := mcpload(t, "validate", path)
	if code != exitInvalid || !strings.Contains(stderr, path+" is larger than 4 MiB") {
		t.Errorf("exit %d, want %d and the file and cap named:\n%s", code, exitInvalid, stderr)
	}
}

// TestReportFIFOInRunFolder puts a named pipe where a run folder's
// attempts.jsonl should be: report refuses it instead of waiting forever
// for a writer.
func TestReportFIFOInRunFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quickstart")
	}
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, stderr := mcpload(t, "run", "quickstart", "--duration", "1s", "--out", dir, "--progress", "off"); code != exitPass {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	attempts := filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)
	if err := os.Remove(attempts); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(attempts, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	code, stderr, _ := timedProcess(t, time.Minute, nil, "report", dir)
	if code != exitRuntime || !strings.Contains(stderr, attempts+" is a named pipe (FIFO), not a regular file") {
		t.Errorf("exit %d, want %d and the pipe named:\n%s", code, exitRuntime, stderr)
	}
}

// TestPanicExitsOne injects a panic on the main goroutine of a real
// process: it exits 1 (a runtime error), not Go's 2 (which would say
// invalid input), with a short message and the stack in a file.
func TestPanicExitsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	tmp := t.TempDir()
	code, stderr, _ := timedProcess(t, time.Minute, []string{"MCPLOAD_TEST_PANIC=injected bug", "TMPDIR=" + tmp, "MCPLOAD_DEBUG="}, "version")
	if code != exitRuntime || !strings.HasPrefix(stderr, "mcpload: internal error: injected bug\n") || strings.Contains(stderr, "goroutine") {
		t.Fatalf("exit %d, want %d and a short message:\n%s", code, exitRuntime, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(tmp, "mcpload-panic-*.txt"))
	if len(files) != 1 || !strings.Contains(stderr, files[0]) {
		t.Fatalf("stack files %v, not named in:\n%s", files, stderr)
	}
	if b, err := os.ReadFile(files[0]); err != nil || !bytes.Contains(b, []byte("goroutine")) || !bytes.Contains(b, []byte("injected bug")) {
		t.Errorf("stack file: %v\n%s", err, b)
	}
	// MCPLOAD_DEBUG puts the stack on stderr instead.
	code, stderr, _ = timedProcess(t, time.Minute, []string{"MCPLOAD_TEST_PANIC=injected bug", "MCPLOAD_DEBUG=1"}, "version")
	if code != exitRuntime || !strings.Contains(stderr, "goroutine") {
		t.Errorf("MCPLOAD_DEBUG=1: exit %d, want %d and the stack:\n%s", code, exitRuntime, stderr)
	}
}
