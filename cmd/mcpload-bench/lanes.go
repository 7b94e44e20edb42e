package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The MCP lanes benchmark: tools/call per second on each lane against the
// mock, mcpload beside a bare Go client (the official go-sdk's) doing the
// same calls with the same concurrency, in alternating rounds against the
// same mock process. The tool answers at once, so the figure is what the
// client side costs.

// lanesMockScenario is what the mock serves: one tool on a server of each
// HTTP lane; over stdio, `mcpload mock --stdio` serves every tool.
const lanesMockScenario = `version: 1
name: bench-lanes-mock
seed: 1
mcp_servers:
  init: {url: mock}
  stateless: {url: mock, mock: {stateless: true}, protocol: "2026-07-28"}
tools:
  - {name: echo_init, inputSchema: {type: object, properties: {text: {type: string}}}, server: init, mock: {result: ok}}
  - {name: echo_stateless, inputSchema: {type: object, properties: {text: {type: string}}}, server: stateless, mock: {result: ok}}
mcp_direct:
  server: init
  mix: [{tool: echo_init, arguments: {text: hi}}]
load:
  stages: [{rate: 1, duration: 1s}]
`

// lanesLoadTmpl is mcpload's side: the server (a url line or a command
// line), its tool, the session mode, the duration and the concurrency.
const lanesLoadTmpl = `version: 1
name: bench-lane
seed: 1
mcp_servers:
  target: %s
tools:
  - {name: %s, inputSchema: {type: object, properties: {text: {type: string}}}, server: target}
mcp_direct:
  session: %s
  mix: [{tool: %[2]s, arguments: {text: hi}}]
load:
  stages: [{rate: 0, duration: %[4]s}]
  max_in_flight: %[5]d
client:
  timeout: 10s
`

// benchLane is one lane: how mcpload reaches it, and how the SDK client
// does.
type benchLane struct {
	name    string
	server  string // the mcp_servers entry, YAML flow
	tool    string
	session string
	// sdk runs the go-sdk client for d with workers concurrent calls and
	// returns calls per second.
	sdk func(d time.Duration, workers int) (float64, error)
}

// runLanes measures every lane and prints each ratio to the SDK client.
func runLanes(mcpload string, d time.Duration, workers, rounds int) error {
	tmp, err := os.MkdirTemp("", "mcpload-bench-lanes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	mockScenario := filepath.Join(tmp, "mock.yaml")
	if err := os.WriteFile(mockScenario, []byte(lanesMockScenario), 0o644); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	mock := exec.Command(mcpload, "mock", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--scenario", mockScenario)
	mock.Stderr = os.Stderr
	if err := mock.Start(); err != nil {
		return fmt.Errorf("start mock: %w", err)
	}
	defer func() { _ = mock.Process.Kill(); _ = mock.Wait() }()
	if err := waitHealthy(base + "/healthz"); err != nil {
		return err
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	stdioArgv := []string{mcpload, "mock", "--stdio", "--scenario", mockScenario, "--mcp-server", "init"}
	argvJSON, _ := json.Marshal(stdioArgv)
	lanes := []benchLane{
		{
			name: "initialize (session per worker)", server: fmt.Sprintf("{url: %q}", base+"/mcp/init"), tool: "echo_init", session: "per_vu",
			sdk: func(d time.Duration, w int) (float64, error) {
				return sdkCalls(d, w, "echo_init", false, func() sdk.Transport {
					return &sdk.StreamableClientTransport{Endpoint: base + "/mcp/init", HTTPClient: hc, DisableStandaloneSSE: true}
				}, "2025-11-25")
			},
		},
		{
			name: "stateless 2026-07-28", server: fmt.Sprintf("{url: %q, protocol: \"2026-07-28\"}", base+"/mcp/stateless"), tool: "echo_stateless", session: "per_vu",
			sdk: func(d time.Duration, w int) (float64, error) {
				return sdkCalls(d, w, "echo_stateless", false, func() sdk.Transport {
					return &sdk.StreamableClientTransport{Endpoint: base + "/mcp/stateless", HTTPClient: hc, DisableStandaloneSSE: true}
				}, "2026-07-28")
			},
		},
		{
			name: "stdio (one process, shared)", server: fmt.Sprintf("{command: %s}", argvJSON), tool: "echo_init", session: "shared",
			sdk: func(d time.Duration, w int) (float64, error) {
				return sdkCalls(d, w, "echo_init", true, func() sdk.Transport {
					return &sdk.CommandTransport{Command: exec.Command(stdioArgv[0], stdioArgv[1:]...)}
				}, "2025-11-25")
			},
		},
	}
	fmt.Printf("\nMCP lanes: tools/call per second against the mock, %d concurrent calls, %s per measurement, median of %d rounds\n", workers, d, rounds)
	for _, ln := range lanes {
		scenario := filepath.Join(tmp, "lane.yaml")
		if err := os.WriteFile(scenario, fmt.Appendf(nil, lanesLoadTmpl, ln.server, ln.tool, ln.session, d, workers), 0o644); err != nil {
			return err
		}
		var ours, theirs []float64
		for i := range rounds {
			s, err := ln.sdk(d, workers)
			if err != nil {
				return fmt.Errorf("%s: go-sdk client: %w", ln.name, err)
			}
			theirs = append(theirs, s)
			_, m, err := runMcpload(mcpload, scenario, filepath.Join(tmp, fmt.Sprintf("lane-%d", i)))
			if err != nil {
				return fmt.Errorf("%s: %w", ln.name, err)
			}
			ours = append(ours, m)
		}
		m, s := median(ours), median(theirs)
		fmt.Printf("  %-32s mcpload %8.0f calls/s   go-sdk client %8.0f calls/s   ratio %.2f (target >= 0.90)\n", ln.name, m, s, m/s)
	}
	return nil
}

// sdkCalls runs the go-sdk client: workers sessions (or, shared, one
// session for all of them, as one stdio process is), each calling tool in
// a loop for d. It returns ok calls per second.
func sdkCalls(d time.Duration, workers int, tool string, shared bool, transport func() sdk.Transport, version string) (float64, error) {
	ctx := context.Background()
	client := sdk.NewClient(&sdk.Implementation{Name: "bench", Version: "1"}, nil)
	connect := func() (*sdk.ClientSession, error) {
		return client.Connect(ctx, transport(), &sdk.ClientSessionOptions{ProtocolVersion: version})
	}
	sessions := make([]*sdk.ClientSession, workers)
	for i := range sessions {
		if shared && i > 0 {
			sessions[i] = sessions[0]
			continue
		}
		cs, err := connect()
		if err != nil {
			return 0, err
		}
		defer cs.Close()
		sessions[i] = cs
	}
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	params := &sdk.CallToolParams{Name: tool, Arguments: map[string]any{"text": "hi"}}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, cs := range sessions {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if res, err := cs.CallTool(ctx, params); err != nil || res.IsError {
					failed.Add(1)
					if err != nil {
						firstErr.CompareAndSwap(nil, err)
					}
				} else {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n := failed.Load(); n > ok.Load()/100 {
		return 0, fmt.Errorf("%d of %d calls failed: %v", n, n+ok.Load(), firstErr.Load())
	}
	return float64(ok.Load()) / elapsed.Seconds(), nil
}
