package mcp

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
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
	bin := everythingOrSkip(t)
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

// everythingCaps declares what server-everything's client tools need:
// roots, sampling, and an elicitation whose content fills the form's one
// required field.
func everythingCaps(t *testing.T) *Capabilities {
	t.Helper()
	caps, err := NewCapabilities(&scenarios.MCPClientCaps{
		Roots:       []scenarios.MCPRoot{{URI: "file:///work/repo", Name: "repo"}},
		Sampling:    &scenarios.MCPSampling{Text: "forty-two"},
		Elicitation: &scenarios.MCPElicitation{Content: map[string]any{"name": "Ada"}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

// everythingOrSkip returns server-everything's absolute path, or skips.
func everythingOrSkip(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(everythingBin); err != nil {
		if os.Getenv(requireEverythingEnv) == "1" {
			t.Fatalf("%s=1 but %s is missing (make node installs it): %v", requireEverythingEnv, everythingBin, err)
		}
		t.Skipf("no %s (make node installs it)", everythingBin)
	}
	bin, _ := filepath.Abs(everythingBin)
	return bin
}

// startEverythingHTTP runs server-everything's Streamable HTTP transport
// on a free loopback port and returns its URL once it answers.
func startEverythingHTTP(t *testing.T, bin string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "streamableHttp")
	cmd.Env = append(os.Environ(), "PORT="+port)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://127.0.0.1:" + port + "/mcp"
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if conn, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			conn.Close()
			return url
		}
	}
	t.Fatalf("server-everything did not listen on %s", port)
	return ""
}

// TestServerEverythingClientRequests runs server-everything's tools that
// need the client over stdio and over Streamable HTTP: with roots,
// sampling and elicitation declared, it shows the tools it hides from a
// client that declares nothing, and each is answered as scripted; a long
// operation reports progress.
func TestServerEverythingClientRequests(t *testing.T) {
	bin := everythingOrSkip(t)
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			var c Client
			if transport == "stdio" {
				sc := NewStdio("everything", []string{bin, "stdio"}, nil, "", t.TempDir(), 30*time.Second, nopRedactor{})
				sc.SetCapabilities(everythingCaps(t))
				c = sc
			} else {
				hc := NewStreamable(testHTTPClient(t), "everything", startEverythingHTTP(t, bin), 30*time.Second, nopRedactor{})
				hc.SetCapabilities(everythingCaps(t))
				c = hc
			}
			t.Cleanup(func() { c.Close() })
			sink := &testSink{}
			ctx := context.Background()
			s, hs := c.Handshake(ctx, 1, 0, sink)
			if s == nil {
				t.Fatalf("handshake: %+v", hs)
			}
			list := c.Call(ctx, s, 1, 1, &Request{Method: "tools/list", Key: "mcp:everything/tools/list", Kind: record.StepMCP, What: "tools/list"}, sink)
			if list.Outcome != record.OutcomeOK {
				t.Fatalf("tools/list: %s %q", list.Outcome, list.Err)
			}
			for i, tc := range []struct{ tool, args, want string }{
				{"trigger-sampling-request", `{"prompt":"meaning?"}`, "forty-two"},
				{"trigger-elicitation-request", `{}`, "Name: Ada"},
				{"get-roots-list", `{}`, "file:///work/repo"},
			} {
				r := c.Call(ctx, s, 1, 2+i, ToolCall(tc.tool, []byte(tc.args), false), sink)
				if r.Outcome != record.OutcomeOK || !strings.Contains(r.Text, tc.want) {
					t.Errorf("%s: %s %q %q", tc.tool, r.Outcome, r.Text, r.Err)
				}
			}
			long := c.Call(ctx, s, 1, 9, ToolCall("trigger-long-running-operation", []byte(`{"duration":0.4,"steps":2}`), true), sink)
			if long.Outcome != record.OutcomeOK || long.Progress < 2 {
				t.Errorf("long operation: %s, %d progress notifications, %q", long.Outcome, long.Progress, long.Err)
			}
			got := settledAnswers(sink, "everything", 2)
			for _, m := range []string{"sampling/createMessage", "elicitation/create"} {
				if !strings.HasPrefix(got[m], "ok") {
					t.Errorf("server_request %s: %q (all: %v)", m, got[m], got)
				}
			}
			t.Logf("server-everything over %s: %d tools; server requests %v", transport, list.Schema.Tools, got)
			c.End(ctx, s, 1, 10, sink)
		})
	}
}
