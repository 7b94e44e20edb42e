package mcp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
)

// stdioServerEnv makes the test binary an MCP stdio server: the go-sdk's
// server on StdioTransport (see TestMain).
const stdioServerEnv = "MCPLOAD_TEST_STDIO_SERVER"

// stdioServerOld, as stdioServerEnv's value, serves only the initialize
// lane (2025-11-25 and 2025-06-18), as a server before 2026-07-28 does.
const stdioServerOld = "old"

func TestMain(m *testing.M) {
	if os.Getenv(stdioServerEnv) != "" {
		runStdioServer()
		return
	}
	os.Exit(m.Run())
}

type echoIn struct {
	Text string `json:"text,omitempty"`
}

// runStdioServer serves echo, broken (an error), crash (exits mid-call),
// garbage (prints a line that is not JSON-RPC), shout (writes stderr) and
// pid (its process id), until stdin closes.
func runStdioServer() {
	var opts *sdk.ServerOptions
	if os.Getenv(stdioServerEnv) == stdioServerOld {
		opts = &sdk.ServerOptions{SupportedProtocolVersions: []string{ProtocolVersion, "2025-06-18"}}
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "stdio-test", Version: "1"}, opts)
	text := func(t string) *sdk.CallToolResult {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: t}}}
	}
	sdk.AddTool(s, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return text("echo: " + in.Text), nil, nil
	})
	sdk.AddTool(s, &sdk.Tool{Name: "broken"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return nil, nil, errors.New("disk on fire")
	})
	sdk.AddTool(s, &sdk.Tool{Name: "crash"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		os.Exit(3)
		return nil, nil, nil
	})
	sdk.AddTool(s, &sdk.Tool{Name: "garbage"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		os.Stdout.WriteString("this is not json\n")
		time.Sleep(time.Second)
		return text("late"), nil, nil
	})
	sdk.AddTool(s, &sdk.Tool{Name: "shout"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		os.Stderr.WriteString(strings.Repeat("x", 3*MaxStderrBytes))
		return text("shouted"), nil, nil
	})
	sdk.AddTool(s, &sdk.Tool{Name: "pid"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return text(fmt.Sprint(os.Getpid())), nil, nil
	})
	sdk.AddTool(s, &sdk.Tool{Name: "ask"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		answer, refused := askDirect(ctx, req.Session)
		if len(refused) > 0 {
			answer += "; refused: " + strings.Join(refused, "; ")
		}
		return text(answer), nil, nil
	})
	addMRTR(s)
	if err := s.Run(context.Background(), &sdk.StdioTransport{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// testStdio returns a client that runs this test binary as its server.
func testStdio(t *testing.T, stderrDir string) *Stdio {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := NewStdio("sdk", []string{exe}, map[string]string{stdioServerEnv: "1"}, "", stderrDir, 10*time.Second, nopRedactor{})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestStdioLanes: over stdio, each protocol setting opens the lane it
// names against the go-sdk's server, every MCP attempt records the lane
// it spoke, and auto falls back to initialize on a server that does not
// speak 2026-07-28.
func TestStdioLanes(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		server, protocol string
		discover         bool
		want             string   // the session's version
		keys             []string // the session attempts, in order
	}{
		{"1", ProtocolStateless, false, ProtocolStateless, []string{"mcp:sdk/spawn"}},
		{"1", ProtocolStateless, true, ProtocolStateless, []string{"mcp:sdk/spawn", "mcp:sdk/discover"}},
		{"1", ProtocolAuto, false, ProtocolStateless, []string{"mcp:sdk/spawn", "mcp:sdk/discover"}},
		{stdioServerOld, ProtocolAuto, false, ProtocolVersion, []string{"mcp:sdk/spawn", "mcp:sdk/discover", "mcp:sdk/initialize", "mcp:sdk/initialized"}},
		{"1", "2025-06-18", false, "2025-06-18", []string{"mcp:sdk/spawn", "mcp:sdk/initialize", "mcp:sdk/initialized"}},
		{"1", "", false, ProtocolVersion, []string{"mcp:sdk/spawn", "mcp:sdk/initialize", "mcp:sdk/initialized"}},
	}
	for _, tc := range cases {
		t.Run(tc.server+"/"+tc.protocol, func(t *testing.T) {
			c := NewStdio("sdk", []string{exe}, map[string]string{stdioServerEnv: tc.server}, "", "", 10*time.Second, nopRedactor{})
			t.Cleanup(func() { c.Close() })
			c.Protocol, c.Discover = tc.protocol, tc.discover
			sink := &testSink{}
			ctx := context.Background()
			s, hs := c.Handshake(ctx, 1, 0, sink)
			if s == nil {
				t.Fatalf("handshake: %+v %+v", hs, sink.attempts)
			}
			if s.Version() != tc.want {
				t.Fatalf("version %q, want %q", s.Version(), tc.want)
			}
			r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"lane"}`), false), sink)
			if r.Outcome != record.OutcomeOK || r.Text != "echo: lane" {
				t.Fatalf("echo: %s %q %q", r.Outcome, r.Text, r.Err)
			}
			c.End(ctx, s, 1, 2, nil)
			var keys []string
			for _, a := range sink.attempts {
				if a.Outcome != record.OutcomeOK {
					t.Errorf("attempt %s: %s %q", a.Key, a.Outcome, a.Error)
				}
				if a.Kind == record.KindSession {
					keys = append(keys, a.Key)
				}
				// spawn precedes any lane; a refused discover was spoken
				// before the lane was known.
				want := tc.want
				if a.Key == "mcp:sdk/spawn" || a.Key == "mcp:sdk/discover" && tc.want != ProtocolStateless {
					want = ""
				}
				if a.MCPProtocol != want {
					t.Errorf("attempt %s records lane %q, want %q", a.Key, a.MCPProtocol, want)
				}
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.keys) {
				t.Fatalf("session attempts %v, want %v", keys, tc.keys)
			}
		})
	}
}

// alive reports whether process pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func (s *testSink) count(kind, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.attempts {
		if a.Kind == kind && a.Key == key {
			n++
		}
	}
	return n
}

// TestStdioAgainstSDKServer: spawn and handshake under their own keys,
// calls multiplexed on one process from many goroutines, a tool error, an
// unknown tool, a capped stderr log, and End leaving no process.
func TestStdioAgainstSDKServer(t *testing.T) {
	dir := t.TempDir()
	c := testStdio(t, dir)
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	if s.Version() != ProtocolVersion {
		t.Fatalf("version %q", s.Version())
	}
	for _, key := range []string{"mcp:sdk/spawn", "mcp:sdk/initialize", "mcp:sdk/initialized"} {
		if n := sink.count(record.KindSession, key); n != 1 {
			t.Fatalf("%s attempts: %d", key, n)
		}
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			want := fmt.Sprint("hi", i)
			r := c.Call(ctx, s, uint64(i), 1, ToolCall("echo", []byte(`{"text":"`+want+`"}`), false), sink)
			if r.Outcome != record.OutcomeOK || r.Text != "echo: "+want || r.BytesIn == 0 {
				t.Errorf("echo %d: %s %q %q", i, r.Outcome, r.Text, r.Err)
			}
		})
	}
	wg.Wait()
	// Pretty-printed arguments must not break the line framing.
	if r := c.Call(ctx, s, 1, 2, ToolCall("echo", []byte("{\n  \"text\": \"multi\"\n}"), false), sink); r.Outcome != record.OutcomeOK || r.Text != "echo: multi" {
		t.Fatalf("pretty arguments: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	if r := c.Call(ctx, s, 1, 2, ToolCall("broken", nil, false), sink); r.Outcome != record.OutcomeToolError || !strings.Contains(r.Text, "disk on fire") {
		t.Fatalf("broken: %s %q", r.Outcome, r.Text)
	}
	if r := c.Call(ctx, s, 1, 3, ToolCall("nope", nil, false), sink); r.Outcome != record.OutcomeToolError || r.RPCCode != record.RPCInvalidParams {
		t.Fatalf("unknown tool: %s %d %q", r.Outcome, r.RPCCode, r.Err)
	}
	if r := c.Call(ctx, s, 1, 4, ToolCall("shout", nil, false), sink); r.Outcome != record.OutcomeOK {
		t.Fatalf("shout: %s %q", r.Outcome, r.Err)
	}
	r := c.Call(ctx, s, 1, 5, ToolCall("pid", nil, false), sink)
	var pid int
	if _, err := fmt.Sscan(r.Text, &pid); err != nil || !alive(pid) {
		t.Fatalf("pid %q: %v", r.Text, err)
	}
	if ex := c.End(ctx, s, 1, 6, sink); ex.Outcome != record.OutcomeOK {
		t.Fatalf("end: %+v", ex)
	}
	if n := sink.count(record.KindSession, "mcp:sdk/exit"); n != 1 {
		t.Fatalf("exit attempts: %d", n)
	}
	waitGone(t, pid)
	if !s.Expired() {
		t.Fatal("an ended session is not expired")
	}
	st, err := os.Stat(filepath.Join(dir, "sdk-1.log"))
	if err != nil || st.Size() != MaxStderrBytes {
		t.Fatalf("stderr log: %v, %d bytes, want %d", err, st.Size(), MaxStderrBytes)
	}
}

// waitGone waits for process pid to be gone (reaped by the client).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStdioMisbehavingServer: a server that crashes mid-call, or prints a
// line that is not JSON-RPC, is a protocol failure of that call, its
// session expires, and a new handshake starts a new process.
func TestStdioMisbehavingServer(t *testing.T) {
	for _, tc := range []struct{ tool, want string }{
		{"crash", "server process exited: exit status 3"},
		{"garbage", "not JSON-RPC: this is not json"},
	} {
		t.Run(tc.tool, func(t *testing.T) {
			c := testStdio(t, "")
			sink := &testSink{}
			ctx := context.Background()
			s, hs := c.Handshake(ctx, 1, 0, sink)
			if s == nil {
				t.Fatalf("handshake: %+v", hs)
			}
			pid := s.(*stdioSession).cmd.Process.Pid
			r := c.Call(ctx, s, 1, 1, ToolCall(tc.tool, nil, false), sink)
			if r.Outcome != record.OutcomeProtocol || !strings.Contains(r.Err, tc.want) {
				t.Fatalf("outcome %s, err %q; want protocol, %q", r.Outcome, r.Err, tc.want)
			}
			if !s.Expired() {
				t.Fatal("session not expired")
			}
			waitGone(t, pid)
			if r := c.Call(ctx, s, 1, 2, ToolCall("echo", nil, false), sink); r.Outcome == record.OutcomeOK {
				t.Fatal("a call on a dead session succeeded")
			}
			p := NewPool(c)
			s2, _ := p.Get(ctx, 0, 2, 0, sink)
			if s2 == nil || s2.Expired() {
				t.Fatal("no new session")
			}
			if r := c.Call(ctx, s2, 2, 1, ToolCall("echo", []byte(`{"text":"again"}`), false), sink); r.Outcome != record.OutcomeOK {
				t.Fatalf("after respawn: %s %q", r.Outcome, r.Err)
			}
			p.Close(ctx)
		})
	}
}

// TestStdioLineBound: a response line over max_response_bytes ends the
// session as a protocol failure, without reading it all.
func TestStdioLineBound(t *testing.T) {
	c := testStdio(t, "")
	c.MaxBytes = 256
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"`+strings.Repeat("y", 1000)+`"}`), false), sink)
	if r.Outcome != record.OutcomeProtocol || !strings.Contains(r.Err, "max_response_bytes") {
		t.Fatalf("outcome %s, err %q", r.Outcome, r.Err)
	}
}

// TestStdioSpawnFailure: a program that does not exist is a connection
// failure of the spawn attempt, with no session.
func TestStdioSpawnFailure(t *testing.T) {
	c := NewStdio("none", []string{filepath.Join(t.TempDir(), "no-such-server")}, nil, "", "", time.Second, nopRedactor{})
	sink := &testSink{}
	s, hs := c.Handshake(context.Background(), 1, 0, sink)
	if s != nil || hs.Outcome != record.OutcomeConnection || sink.count(record.KindSession, "mcp:none/spawn") != 1 {
		t.Fatalf("session %v, %+v", s, hs)
	}
}

// TestStdioCloseKillsProcesses: Close kills every process still running,
// the server's children included (its process group).
func TestStdioCloseKillsProcesses(t *testing.T) {
	c := testStdio(t, "")
	sink := &testSink{}
	ctx := context.Background()
	var pids []int
	for i := range 3 {
		s, hs := c.Handshake(ctx, uint64(i), 0, sink)
		if s == nil {
			t.Fatalf("handshake: %+v", hs)
		}
		pids = append(pids, s.(*stdioSession).cmd.Process.Pid)
	}
	c.Close()
	for _, pid := range pids {
		waitGone(t, pid)
	}
}

// TestStdioStderrLogsOfLanes: two clients of one server (two lanes of a
// run) writing into one folder keep a log each, neither overwritten.
func TestStdioStderrLogsOfLanes(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	for range 2 {
		c := testStdio(t, dir)
		s, hs := c.Handshake(ctx, 1, 0, &testSink{})
		if s == nil {
			t.Fatalf("handshake: %+v", hs)
		}
		if r := c.Call(ctx, s, 1, 1, ToolCall("shout", nil, false), &testSink{}); r.Outcome != record.OutcomeOK {
			t.Fatalf("shout: %s %q", r.Outcome, r.Err)
		}
		c.End(ctx, s, 1, 2, nil)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "sdk-*.log"))
	if len(logs) != 2 {
		t.Fatalf("logs %v, want 2", logs)
	}
	for _, l := range logs {
		if st, err := os.Stat(l); err != nil || st.Size() != MaxStderrBytes {
			t.Fatalf("%s: %v %v", l, err, st)
		}
	}
}
