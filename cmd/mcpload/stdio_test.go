package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// stdioServerEnv makes the test binary a go-sdk MCP server on stdio; its
// value marks the processes of one test, so that they can be found.
const stdioServerEnv = "MCPLOAD_TEST_STDIO_SERVER"

type stdioEchoIn struct {
	Text string `json:"text,omitempty"`
}

// stubbornEnv makes the stdio server a stubborn one: it ignores SIGINT
// and SIGTERM, outlives its stdin, and starts a child of its own that does
// the same, so that only killing its process group ends them.
const stubbornEnv = "MCPLOAD_TEST_STUBBORN"

func runStdioServer() {
	if os.Getenv(stubbornEnv) != "" {
		signal.Ignore(syscall.SIGINT, syscall.SIGTERM)
		defer time.Sleep(time.Minute)
		if os.Getenv(stubbornEnv) == "1" {
			child := exec.Command(os.Args[0])
			child.Env = append(os.Environ(), stubbornEnv+"=2")
			_ = child.Start()
		}
	}
	s := sdk.NewServer(&sdk.Implementation{Name: "stdio-test", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in stdioEchoIn) (*sdk.CallToolResult, any, error) {
		time.Sleep(5 * time.Millisecond)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	_ = s.Run(context.Background(), &sdk.StdioTransport{})
}

// stdioScenario is an mcp_direct run of echo on the test binary as a
// stdio server, marked with mark.
func stdioScenario(t *testing.T, session, mark, duration string, stubborn bool) string {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: stdio
mcp_servers:
  s:
    command: [%q]
    env: {%s: %q, %s: "%s"}
tools:
  - name: echo
    inputSchema: {type: object, properties: {text: {type: string}}}
mcp_direct:
  session: %s
  mix: [{tool: echo, arguments: {text: hi}}]
load:
  max_in_flight: 3
  stages: [{rate: 40, duration: %s}]
`, os.Args[0], stdioServerEnv, mark, stubbornEnv, map[bool]string{true: "1"}[stubborn], session, duration)
	p := filepath.Join(t.TempDir(), "stdio.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// markedProcesses lists the processes whose environment holds mark.
func markedProcesses(mark string) []int {
	want := []byte(stdioServerEnv + "=" + mark + "\x00")
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && bytes.Contains(b, want) {
			if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
				continue // a zombie is gone, only not yet reaped by its parent
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestStdioSessionModes runs the built mcpload on a stdio server in each
// session mode: per_vu starts at most one process per slot, shared one,
// per_call one per operation. Each process's stderr has its log, and no
// process outlives the run.
func TestStdioSessionModes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, tc := range []struct {
		session  string
		min, max int
	}{
		{"per_vu", 1, 3},
		{"shared", 1, 1},
		{"per_call", 20, 1000},
	} {
		t.Run(tc.session, func(t *testing.T) {
			mark := fmt.Sprintf("%s-%d", tc.session, time.Now().UnixNano())
			dir := filepath.Join(t.TempDir(), "run")
			code, _, stderr := mcpload(t, "run", stdioScenario(t, tc.session, mark, "1s", false), "--out", dir, "--progress", "off")
			if code != exitPass {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			logs, _ := filepath.Glob(filepath.Join(dir, "stderr", "s-*.log"))
			if len(logs) < tc.min || len(logs) > tc.max {
				t.Fatalf("%d processes (stderr logs), want %d to %d", len(logs), tc.min, tc.max)
			}
			if pids := markedProcesses(mark); len(pids) > 0 {
				t.Fatalf("processes %v outlive the run", pids)
			}
		})
	}
}

// TestStdioServersGoneAfterInterrupt sends SIGINT to a real mcpload
// process whose stdio servers are running, stubborn ones with children of
// their own, and checks that none is left.
func TestStdioServersGoneAfterInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	mark := fmt.Sprintf("interrupt-%d", time.Now().UnixNano())
	dir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(os.Args[0], "run", stdioScenario(t, "per_vu", mark, "60s", true), "--out", dir, "--progress", "off")
	cmd.Env = append(os.Environ(), "MCPLOAD_TEST_MAIN=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for len(markedProcesses(mark)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no stdio server started after 30 s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // calls in flight
	running := markedProcesses(mark)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitRuntime {
		t.Fatalf("exit %v, want %d:\n%s", err, exitRuntime, out.String())
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		left := markedProcesses(mark)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("of the stdio servers %v, %v outlive mcpload", running, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
