//lint:file-ignore SA1019 the mock serves sampling and logging, deprecated in 2026-07-28 (SEP-2577) but still served and tested by MCP clients

package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// stdioMock starts `mcpload mock --stdio` as a real child process (this
// test binary re-executed as mcpload) and connects the go-sdk client to it
// over its stdin and stdout.
func stdioMock(t *testing.T, opts *mcp.ClientOptions, so *mcp.ClientSessionOptions, args ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"mock", "--stdio"}, args...)...)
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "stdio-test", Version: "1"}, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, so)
	if err != nil {
		t.Fatalf("connect to mcpload mock --stdio %v: %v\n%s", args, err, stderr.String())
	}
	t.Cleanup(func() {
		if err := cs.Close(); err != nil {
			t.Errorf("close: %v\nstderr: %s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "over stdio") {
			t.Errorf("stderr %q: want the banner there, stdout carries JSON-RPC only", stderr.String())
		}
	})
	return cs
}

// TestMockStdio drives `mcpload mock --stdio` with the go-sdk client over
// both lanes: its latest version (2026-07-28, server/discover) and the
// initialize handshake. Notifications and requests to the client travel
// over stdio too.
func TestMockStdio(t *testing.T) {
	for _, c := range []struct {
		name, ask, negotiate string
	}{{"2026-07-28", "", "2026-07-28"}, {"initialize", "2025-11-25", "2025-11-25"}} {
		t.Run(c.name, func(t *testing.T) {
			var so *mcp.ClientSessionOptions
			if c.ask != "" {
				so = &mcp.ClientSessionOptions{ProtocolVersion: c.ask}
			}
			var progress atomic.Int32
			opts := &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
				CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					return &mcp.CreateMessageResult{Content: &mcp.TextContent{Text: "sampled"}, Model: "m", Role: "assistant"}, nil
				},
			}
			cs := stdioMock(t, opts, so, "--scenario", "mcp-conformance", "--mcp-server", "conformance")
			if got := cs.InitializeResult().ProtocolVersion; got != c.negotiate {
				t.Errorf("negotiated %q, want %q", got, c.negotiate)
			}
			if info := cs.InitializeResult().ServerInfo; info == nil || info.Name != "mcpload-mock/conformance" {
				t.Errorf("server info %+v", info)
			}
			ctx := context.Background()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_simple_text"})
			if err != nil || res.Content[0].(*mcp.TextContent).Text != "This is a simple text response for testing." {
				t.Fatalf("test_simple_text: %v %+v", err, res)
			}
			p := &mcp.CallToolParams{Name: "test_tool_with_progress"}
			p.SetProgressToken(1)
			if _, err := cs.CallTool(ctx, p); err != nil || progress.Load() != 3 {
				t.Errorf("progress: %v, %d notifications, want 3", err, progress.Load())
			}
			if c.ask != "" { // sampling is a request to the client: the initialize lane's
				res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "test_sampling", Arguments: map[string]any{"prompt": "hi"}})
				if err != nil || res.Content[0].(*mcp.TextContent).Text != "LLM response: sampled" {
					t.Errorf("sampling over stdio: %v %+v", err, res)
				}
			}
		})
	}
}

// TestMockStdioServers: without --mcp-server, stdio serves every tool of
// the scenario, as /mcp does; an unknown name is invalid input.
func TestMockStdioServers(t *testing.T) {
	cs := stdioMock(t, nil, nil, "--scenario", "mcp-direct")
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(list.Tools) != 2 {
		t.Fatalf("tools: %v %+v", err, list)
	}
	if name := cs.InitializeResult().ServerInfo.Name; name != "mcpload-mock" {
		t.Errorf("server %q, want the server of every tool", name)
	}

	code, _, stderr := mcploadProcess(t, "mock", "--stdio", "--scenario", "mcp-direct", "--mcp-server", "nope")
	if code != exitInvalid || !strings.Contains(stderr, `--mcp-server "nope"`) || !strings.Contains(stderr, "mock servers: tools") {
		t.Errorf("unknown server: exit %d, %s", code, stderr)
	}
	code, _, stderr = mcploadProcess(t, "mock", "--scenario", "mcp-direct", "--mcp-server", "tools")
	if code != exitInvalid || !strings.Contains(stderr, "--mcp-server applies to --stdio") {
		t.Errorf("--mcp-server over HTTP: exit %d, %s", code, stderr)
	}
}
