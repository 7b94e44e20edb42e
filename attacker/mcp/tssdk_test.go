package mcp

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/nodetest"
	"github.com/mcpload/mcpload/record"
)

// startTSSDKServer runs testdata/tssdk-server.cjs, an MCP server on the
// official TypeScript SDK's Streamable HTTP transport (mode stateful or
// stateless, response json or sse), and returns its URL.
func startTSSDKServer(t *testing.T, mode, response string) string {
	t.Helper()
	node, sdkDir := nodetest.Module(t, filepath.Join("..", ".."), "@modelcontextprotocol/sdk", "")
	mods := filepath.Dir(filepath.Dir(sdkDir)) // node_modules
	cmd := exec.Command(node, filepath.Join("testdata", "tssdk-server.cjs"), mode, response)
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				port <- p
			}
		}
	}()
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p + "/mcp"
	case <-time.After(2 * time.Minute): // node starts slowly on a loaded machine
		t.Fatal("the TypeScript SDK server did not start")
		return ""
	}
}

// TestTypeScriptSDKServer: mcpload's Streamable HTTP client against the
// TypeScript SDK's server, stateful and stateless, JSON and SSE answers,
// in the initialize lane and under auto (which the SDK, knowing no
// server/discover, answers so that auto falls back to initialize).
func TestTypeScriptSDKServer(t *testing.T) {
	for _, mode := range []string{"stateful", "stateless"} {
		for _, response := range []string{"json", "sse"} {
			t.Run(mode+"/"+response, func(t *testing.T) {
				url := startTSSDKServer(t, mode, response)
				for _, protocol := range []string{"", ProtocolAuto} {
					c := NewStreamable(testHTTPClient(t), "ts", url, 30*time.Second, nopRedactor{})
					c.Protocol = protocol
					sink := &testSink{}
					ctx := context.Background()
					s, hs := c.Handshake(ctx, 1, 0, sink)
					if s == nil {
						t.Fatalf("%q: handshake: %+v %+v", protocol, hs, sink.attempts)
					}
					if s.Version() != ProtocolVersion {
						t.Fatalf("%q: version %q", protocol, s.Version())
					}
					if id := s.(*httpSession).ID(); (id != "") != (mode == "stateful") {
						t.Fatalf("%q: session id %q on a %s server", protocol, id, mode)
					}
					r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"hi"}`), false), sink)
					if r.Outcome != record.OutcomeOK || r.Text != "echo: hi" {
						t.Fatalf("%q: echo: %s %q %q", protocol, r.Outcome, r.Text, r.Err)
					}
					if r := c.Call(ctx, s, 1, 2, ToolCall("broken", []byte(`{}`), false), sink); r.Outcome != record.OutcomeToolError || !strings.Contains(r.Text, "disk on fire") {
						t.Fatalf("%q: broken: %s %q %q", protocol, r.Outcome, r.Text, r.Err)
					}
					if ex := c.End(ctx, s, 1, 3, sink); ex.Outcome != record.OutcomeOK {
						t.Fatalf("%q: end: %+v", protocol, ex)
					}
					var keys []string
					for _, a := range sink.attempts {
						keys = append(keys, strings.TrimPrefix(a.Key, "mcp:ts/"))
						if a.Outcome != record.OutcomeOK && a.Key != "tool:broken" {
							t.Errorf("%q: attempt %s: %s %q", protocol, a.Key, a.Outcome, a.Error)
						}
					}
					want := "initialize,initialized,tool:echo,tool:broken"
					if protocol == ProtocolAuto {
						want = "discover," + want
					}
					if mode == "stateful" {
						want += ",delete"
					}
					if got := strings.Join(keys, ","); got != want {
						t.Fatalf("%q: attempts %s, want %s", protocol, got, want)
					}
				}
			})
		}
	}
}
