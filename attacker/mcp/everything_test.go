package mcp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// requireEverythingEnv makes a missing server-everything a failure, not a
// skip: `make test` sets it, after `make node` installs it.
const requireEverythingEnv = "MCPLOAD_REQUIRE_NODE"

// everythingBin is where `make node` installs the reference MCP server,
// @modelcontextprotocol/server-everything.
var everythingBin = filepath.Join("..", "..", ".cache", "node", "node_modules", ".bin", "mcp-server-everything")

// TestStdioServerEverything runs the MCP reference server (TypeScript SDK)
// over stdio: a handshake, its tool list measured, a call of echo.
func TestStdioServerEverything(t *testing.T) {
	if _, err := os.Stat(everythingBin); err != nil {
		if os.Getenv(requireEverythingEnv) == "1" {
			t.Fatalf("%s=1 but %s is missing (make node installs it): %v", requireEverythingEnv, everythingBin, err)
		}
		t.Skipf("no %s (make node installs it)", everythingBin)
	}
	bin, _ := filepath.Abs(everythingBin)
	c := NewStdio("everything", []string{bin, "stdio"}, nil, "", t.TempDir(), 30*time.Second, nopRedactor{})
	t.Cleanup(func() { c.Close() })
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	list := c.Call(ctx, s, 1, 1, &Request{Method: "tools/list", Key: "mcp:everything/tools/list", Kind: record.StepMCP, What: "tools/list"}, sink)
	if list.Outcome != record.OutcomeOK || list.Schema == nil || list.Schema.Tools == 0 {
		t.Fatalf("tools/list: %s %q %+v", list.Outcome, list.Err, list.Schema)
	}
	r := c.Call(ctx, s, 1, 2, ToolCall("echo", []byte(`{"message":"hi"}`), false), sink)
	if r.Outcome != record.OutcomeOK || !strings.Contains(r.Text, "hi") {
		t.Fatalf("echo: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	t.Logf("server-everything %s: %d tools; echo said %q", s.Version(), list.Schema.Tools, r.Text)
	if ex := c.End(ctx, s, 1, 3, sink); ex.Outcome != record.OutcomeOK {
		t.Fatalf("end: %+v", ex)
	}
}
