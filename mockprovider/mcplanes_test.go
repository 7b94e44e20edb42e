package mockprovider

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// TestMCPLanes connects the go-sdk client to servers of each lane: it
// tries the stateless 2026-07-28 lane (server/discover) first and falls
// back to the initialize handshake, so the version it ends on says which
// lanes the server serves.
func TestMCPLanes(t *testing.T) {
	cases := []struct {
		name      string
		mock      scenarios.MCPServerMock
		ask       string // the client's protocol version; "" is its latest
		negotiate string
	}{
		{"initialize lane", scenarios.MCPServerMock{Protocol: "2025-11-25"}, "", "2025-11-25"},
		// Stateless alone would serve 2026-07-28: the lane holds it back.
		{"initialize lane, stateless", scenarios.MCPServerMock{Protocol: "2025-11-25", Stateless: true}, "", "2025-11-25"},
		// The 2026-07-28 lane has no sessions, whatever stateless says.
		{"2026-07-28 lane", scenarios.MCPServerMock{Protocol: "2026-07-28"}, "", "2026-07-28"},
		{"2026-07-28 lane, sse", scenarios.MCPServerMock{Protocol: "2026-07-28", Response: "sse"}, "", "2026-07-28"},
		{"both lanes, new client", scenarios.MCPServerMock{Protocol: "both", Stateless: true}, "", "2026-07-28"},
		{"both lanes, old client", scenarios.MCPServerMock{Protocol: "both", Stateless: true}, "2025-11-25", "2025-11-25"},
		// With sessions, the SDK serves the initialize lane only.
		{"both lanes, sessions", scenarios.MCPServerMock{}, "", "2025-11-25"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := testScenario()
			sc.MCPServers["weather"].Mock = c.mock
			_, base := startMock(t, sc)
			var so *mcp.ClientSessionOptions
			if c.ask != "" {
				so = &mcp.ClientSessionOptions{ProtocolVersion: c.ask}
			}
			cs := connectWith(t, base+"/mcp/weather", nil, so)
			if got := cs.InitializeResult().ProtocolVersion; got != c.negotiate {
				t.Errorf("negotiated %q, want %q", got, c.negotiate)
			}
			res := callTool(t, cs, "get_time", map[string]any{"tz": "UTC"})
			if textOf(t, res.Content[0]) != testTimeResult {
				t.Errorf("get_time: %+v", res)
			}
		})
	}
}

