package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
)

// crowdScenario puts up to 500 conversations in flight at once against
// the in-process mock: 250/s for 2 s, each a 1 s model call, a 500 ms
// tool call and a second model call. Against the mock, each holds one
// connection and the mock the other end: 500 × 2 + 64 = 1064 descriptors.
const crowdScenario = `
name: crowd
seed: 7
providers:
  primary:
    base_url: mock
    model: gpt-4.1-mini
    mock: {latency: 1s}
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    inputSchema: {type: object, properties: {location: {type: string}}, required: [location]}
    mock: {latency: 500ms, result: {temperature: 31}}
conversation:
  provider: primary
  turns:
    - user: weather?
      model:
        - tool_calls: [{name: get_weather, arguments: {location: Hanoi}}]
        - content: done
load:
  stages: [{rate: 250, duration: 2s}]
  max_in_flight: 500
client:
  timeout: 30s
`

// runLimited runs mcpload as a process whose RLIMIT_NOFILE is nofile
// (prlimit's SOFT:HARD), and returns its exit code and output.
func runLimited(t *testing.T, nofile string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a process")
	}
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("needs prlimit (util-linux)")
	}
	return runProcess(t, exec.Command(prlimit, append([]string{"--nofile=" + nofile, os.Args[0]}, args...)...), nil)
}

// TestRunRefusesWhenDescriptorsDoNotFit: 500 in flight need 1064
// descriptors; with a hard limit of 256 the run must not start, and must
// say what to change.
func TestRunRefusesWhenDescriptorsDoNotFit(t *testing.T) {
	sc := writeScenario(t, crowdScenario)
	for _, nofile := range []string{"256:256", "128:256"} {
		t.Run(nofile, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			code, _, stderr := runLimited(t, nofile, "run", sc, "--out", dir, "--progress", "off")
			if code != exitInvalid {
				t.Fatalf("exit %d, want %d:\n%s", code, exitInvalid, stderr)
			}
			for _, want := range []string{"500 conversations in flight (load.max_in_flight) may hold 1064 descriptors",
				"Lower load.max_in_flight to 96", "at least 1064", "ulimit -Hn", "HTTP/1.1",
				// 128:256 is raised to 255 by Go at start, and to 256 by mcpload.
				"RLIMIT_NOFILE soft 256, hard 256"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("message lacks %q:\n%s", want, stderr)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("a refused run left %s behind (%v)", dir, err)
			}
		})
	}
}

// TestRunFitsAfterRaisingTheLimit: a soft limit of 512 under a hard limit
// of 2048 is raised (by Go at start, or by mcpload), and the run fits.
func TestRunFitsAfterRaisingTheLimit(t *testing.T) {
	t.Parallel()
	sc := writeScenario(t, crowdScenario)
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runLimited(t, "512:2048", "run", sc, "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitPass, stdout, stderr)
	}
	s := readSummary(t, dir)
	if s.Conversations.Started != 500 || s.Conversations.OK != 500 || s.Local != nil {
		t.Errorf("conversations %+v, local %+v: want all 500 ok", s.Conversations.Counts, s.Local)
	}
}

// TestRunFullDescriptorTableIsLocal starts the same run past the check:
// the table fills mid-run, and the run must still end with a complete
// folder, its failures local and none blamed on the target's connection.
func TestRunFullDescriptorTableIsLocal(t *testing.T) {
	t.Parallel()
	sc := writeScenario(t, crowdScenario)
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runLimited(t, "256:256", "run", sc, "--out", dir, "--progress", "off", "--fd-check=false")
	if code != exitPass {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitPass, stdout, stderr)
	}
	for _, name := range []string{record.RunFile, record.SummaryFile, record.AttemptsFile + record.GzipSuffix, record.ResultsFile,
		record.HistogramsFile, "conversation.hgrm", "report.html", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	run := readRunJSON(t, dir)
	c := run.Conversations
	if run.Status != record.StatusComplete || c.Started != 500 || c.OK+c.Failed != c.Started {
		t.Errorf("run.json: status %q, conversations %+v", run.Status, c)
	}
	s := readSummary(t, dir)
	if s.Local == nil || s.Local.Attempts == 0 || s.Local.Conversations != c.Failed {
		t.Errorf("summary.json local = %+v, want every failed conversation (%d) local", s.Local, c.Failed)
	}
	if c.ByOutcome[record.OutcomeLocal] == 0 {
		t.Errorf("no conversation failed local: the table never filled (%+v)", c)
	}
	var attempts strings.Builder
	if _, err := record.EachLine(dir, record.AttemptsFile, func(line []byte) { attempts.Write(line) }); err != nil {
		t.Fatal(err)
	}
	if run.Attempts.ByOutcome[record.OutcomeConnection] != 0 || c.ByOutcome[record.OutcomeConnection] != 0 {
		t.Errorf("run.json blames the target's connection: attempts %v, conversations %v", run.Attempts.ByOutcome, c.ByOutcome)
	}
	for _, text := range []string{attempts.String(), stdout} {
		if strings.Contains(text, `"connection"`) || strings.Contains(text, "connection ") {
			t.Errorf("an exchange is blamed on the target's connection:\n%.2000s", text)
		}
	}
	if !strings.Contains(stdout, "Harness limit") || !strings.Contains(stdout, "not the target") {
		t.Errorf("the summary does not say mcpload was the limit:\n%s", stdout)
	}
}

// TestRunWideAnswerIsLocal: one scripted answer calls a tool 400 times at
// once, against the in-process mock. With 256 descriptors the check
// refuses it (no max_in_flight fits); started anyway, the calls past the
// table must end local at once, not wait for a mock that cannot accept
// and time out as if the target were slow.
func TestRunWideAnswerIsLocal(t *testing.T) {
	t.Parallel()
	var calls strings.Builder
	for i := range 400 {
		fmt.Fprintf(&calls, "            - {name: get_weather, arguments: {location: c%d}}\n", i)
	}
	body := strings.Replace(crowdScenario,
		"        - tool_calls: [{name: get_weather, arguments: {location: Hanoi}}]\n",
		"        - tool_calls:\n"+calls.String(), 1)
	body = strings.Replace(body, "{rate: 250, duration: 2s}]\n  max_in_flight: 500", "{rate: 1, duration: 1s}]\n  max_in_flight: 1", 1)
	body = strings.Replace(body, "timeout: 30s", "timeout: 5s\n  limits: {max_tool_calls: 400, max_mcp_in_flight_per_conversation: 400}", 1)
	sc := writeScenario(t, body)

	dir := filepath.Join(t.TempDir(), "refused")
	code, _, stderr := runLimited(t, "256:256", "run", sc, "--out", dir, "--progress", "off")
	if code != exitInvalid || !strings.Contains(stderr, "1 × (400 connections + 400 sockets of the in-process mock)") ||
		!strings.Contains(stderr, "Raise the hard limit to at least 864") {
		t.Fatalf("exit %d, want %d and the arithmetic:\n%s", code, exitInvalid, stderr)
	}

	dir = filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runLimited(t, "256:256", "run", sc, "--out", dir, "--progress", "off", "--fd-check=false")
	if code != exitPass {
		t.Fatalf("exit %d, want %d:\n%s\n%s", code, exitPass, stdout, stderr)
	}
	s := readSummary(t, dir)
	by := s.Attempts.ByOutcome
	if by[record.OutcomeLocal] == 0 || by[record.OutcomeTimeout] != 0 || by[record.OutcomeConnection] != 0 {
		t.Errorf("attempts by outcome %v: want local, and no timeout or connection", by)
	}
}
