package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
)

// TestRunHTTP2FitsWhereHTTP1DoesNot: the crowd of 500 in flight needs
// 1064 descriptors over HTTP/1.1 and is refused under a limit of 256;
// over HTTP/2 (h2c to the in-process mock) the exchanges share
// connections, the run fits, and every attempt says HTTP/2.0.
func TestRunHTTP2FitsWhereHTTP1DoesNot(t *testing.T) {
	t.Parallel()
	sc := writeScenario(t, crowdScenario+"  http: \"2\"\n")
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runLimited(t, "256:256", "run", sc, "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitPass, stdout, stderr)
	}
	s := readSummary(t, dir)
	if s.Conversations.OK != 500 || s.Local != nil {
		t.Errorf("conversations %+v, local %+v: want all 500 ok", s.Conversations.Counts, s.Local)
	}
	if got := s.Attempts.ByProto; len(got) != 1 || got["HTTP/2.0"] != s.Attempts.Total {
		t.Errorf("attempts.by_proto = %v, want all %d HTTP/2.0", got, s.Attempts.Total)
	}
}

// TestRunAgainstMockProcessH2C: `mcpload mock --listen` serves h2c with
// prior knowledge beside HTTP/1.1 on its one port; a run with client.http
// "2" speaks HTTP/2 to it, model and MCP alike, and auto HTTP/1.1.
func TestRunAgainstMockProcessH2C(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	// The mock answers with the crowd's script, sped up.
	fast := strings.NewReplacer("latency: 1s", "latency: 10ms", "latency: 500ms", "latency: 10ms").Replace(crowdScenario)
	mock := exec.Command(os.Args[0], "mock", "--listen", "127.0.0.1:0", "--scenario", writeScenario(t, fast))
	mock.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1", "CI=true")
	out, err := mock.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := mock.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mock.Process.Kill(); _ = mock.Wait() })
	base := ""
	sc := bufio.NewScanner(out)
	at := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
	for sc.Scan() {
		if m := at.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatal("the mock printed no URL")
	}
	go func() {
		for sc.Scan() { // keep the pipe drained
		}
	}()
	for _, tc := range []struct{ version, proto string }{{"2", "HTTP/2.0"}, {"auto", "HTTP/1.1"}} {
		t.Run(tc.version, func(t *testing.T) {
			body := strings.NewReplacer(
				"base_url: mock", "base_url: "+base+"/v1\n    api_key_env: MCPLOAD_H2_KEY",
				"url: mock", "url: "+base+"/mcp",
				"timeout: 30s", fmt.Sprintf("timeout: 30s\n  http: %q", tc.version),
				"rate: 250, duration: 2s", "rate: 20, duration: 1s",
				// A target at a real URL answers as it answers.
				"    mock: {latency: 10ms}\n", "",
				"    mock: {latency: 10ms, result: {temperature: 31}}\n", "",
			).Replace(fast)
			dir := filepath.Join(t.TempDir(), "run")
			code, stdout, stderr := mcploadProcessEnv(t, []string{"MCPLOAD_H2_KEY=sk-h2"}, "run", writeScenario(t, body), "--out", dir, "--progress", "off")
			if code != exitPass {
				t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
			}
			s := readSummary(t, dir)
			if s.Conversations.OK != 20 || s.Attempts.ByProto[tc.proto] != s.Attempts.Total {
				t.Errorf("ok %d, attempts %d by proto %v; want 20 ok, every attempt %s", s.Conversations.OK, s.Attempts.Total, s.Attempts.ByProto, tc.proto)
			}
		})
	}
	// Plain HTTP/1.1 clients still reach the same port.
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/1.1" {
		t.Fatalf("GET /healthz over HTTP/1.1: %v %v", err, resp)
	}
	resp.Body.Close()
}

// TestRunTimeScaleFlag: --time-scale rescales every duration from the
// scenario's time_scale (incident-replay is written at 0.1), and the
// resolved scenario.yaml records the scale the run used.
func TestRunTimeScaleFlag(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the incident for a second")
	}
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := mcpload(t, "run", "incident-replay", "--policy", "no-retry", "--time-scale", "0.01",
		"--duration", "1s", "--out", dir, "--progress", "off")
	if code != exitPass && code != exitThresholds {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "no-retry", record.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"time_scale: 0.01\n", "timeout: 300ms\n", "conversation_timeout: 600ms\n", "value: 452.3ms\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("resolved scenario lacks %q:\n%s", want, b)
		}
	}
	for _, bad := range []string{"0", "-1", "5000"} {
		code, _, stderr := mcpload(t, "run", "incident-replay", "--time-scale", bad, "--out", filepath.Join(t.TempDir(), "x"))
		if code != exitInvalid || !strings.Contains(stderr, "time-scale") {
			t.Errorf("--time-scale %s: exit %d, want %d naming the flag:\n%s", bad, code, exitInvalid, stderr)
		}
	}
}
