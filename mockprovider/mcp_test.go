package mockprovider

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

func connectMCP(t *testing.T, url string) *mcp.ClientSession {
	t.Helper()
	return connectWith(t, url, nil, nil)
}

func sessions(e *mcpEndpoint) int {
	n := 0
	for range e.server.Sessions() {
		n++
	}
	return n
}

func TestMCPTools(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "sse"}[streaming], func(t *testing.T) {
			sc := testScenario()
			_, base := startMock(t, sc, WithMCPStreaming(streaming))
			ctx := context.Background()

			cs := connectMCP(t, base+"/mcp/weather")
			if info := cs.InitializeResult().ServerInfo; info.Name != "mcpload-mock/weather" {
				t.Errorf("server info %+v", info)
			}
			if caps := cs.InitializeResult().Capabilities; caps.Tools == nil {
				t.Errorf("no tools capability: %+v", caps)
			}

			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
			}
			if want := []string{"get_time", "get_weather"}; !reflect.DeepEqual(slices.Sorted(slices.Values(names)), want) {
				t.Fatalf("tools %v, want %v", names, want)
			}
			for _, tool := range list.Tools {
				i := slices.IndexFunc(sc.Tools, func(x *scenarios.Tool) bool { return x.Name == tool.Name })
				def := sc.Tools[i]
				if tool.Description != def.Description {
					t.Errorf("%s: description %q", tool.Name, tool.Description)
				}
				if got, want := normValue(t, tool.InputSchema), normValue(t, def.InputSchema); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: inputSchema %v, want %v", tool.Name, got, want)
				}
			}

			// A structured result: JSON text and structuredContent.
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}})
			if err != nil {
				t.Fatal(err)
			}
			want := normValue(t, sc.Tools[0].Mock.Result)
			if res.IsError || len(res.Content) != 1 {
				t.Fatalf("get_weather: isError %v content %v", res.IsError, res.Content)
			}
			if got := normJSON(t, res.Content[0].(*mcp.TextContent).Text); !reflect.DeepEqual(got, want) {
				t.Errorf("get_weather text %v, want %v", got, want)
			}
			if got := normValue(t, res.StructuredContent); !reflect.DeepEqual(got, want) {
				t.Errorf("get_weather structuredContent %v, want %v", got, want)
			}

			// A string result: one text block, nothing structured.
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_time", Arguments: map[string]any{"tz": "UTC"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != testTimeResult || res.StructuredContent != nil || res.IsError {
				t.Errorf("get_time: %+v", res)
			}

			// A tool of another server is not served here.
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_file"}); err == nil {
				t.Error("read_file on the weather server succeeded")
			}

			// isError.
			files := connectMCP(t, base+"/mcp/files")
			res, err = files.CallTool(ctx, &mcp.CallToolParams{Name: "read_file", Arguments: map[string]any{"path": "/etc/passwd"}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.IsError || res.Content[0].(*mcp.TextContent).Text != testDenied {
				t.Errorf("read_file: isError %v content %v", res.IsError, res.Content)
			}

			// /mcp serves every tool.
			all := connectMCP(t, base+"/mcp")
			list, err = all.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Tools) != len(sc.Tools) {
				t.Errorf("/mcp lists %d tools, want %d", len(list.Tools), len(sc.Tools))
			}
		})
	}
}

func TestMCPUnknownServer(t *testing.T) {
	_, base := startMock(t, testScenario())
	for _, name := range []string{"remote", "nope"} {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp/"+name, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/mcp/%s: %d, want 404", name, resp.StatusCode)
		}
	}
}

// TestMCPRawJSON checks the wire: a POST answers application/json with a
// session id, and DELETE ends the session.
func TestMCPRawJSON(t *testing.T) {
	s, base := startMock(t, testScenario())
	rpc := func(sid, body string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp/weather", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if sid != "" {
			req.Header.Set("Mcp-Session-Id", sid)
			req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := rpc("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	sid := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != 200 || sid == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("initialize: %d session %q content-type %q: %s", resp.StatusCode, sid, resp.Header.Get("Content-Type"), body)
	}
	rpc(sid, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	resp, body = rpc(sid, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_time","arguments":{}}}`)
	var out struct {
		Result mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
		t.Fatalf("tools/call: %d %s (%v)", resp.StatusCode, body, err)
	}
	if len(out.Result.Content) != 1 || out.Result.Content[0].(*mcp.TextContent).Text != testTimeResult {
		t.Errorf("tools/call result %s", body)
	}
	if n := sessions(s.mcps["weather"]); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}

	req, _ := http.NewRequest(http.MethodDelete, base+"/mcp/weather", nil)
	req.Header.Set("Mcp-Session-Id", sid)
	dresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	dresp.Body.Close()
	if dresp.StatusCode != http.StatusNoContent {
		t.Errorf("DELETE: %d", dresp.StatusCode)
	}
	waitFor(t, func() bool { return sessions(s.mcps["weather"]) == 0 })
	if resp, _ := rpc(sid, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`); resp.StatusCode != http.StatusNotFound {
		t.Errorf("request on a deleted session: %d, want 404", resp.StatusCode)
	}
}

func TestMCPSessionsEnd(t *testing.T) {
	// Idle sessions time out.
	s, base := startMock(t, testScenario(), WithMCPSessionTimeout(100*time.Millisecond))
	cs := connectMCP(t, base+"/mcp/weather")
	if _, err := cs.ListTools(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return sessions(s.mcps["weather"]) == 0 })

	// A closed client session is gone from the server (the SDK client sends DELETE).
	s, base = startMock(t, testScenario(), WithMCPSessionTimeout(0))
	for range 20 {
		cs := connectMCP(t, base+"/mcp")
		if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_time"}); err != nil {
			t.Fatal(err)
		}
		cs.Close()
	}
	waitFor(t, func() bool { return sessions(s.mcps[""]) == 0 })

	// Close ends open sessions, even with a tool call in flight.
	sc := testScenario()
	sc.Tools[1].Mock.Latency = fixed(time.Hour)
	s, base = startMock(t, sc)
	cs = connectMCP(t, base+"/mcp/weather")
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_time"})
		errc <- err
	}()
	waitFor(t, func() bool { return s.waiting.Load() == 1 })
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-errc; err == nil {
		t.Error("tool call in flight at Close succeeded")
	}
	if n := sessions(s.mcps["weather"]); n != 0 {
		t.Errorf("%d sessions after Close", n)
	}
}

func TestMCPToolLatency(t *testing.T) {
	sc := testScenario()
	sc.Tools[1].Mock.Latency = fixed(200 * time.Millisecond)
	_, base := startMock(t, sc)
	cs := connectMCP(t, base+"/mcp/weather")
	start := time.Now()
	if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "get_time"}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("tools/call took %v, want at least the 200ms latency", d)
	}
}

func TestMCPStreamingOption(t *testing.T) {
	for streaming, want := range map[bool]string{false: "application/json", true: "text/event-stream"} {
		_, base := startMock(t, testScenario(), WithMCPStreaming(streaming))
		req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) || !strings.Contains(string(b), `"serverInfo"`) {
			t.Errorf("streaming=%v: content-type %q, want %s; body %s", streaming, ct, want, b)
		}
	}
}
