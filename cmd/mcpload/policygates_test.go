package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	comparereport "github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// embeddedWith is the embedded scenario name with more YAML appended.
func embeddedWith(t *testing.T, name, more string) string {
	t.Helper()
	b, err := fs.ReadFile(scenarios.EmbeddedFS(), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return writeScenario(t, string(b)+"\n"+more)
}

// TestRunMCPDirectOpGate gates an MCP-direct operation other than
// tools/call end to end: resources/read of the mock passes a loose p95
// and fails a median no server can meet.
func TestRunMCPDirectOpGate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pass")
	path := embeddedWith(t, "mcp-depth", "thresholds:\n  - step.mcp{op=resources/read}.p95 < 5s\n  - 'step.mcp{uri=docs://runbooks/retries}.count > 0'\n")
	code, stdout, stderr := mcpload(t, "run", path, "--duration", "1s", "--seed", "3", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitPass, stdout, stderr)
	}
	s := readSummary(t, dir)
	if len(s.Thresholds) != 2 || !s.Thresholds[0].Pass || s.Thresholds[1].Value == 0 {
		t.Fatalf("thresholds = %+v, want both measured on resources/read", s.Thresholds)
	}

	dir = filepath.Join(t.TempDir(), "fail")
	path = embeddedWith(t, "mcp-depth", "thresholds:\n  - step.mcp{op=resources/read}.p50 < 1us\n")
	code, _, stderr = mcpload(t, "run", path, "--duration", "1s", "--seed", "3", "--out", dir, "--progress", "off")
	if code != exitThresholds || !strings.Contains(stderr, "step.mcp{op=resources/read}.p50 < 1us (measured ") {
		t.Fatalf("exit %d, want %d with the measured median\n%s", code, exitThresholds, stderr)
	}
}

// policyGates is a comparison of two policies on the quickstart: "gated"
// with its own thresholds and expect: fail, "plain" with the scenario's.
func policyGates(t *testing.T, gated string) string {
	t.Helper()
	b, err := fs.ReadFile(scenarios.EmbeddedFS(), "quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The scenario's own thresholds, loose enough for a loaded machine:
	// the plain policy must pass them, whatever else runs beside it.
	src, _, found := strings.Cut(string(b), "\nthresholds:")
	if !found {
		t.Fatal("quickstart.yaml has no thresholds: section")
	}
	return writeScenario(t, src+"\nthresholds:\n  - success_rate >= 99%\n  - conversation.p99 < 30s\n"+"policies:\n"+
		"  - name: baseline\n"+
		"    description: the baseline meant to lose\n"+
		"    client: {timeout: 5s}\n"+
		"    thresholds: ['"+gated+"']\n"+
		"    expect: fail\n"+
		"  - name: plain\n"+
		"    client: {timeout: 5s}\n")
}

func readComparison(t *testing.T, dir string) map[string]comparereport.PolicyRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "comparison.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cmp comparereport.Comparison
	if err := json.Unmarshal(b, &cmp); err != nil {
		t.Fatal(err)
	}
	rows := map[string]comparereport.PolicyRow{}
	for _, r := range cmp.Policies {
		rows[r.Name] = r
	}
	return rows
}

// TestRunPolicyExpectFail: a policy with expect: fail that fails its own
// thresholds leaves the comparison passing (exit 0); once it passes them,
// the comparison fails (exit 3). The tables say which.
func TestRunPolicyExpectFail(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "expected")
	// The mock answers in tens of ms: a 1 ms median cannot hold.
	code, stdout, stderr := mcpload(t, "run", policyGates(t, "conversation.p50 < 1ms"), "--duration", "1s", "--seed", "7", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d, want %d: the baseline failed, as it expects\n%s\n%s", code, exitPass, stdout, stderr)
	}
	rows := readComparison(t, dir)
	if b := rows["baseline"]; b.Verdict != thresholds.VerdictExpectedFail || !b.ExpectationMet || b.Expect != "fail" || b.Thresholds != 1 || b.ThresholdsFailed != 1 || b.Status != "complete" {
		t.Errorf("baseline row = %+v", b)
	}
	if p := rows["plain"]; p.Verdict != thresholds.VerdictPass || !p.ExpectationMet || p.Expect != "pass" || p.Thresholds < 2 {
		t.Errorf("plain row (the scenario's thresholds) = %+v", p)
	}
	md, err := os.ReadFile(filepath.Join(dir, "comparison.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{stdout, string(md)} {
		for _, want := range []string{"status", "verdict", "complete", "expected fail (1 of 1 failed)", "Gate: PASS"} {
			if !strings.Contains(out, want) {
				t.Errorf("the comparison lacks %q:\n%s", want, out)
			}
		}
	}

	dir = filepath.Join(t.TempDir(), "unexpected")
	code, stdout, stderr = mcpload(t, "run", policyGates(t, "conversation.p50 < 60s"), "--duration", "1s", "--seed", "7", "--out", dir, "--progress", "off")
	if code != exitThresholds || !strings.Contains(stderr, "policy baseline passed its 1 thresholds, but expects to fail") {
		t.Fatalf("exit %d, want %d: the baseline no longer loses\n%s", code, exitThresholds, stderr)
	}
	if b := readComparison(t, dir)["baseline"]; b.Verdict != thresholds.VerdictUnexpectedPass || b.ExpectationMet {
		t.Errorf("baseline row = %+v", b)
	}
	if !strings.Contains(stdout, "unexpected pass") || !strings.Contains(stdout, "Gate: FAIL: 1 of 2 policies missed their expectation: baseline (expected to fail, but passed)") {
		t.Errorf("the table does not show the unexpected pass:\n%s", stdout)
	}
}

// TestValidateThresholdTypo: a mistyped tool in a threshold fails validate,
// before any load, with its place and a suggestion.
func TestValidateThresholdTypo(t *testing.T) {
	path := quickstartWith(t, "step.tool{tool=get_wether}.p95 < 1s")
	code, _, stderr := mcpload(t, "validate", path)
	if code != exitInvalid || !strings.Contains(stderr, `thresholds[0]: unknown tool "get_wether" in this scenario's runs; did you mean "get_weather"?`) {
		t.Fatalf("exit %d, want %d with the typo placed:\n%s", code, exitInvalid, stderr)
	}
}