// TestMCPAggregateHonoursServerSettings: /mcp, which serves every tool,
// answers as the scenario's servers do (here an event stream without
// sessions) and lists their extra tools.
func TestMCPAggregateHonoursServerSettings(t *testing.T) {
	sc := testScenario()
	for _, name := range []string{"weather", "files"} {
		sc.MCPServers[name].Mock = scenarios.MCPServerMock{Response: scenarios.MCPResponseSSE, Stateless: true, ExtraTools: 3}
	}
	s, base := startMock(t, sc)
	for _, path := range []string{"/mcp/weather", "/mcp"} {
		r := send(http.DefaultClient, base+path, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`,
			"Accept", "application/json, text/event-stream", "Mcp-Protocol-Version", "2025-11-25")
		wantStatus(t, r, 200)
		if ct := r.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("%s: content-type %q, want an event stream", path, ct)
		}
		if sid := r.resp.Header.Get("Mcp-Session-Id"); sid != "" {
			t.Errorf("%s: session %q on a stateless server", path, sid)
		}
	}
	cs := connectMCP(t, base+"/mcp")
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
	}
	want := len(sc.Tools) + 2*3
	if len(names) != want || len(s.mcps[""].tools) != want {
		t.Errorf("/mcp lists %d tools, want %d (the scenario's and both servers' extra tools): %v", len(names), want, names)
	}
	for _, extra := range s.mcps["files"].tools {
		if !slices.Contains(names, extra.def.Name) {
			t.Errorf("/mcp does not list %s of server files", extra.def.Name)
		}
	}
	// The aggregate of servers that differ takes what carries the most.
	sc.MCPServers["files"].Mock = scenarios.MCPServerMock{Response: scenarios.MCPResponseJSON, SSERetry: scenarios.Duration(time.Second), Protocol: "2026-07-28"}
	got := aggregateMode(sc.MCPServers)
	if wantMode := (scenarios.MCPServerMock{Response: scenarios.MCPResponseSSE, SSERetry: scenarios.Duration(time.Second), Protocol: "both"}); got != wantMode {
		t.Errorf("aggregate mode %+v, want %+v", got, wantMode)
	}
}

// TestMCPSSEPrimingAndRetry: a resumable server opens each event stream
// with a priming event (an id, empty data) that carries retry:, and a
// client that lost the stream gets the answer back with Last-Event-ID.
func TestMCPSSEPrimingAndRetry(t *testing.T) {
	sc := testScenario()
	sc.MCPServers["weather"].Mock = scenarios.MCPServerMock{Response: scenarios.MCPResponseSSE, SSERetry: scenarios.Duration(1500 * time.Millisecond)}
	_, base := startMock(t, sc)
	url := base + "/mcp/weather"
	accept := []string{"Accept", "application/json, text/event-stream"}
	r := send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, accept...)
	wantStatus(t, r, 200)
	sid := r.resp.Header.Get("Mcp-Session-Id")
	hdr := append(accept, "Mcp-Session-Id", sid, "Mcp-Protocol-Version", "2025-11-25")
	wantStatus(t, send(http.DefaultClient, url, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, hdr...), 202)

	r = send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_time","arguments":{}}}`, hdr...)
	wantStatus(t, r, 200)
	events := strings.Split(strings.TrimSpace(string(r.body)), "\n\n")
	first := sseFields(events[0])
	if first["retry"] != "1500" || first["id"] == "" || first["data"] != "" {
		t.Fatalf("first event %q, want a priming event: an id, empty data and retry: 1500", events[0])
	}
	if len(events) != 2 || !strings.Contains(sseFields(events[1])["data"], testTimeResult) || strings.Contains(events[1], "retry:") {
		t.Fatalf("events %q, want the priming event then the answer", events)
	}

	// Resumption from the priming event replays the answer.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Mcp-Session-Id", sid)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	req.Header.Set("Last-Event-ID", first["id"])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), testTimeResult) {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil && !strings.Contains(got.String(), testTimeResult) {
			t.Fatalf("resumed stream %q: %v", got.String(), err)
		}
	}

	// JSON answers are untouched.
	sc.MCPServers["weather"].Mock.Response = scenarios.MCPResponseJSON
	sc.MCPServers["weather"].Mock.SSERetry = 0
	_, base = startMock(t, sc)
	r = send(http.DefaultClient, base+"/mcp/weather", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, accept...)
	if strings.Contains(string(r.body), "retry:") {
		t.Errorf("JSON answer %q", r.body)
	}
}

// sseFields parses one SSE event's fields.
func sseFields(ev string) map[string]string {
	f := map[string]string{}
	for _, line := range strings.Split(ev, "\n") {
		k, v, _ := strings.Cut(line, ":")
		f[k] = strings.TrimPrefix(v, " ")
	}
	return f
}

// TestMCPCloseStream: a close_stream tool ends the POST's event stream
// after the priming event, and its answer comes on the stream the client
// resumes with Last-Event-ID (SEP-1699): the go-sdk client does so by
// itself, and a raw client sees each step.
func TestMCPCloseStream(t *testing.T) {
	_, base := startMock(t, conformanceScenario(t))
	url := base + "/mcp/conformance"
	// The go-sdk client's transport reconnects (MaxRetries 0: its default).
	client := mcp.NewClient(&mcp.Implementation{Name: "mockprovider-test", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res := callTool(t, cs, "test_reconnection", nil)
	if got := textOf(t, res.Content[0]); got != "Reconnection test completed successfully." {
		t.Errorf("go-sdk client: %q", got)
	}

	var resp *http.Response
	accept := []string{"Accept", "application/json, text/event-stream"}
	r := send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, accept...)
	wantStatus(t, r, 200)
	sid := r.resp.Header.Get("Mcp-Session-Id")
	hdr := append(accept, "Mcp-Session-Id", sid, "Mcp-Protocol-Version", "2025-11-25")
	r = send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"test_reconnection","arguments":{}}}`, hdr...)
	wantStatus(t, r, 200)
	events := strings.Split(strings.TrimSpace(string(r.body)), "\n\n")
	prime := sseFields(events[0])
	if prime["id"] == "" || prime["retry"] != "1000" || strings.Contains(string(r.body), "Reconnection test completed") {
		t.Fatalf("POST stream %q: want a priming event, then the stream closed before the answer", events)
	}
	if last := sseFields(events[len(events)-1]); last["retry"] != "1000" {
		t.Errorf("last event %q: want the close event's retry: 1000", events[len(events)-1])
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	req.Header.Set("Last-Event-ID", prime["id"])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err = http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "Reconnection test completed") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil && !strings.Contains(got.String(), "Reconnection test completed") {
			t.Fatalf("resumed stream %q: %v", got.String(), err)
		}
	}
}
