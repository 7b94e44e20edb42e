package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
)

// hostileKey is the key the hostile targets are sent and try to leak; its
// first 8 characters are what the scans look for, since every longer
// prefix holds them.
const hostileKey = "sk-h0st1le-9f8e7d6c5b4a3210zyxwvu"

// hostileProcess runs the mcpload binary with the hostile key in its
// environment. The exit code is the run's verdict; the leak is the test.
func hostileProcess(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	_, stdout, stderr = mcploadProcessEnv(t, []string{hostile.KeyEnv + "=" + hostileKey}, args...)
	return stdout, stderr
}

// TestKeyNamedToolLeaksNothingEndToEnd runs the mcpload binary against a
// model that names its tool call after the key, renders the reports, and
// looks for the key in the binary's output, in every file of the run
// folder and in every file name.
func TestKeyNamedToolLeaksNothingEndToEnd(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	srv := httptest.NewServer(hostile.KeyTool(hostileKey))
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "run")
	path := writeScenario(t, hostile.Scenario(srv.URL+"/v1", "10", "2s", ""))
	out1, err1 := hostileProcess(t, "run", path, "--out", dir, "--progress", "on")
	out2, err2 := hostileProcess(t, "report", dir)
	files := noSecretIn(t, hostileKey, dir, map[string]string{"run stdout": out1, "run stderr": err1, "report stdout": out2, "report stderr": err2})
	if !strings.Contains(out1+err1, "tool_error") {
		t.Errorf("the run did not meet the key-named tool:\n%s\n%s", out1, err1)
	}
	for _, f := range []string{"report.html", "report.md", record.SummaryFile, record.HistogramsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("no %s to scan: %v", f, err)
		}
	}
	t.Logf("%d files scanned", files)
}

// TestHostileUsageCannotDefeatTheSpendCap: a provider answers with a
// million prompt tokens, and every other answer with minus 900 million,
// which summed would price the run below zero and keep it under any cap.
// The negative answers are bad_usage and count nothing: the cost is the
// good answers', and the cap stops the run.
func TestHostileUsageCannotDefeatTheSpendCap(t *testing.T) {
	srv := httptest.NewServer(&hostile.Usage{Prompt: "-900000000", Completion: "1", Every: 2, Good: "1000000"})
	defer srv.Close()
	t.Setenv(hostile.KeyEnv, hostileKey)
	dir := filepath.Join(t.TempDir(), "run")
	path := writeScenario(t, hostile.Scenario(srv.URL+"/v1", "10", "20s", "budget:\n  max_usd: 1\n"))
	run, s := runToSpendCap(t, dir, path)
	if s.Cost == nil || !(s.Cost.TotalUSD >= 1) {
		t.Fatalf("cost %+v: want at least the cap", s.Cost)
	}
	if s.Tokens.Prompt < 0 || run.Attempts.ByOutcome[record.OutcomeBadUsage] == 0 {
		t.Fatalf("tokens %+v, attempts %+v: want the negative answers as bad_usage, uncounted", s.Tokens, run.Attempts.ByOutcome)
	}
}

// TestRedirectShowsInReport: a provider that answers 307 fails the run's
// conversations with outcome redirect, which the summary and the reports
// name, and the binary's output with them.
func TestRedirectShowsInReport(t *testing.T) {
	dst := httptest.NewServer(&hostile.Usage{Prompt: "10", Completion: "2"})
	defer dst.Close()
	src := httptest.NewServer(hostile.Redirect(http.StatusTemporaryRedirect, dst.URL))
	defer src.Close()
	t.Setenv(hostile.KeyEnv, hostileKey)
	dir := filepath.Join(t.TempDir(), "run")
	// No thresholds: the run passes, and says what happened.
	_, stdout, stderr := mcpload(t, "run", writeScenario(t, hostile.Scenario(src.URL+"/v1", "10", "1s", "")), "--out", dir, "--progress", "off")
	s := readSummary(t, dir)
	if c := s.Conversations; c.Started == 0 || c.ByOutcome[record.OutcomeRedirect] != c.Started {
		t.Fatalf("conversations %+v, want every one failed by a redirect; stderr:\n%s", c, stderr)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), record.OutcomeRedirect) || !strings.Contains(stdout, record.OutcomeRedirect) {
		t.Fatalf("report.md or the output does not name the redirects:\n%s\n%s", md, stdout)
	}
}
