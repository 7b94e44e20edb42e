package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
)

// TestMain lets a test re-run this binary as the mcpload command, so that
// signal handling is tested on a real process.
func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) != "" {
		runStdioServer() // a stdio MCP server for stdio_test.go
		return
	}
	if os.Getenv("MCPLOAD_TEST_MAIN") == "1" {
		os.Exit(guard(os.Stderr, func() int {
			if os.Getenv("MCPLOAD_TEST_PANIC") != "" { // an injected bug
				panic(os.Getenv("MCPLOAD_TEST_PANIC"))
			}
			return run(os.Args[1:], os.Stdout, os.Stderr)
		}))
	}
	// The runs of the tests draw no plots (MCPLOAD_PLOTS=0): under the
	// race detector, drawing is most of a short run's CPU, and the suite
	// must fit in its ten minutes. TestEveryEmbeddedScenarioWritesItsReports
	// and the capacity test turn them back on, and check them.
	os.Setenv(plotsEnv, "0")
	// A run in process starts stdio servers whose program is "mcpload"
	// as this binary (scenarios.SelfCommand): they must run mcpload, not
	// the tests.
	os.Setenv("MCPLOAD_TEST_MAIN", "1")
	os.Exit(m.Run())
}

// mcpload runs one command line in process.
func mcpload(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func readSummary(t *testing.T, dir string) *summary.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func writeScenario(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := mcpload(t, "run", "quickstart", "--duration", "3s", "--seed", "42", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Results       "+dir) || !strings.Contains(stdout, "[target, achieved, throughput]") {
		t.Errorf("summary does not name the folder or the rates:\n%s", stdout)
	}
	s := readSummary(t, dir)
	c := s.Conversations
	// 20/s over 3 s with the 2 s of 10 s ramp scaled to 0.6 s: 0.6*10 + 2.4*20 = 54.
	if c.Started < 50 || c.Started > 56 {
		t.Errorf("started %d conversations, want about 54", c.Started)
	}
	if c.OK != c.Started || c.Failed != 0 || c.Dropped != 0 {
		t.Errorf("conversations = %+v, want all ok", c.Counts)
	}
	if math.Abs(s.Rate.Target-18) > 0.01 {
		t.Errorf("rate.target = %v, want 18 (the schedule's mean)", s.Rate.Target)
	}
	if s.Rate.Achieved < 15 || s.Rate.Achieved > 21 {
		t.Errorf("rate.achieved = %v, want about 18", s.Rate.Achieved)
	}
	l := s.LatencyMS
	if l.Conversation == nil || l.Conversation.Count != int64(c.OK) || l.Service == nil {
		t.Fatalf("latency_ms.conversation = %+v, want one value per ok conversation", l.Conversation)
	}
	// The quickstart's script: 2 model turns, 2 get_weather, 1 search_docs.
	for key, want := range map[string]int64{"model:primary": 2, "tool:get_weather": 2, "tool:search_docs": 1} {
		if st := l.Step[key]; st == nil || st.Count != want*int64(c.OK) {
			t.Errorf("latency_ms.step[%s] = %+v, want %d per conversation", key, st, want)
		}
		if l.Attempt[strings.Replace(key, "model:primary", "model:primary/gpt-4.1-mini", 1)] == nil {
			t.Errorf("no attempt histogram for %s", key)
		}
	}
	// The mock's tools take 5-30 ms; the model 60 ms p50: the conversation
	// latency must cover two model turns and a tool round.
	if l.Conversation.P50 < l.Step["model:primary"].P50*2 {
		t.Errorf("conversation p50 %.1f ms < two model steps (%.1f ms each)", l.Conversation.P50, l.Step["model:primary"].P50)
	}
	if want := int64(c.OK) * (412 + 689); s.Tokens.Prompt != want {
		t.Errorf("tokens.prompt = %d, want %d from the script", s.Tokens.Prompt, want)
	}
	if s.Attempts.Amplification != 1 {
		t.Errorf("amplification = %v, want 1 (no retries)", s.Attempts.Amplification)
	}

	// results.bin: one vegeta Result per conversation, seq 0..n-1.
	f, err := os.Open(filepath.Join(dir, record.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	seen := map[uint64]bool{}
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		if r.Code != 200 || r.Error != "" {
			t.Errorf("result %d: code %d error %q", r.Seq, r.Code, r.Error)
		}
		seen[r.Seq] = true
	}
	for i := uint64(0); i < c.Started; i++ {
		if !seen[i] {
			t.Errorf("results.bin lacks seq %d", i)
		}
	}
	resolved, err := os.ReadFile(filepath.Join(dir, record.ScenarioFile))
	if err != nil || !strings.Contains(string(resolved), "seed: 42") {
		t.Errorf("scenario.yaml does not record the seed: %v\n%s", err, resolved)
	}
	if _, err := os.Stat(filepath.Join(dir, "conversation.hgrm")); err != nil {
		t.Error(err)
	}

	// mcpload report re-renders the same numbers from the folder.
	code, stdout2, _ := mcpload(t, "report", dir)
	if code != exitPass || !strings.Contains(stdout2, fmt.Sprintf("%d, %d, 0, 0", c.Started, c.OK)) {
		t.Errorf("report: exit %d\n%s", code, stdout2)
	}
}

func TestValidate(t *testing.T) {
	if code, out, errb := mcpload(t, "validate", "quickstart", "mcp-direct", "quickstart-stream"); code != exitPass {
		t.Fatalf("embedded scenarios: exit %d\n%s%s", code, out, errb)
	}
	bad := writeScenario(t, "version: 1\nname: bad\nload:\n  stages:\n    - {rate: 10, duration: 5}\n")
	code, _, stderr := mcpload(t, "validate", bad)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	if want := bad + ":5:28: load.stages[0].duration:"; !strings.Contains(stderr, want) {
		t.Errorf("error does not name file:line:column and field %q:\n%s", want, stderr)
	}
	// run never starts on an invalid scenario.
	out := filepath.Join(t.TempDir(), "never")
	if code, _, _ := mcpload(t, "run", bad, "--out", out); code != exitInvalid {
		t.Errorf("run of an invalid scenario: exit %d, want %d", code, exitInvalid)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("run of an invalid scenario created %s", out)
	}
	if code, _, _ := mcpload(t, "run", "no-such-scenario"); code != exitInvalid {
		t.Errorf("unknown scenario: exit %d, want %d", code, exitInvalid)
	}
	if code, _, _ := mcpload(t, "run", "quickstart", "--rate", "fast"); code != exitInvalid {
		t.Errorf("bad --rate: exit %d, want %d", code, exitInvalid)
	}
}

const realProviderScenario = `version: 1
name: real
providers:
  real:
    base_url: %s
    model: gpt-4.1-mini
    api_key_env: MCPLOAD_TEST_KEY
    credentials_file: %s
conversation:
  provider: real
  turns:
    - user: hi
      model:
        - content: hello
load:
  stages: [{rate: 5, duration: 1s}]
client:
  timeout: 2s
`

func TestRemoteTargetNeedsOptIn(t *testing.T) {
	t.Setenv("MCPLOAD_TEST_KEY", "sk-test-remote")
	path := writeScenario(t, fmt.Sprintf(realProviderScenario, "https://api.example.com/v1", "/nonexistent/credentials"))
	code, _, stderr := mcpload(t, "run", path, "--out", filepath.Join(t.TempDir(), "r"), "--progress", "off")
	if code != exitInvalid || !strings.Contains(stderr, "--allow-remote") {
		t.Errorf("exit %d, stderr %q: want %d and a hint to pass --allow-remote", code, stderr, exitInvalid)
	}
}

func TestMissingKeySaysWhereItLooked(t *testing.T) {
	t.Setenv("MCPLOAD_TEST_KEY", "")
	creds := filepath.Join(t.TempDir(), "credentials")
	path := writeScenario(t, fmt.Sprintf(realProviderScenario, "http://127.0.0.1:9/v1", creds))
	code, _, stderr := mcpload(t, "run", path, "--out", filepath.Join(t.TempDir(), "r"), "--progress", "off")
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	for _, want := range []string{"MCPLOAD_TEST_KEY", creds} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error does not say it looked in %s:\n%s", want, stderr)
		}
	}
}

// TestInterruptLeavesPartialRun sends SIGINT to a real mcpload process
// mid-run and reads what it left.
func TestInterruptLeavesPartialRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "run", "quickstart", "--out", dir, "--progress", "off", "--duration", "60s")
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the run has written its first interval.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)); err == nil && len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no attempts written after 30 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRuntime {
		t.Fatalf("exit %v, want %d:\n%s", err, exitRuntime, out.String())
	}
	s := readSummary(t, dir)
	if s.Status != record.StatusInterrupted {
		t.Errorf("status %q, want %q", s.Status, record.StatusInterrupted)
	}
	c := s.Conversations
	if c.Started == 0 || c.OK+c.Failed != c.Started {
		t.Errorf("conversations %+v: every started one must be ok or failed", c.Counts)
	}
	if !strings.Contains(out.String(), "interrupted") || !strings.Contains(out.String(), dir) {
		t.Errorf("output does not say the run was interrupted and where it is:\n%s", out.String())
	}
}
