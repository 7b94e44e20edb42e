package attacker

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/scenarios"
)

// TestHostileMCPServer runs conversations whose tool calls go to an MCP
// server that misbehaves after a correct handshake. Each misbehaviour ends
// the tool call with its class, within its bound, and the run completes
// with its folder; no key the server echoes reaches the folder.
func TestHostileMCPServer(t *testing.T) {
	const key = "sk-h0st1le-mcp-0123456789abcdef"
	for _, tc := range []struct {
		name    string
		call    hostile.MCPCall
		outcome string
		errHas  string
	}{
		{"endless stream", hostile.MCPEndlessStream(64 << 10), record.OutcomeProtocol, "max_response_bytes"},
		{"huge result", hostile.MCPHugeResult(2 << 20), record.OutcomeProtocol, "max_response_bytes"},
		{"wrong id", hostile.MCPWrongID(), record.OutcomeProtocol, "id"},
		{"stalled body", hostile.MCPStall(time.Minute), record.OutcomeTimeout, ""},
		{"key in error", hostile.MCPKeyInError(key), record.OutcomeProtocol, "-32603"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(hostile.MCPServer(tc.call))
			t.Cleanup(srv.Close)
			// The mock plays the model at a URL of its own, as a real
			// provider with a key: the key mcpload must keep.
			scenario := func(base string) *scenarios.Scenario {
				sc, err := scenarios.Parse("hostile-mcp.yaml", hostile.MCPScenario(base, srv.URL+"/mcp", 4, "1s", "5s",
					"  limits: {max_response_bytes: 1048576}\n"))
				if err != nil {
					t.Fatal(err)
				}
				return sc
			}
			mock, err := mockprovider.New(scenario(scenarios.MockURL))
			if err != nil {
				t.Fatal(err)
			}
			ms := httptest.NewServer(mock.Handler())
			t.Cleanup(ms.Close)
			sc := scenario(ms.URL + "/providers/p/v1")
			dir := filepath.Join(t.TempDir(), "run")
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			start := time.Now()
			run, err := Run(ctx, sc, dir, WithInterval(100*time.Millisecond),
				WithGetenv(func(string) string { return key }))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			// Four conversations over 1 s, each bounded by the 5 s timeout.
			if took := time.Since(start); run.Status != record.StatusComplete || run.Conversations.Started != 4 || took > 30*time.Second {
				t.Fatalf("run %s, %d conversations started, %v", run.Status, run.Conversations.Started, took)
			}
			if _, err := report.Write(dir); err != nil {
				t.Fatalf("report: %v", err)
			}
			calls := 0
			for _, a := range readAttempts(t, dir) {
				if a.Key != "tool:get_weather" {
					continue
				}
				calls++
				if a.Outcome != tc.outcome || !strings.Contains(a.Error, tc.errHas) {
					t.Errorf("tool attempt: outcome %s, error %q; want %s with %q", a.Outcome, a.Error, tc.outcome, tc.errHas)
				}
				if a.BytesIn > 1<<20+64<<10 {
					t.Errorf("tool attempt read %d bytes, past max_response_bytes", a.BytesIn)
				}
			}
			if calls != 4 {
				t.Errorf("%d tool attempts, want one per conversation", calls)
			}
			if r := readRun(t, dir); r.Conversations.Failed != 4 {
				t.Errorf("conversations %+v: each met the misbehaving tool", r.Conversations)
			}
			leaks, files, err := hostile.KeyInFiles(dir, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(leaks) > 0 || files == 0 {
				t.Errorf("the key leaked into %v (of %d files)", leaks, files)
			}
		})
	}
}
