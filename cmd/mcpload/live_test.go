package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/report/summary"
)

// TestLiveFlagsRefused: a live address that is malformed or off loopback
// is invalid input (exit 2), one that is busy a runtime error (exit 1);
// both stop the command before the run starts.
func TestLiveFlagsRefused(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--metrics-addr", "9464"}, exitInvalid, `--metrics-addr "9464": expected host:port`},
		{[]string{"--metrics-addr", "127.0.0.1:"}, exitInvalid, `--metrics-addr "127.0.0.1:": no port`},
		{[]string{"--metrics-addr", "0.0.0.0:0"}, exitInvalid, "not on loopback: serving the run's metrics off this machine needs --allow-remote"},
		{[]string{"--dashboard", ":0"}, exitInvalid, `--dashboard ":0": not on loopback`},
		{[]string{"--dashboard", "127.0.0.1:0", "--live-linger", "-1s"}, exitInvalid, "--live-linger must not be negative"},
		{[]string{"--otlp-endpoint", "127.0.0.1:4318"}, exitInvalid, `--otlp-endpoint "127.0.0.1:4318": expected an http(s) URL`},
		{[]string{"--otlp-endpoint", "http://10.1.2.3:4318"}, exitInvalid, "not on loopback: pushing the run's metrics off this machine needs --allow-remote"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--shards", "2", "--local"}, exitInvalid, "--metrics-addr does not apply: a sharded run is served by no one process"},
		{[]string{"--metrics-addr", busy.Addr().String()}, exitRuntime, "address already in use"},
		{[]string{"--metrics-addr", "127.0.0.1:0", "--dashboard", busy.Addr().String()}, exitRuntime, "--dashboard " + busy.Addr().String()},
	} {
		out := filepath.Join(t.TempDir(), "run")
		args := append([]string{"run", "quickstart", "--duration", "1s", "--out", out}, tc.args...)
		code, stdout, stderr := mcploadProcess(t, args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("mcpload %v: exit %d, want %d with %q:\n%s%s", tc.args, code, tc.code, tc.want, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "run.json")); err == nil {
			t.Errorf("mcpload %v: the run started", tc.args)
		}
	}
	// A capacity search serves its probes' metrics, and has no live page.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics-addr", "0.0.0.0:0"}, "not on loopback"},
		{[]string{"--dashboard", "127.0.0.1:0"}, "unknown flag: --dashboard"},
	} {
		out := filepath.Join(t.TempDir(), "cap")
		args := append([]string{"capacity", "quickstart", "--max-probes", "2", "--out", out}, tc.args...)
		code, stdout, stderr := mcploadProcess(t, args...)
		if code != exitInvalid || !strings.Contains(stderr, tc.want) {
			t.Errorf("mcpload %v: exit %d, want %d with %q:\n%s%s", args, code, exitInvalid, tc.want, stdout, stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "probes")); err == nil {
			t.Errorf("mcpload %v: a probe ran", args)
		}
	}
}

// TestRunServesLiveMetrics runs `mcpload run --metrics-addr` as a process
// and scrapes it as Prometheus would: the final figures it serves, kept up
// by --live-linger until scraped, are summary.json's.
func TestRunServesLiveMetrics(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "run")
	cmd, stderr := startMcpload(t, "run", "quickstart", "--duration", "2s", "--out", out, "--metrics-addr", "127.0.0.1:0", "--live-linger", "60s")
	lines := bufio.NewScanner(stderr)
	var url string
	for lines.Scan() {
		if m := regexp.MustCompile(`^metrics-addr: (http://\S+/metrics)$`).FindStringSubmatch(lines.Text()); m != nil {
			url = m[1]
			break
		}
	}
	if url == "" {
		t.Fatal("mcpload printed no metrics address")
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	var body string
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(body, "\nmcpload_run_finished 1\n"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no final figures at %s in 60 s; last scrape:\n%s", url, body)
		}
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("scrape %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
	}
	// Exit 3 is quickstart's latency thresholds failing on a loaded
	// machine; the figures served are what is tested.
	if err := cmd.Wait(); err != nil && cmd.ProcessState.ExitCode() != exitThresholds {
		t.Fatalf("mcpload run: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"mcpload_conversations_total{outcome=\"ok\"} " + itoa(s.Conversations.OK),
		"mcpload_conversations_started_total " + itoa(s.Conversations.Started),
		"mcpload_steps_total " + itoa(s.Attempts.Steps),
		"mcpload_run_info{run=\"run\",scenario=\"quickstart\"",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the last scrape lacks %q:\n%s", want, body)
		}
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// startMcpload starts mcpload (this test binary, see TestMain) with args,
// and returns it and its stderr to read while it runs. It is killed when
// the test ends.
func startMcpload(t *testing.T, args ...string) (*exec.Cmd, *os.File) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1", "CI=true")
	// Not StderrPipe: Wait would close it under the reader.
	stderr, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stderr
}

// TestInterruptedRunDoesNotLinger: Ctrl-C stops the run and the live
// servers at once, however long --live-linger is.
func TestInterruptedRunDoesNotLinger(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "run")
	cmd, stderr := startMcpload(t, "run", "quickstart", "--duration", "60s", "--out", out, "--metrics-addr", "127.0.0.1:0", "--live-linger", "10m")
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "metrics-addr: ") {
	}
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	// Let the run start before it is interrupted.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(out, "run.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not start in 30 s")
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitRuntime {
			t.Errorf("interrupted run: %v, want exit %d", err, exitRuntime)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the interrupted run was still up 2 minutes after Ctrl-C: it lingered")
	}
}
