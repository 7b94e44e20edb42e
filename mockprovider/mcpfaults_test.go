package mockprovider

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// rpcClient speaks raw JSON-RPC over Streamable HTTP to one MCP endpoint,
// on one session.
type rpcClient struct {
	t   *testing.T
	c   *http.Client
	url string
	sid string
}

// newRPCClient initializes a session on url with c.
func newRPCClient(t *testing.T, c *http.Client, url string) *rpcClient {
	t.Helper()
	rc := &rpcClient{t: t, c: c, url: url}
	r := rc.post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`)
	wantStatus(t, r, 200)
	rc.sid = r.resp.Header.Get("Mcp-Session-Id")
	if rc.sid == "" {
		t.Fatal("initialize: no session id")
	}
	wantStatus(t, rc.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), http.StatusAccepted)
	return rc
}

func (rc *rpcClient) post(body string, hdr ...string) result {
	h := []string{"Accept", "application/json, text/event-stream"}
	if rc.sid != "" {
		h = append(h, "Mcp-Session-Id", rc.sid, "Mcp-Protocol-Version", "2025-06-18")
	}
	return send(rc.c, rc.url, body, append(h, hdr...)...)
}

// call sends tools/call of tool.
func (rc *rpcClient) call(tool string, hdr ...string) result {
	return rc.post(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"`+tool+`","arguments":{}}}`, hdr...)
}

// rpcResponse is a JSON-RPC response to tools/call.
type rpcResponse struct {
	ID     int                `json:"id"`
	Result mcp.CallToolResult `json:"result"`
	Error  *jsonrpc.Error     `json:"error"`
}

func decodeRPC(t *testing.T, r result) rpcResponse {
	t.Helper()
	wantStatus(t, r, 200)
	var out rpcResponse
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("response is not JSON-RPC: %v: %s", err, r.body)
	}
	return out
}

func TestToolFaultKinds(t *testing.T) {
	cases := []struct {
		name    string
		fault   scenarios.Fault
		timeout time.Duration
		reuse   bool
		check   func(t *testing.T, r result)
	}{
		{
			name: "latency", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultLatency, Latency: fixed(150 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				if res := decodeRPC(t, r); res.Error != nil || res.Result.IsError || r.headersAt < 150*time.Millisecond {
					t.Errorf("after %v: %s; want the normal result after at least 150ms", r.headersAt, r.body)
				}
			},
		},
		{
			name: "hang", timeout: 300 * time.Millisecond,
			fault: scenarios.Fault{Kind: scenarios.FaultHang},
			check: func(t *testing.T, r result) {
				var ne net.Error
				if !errors.As(r.err, &ne) || !ne.Timeout() {
					t.Errorf("got %v, want the client's timeout", r.err)
				}
			},
		},
		{
			name: "http_error", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 502},
			check: func(t *testing.T, r result) { wantStatus(t, r, 502) },
		},
		{
			name: "rate_limit", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultRateLimit, RetryAfter: sd(1200 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 429)
				wantHeaders(t, r.resp.Header, "Retry-After", "2", "Retry-After-Ms", "1200", "X-Ratelimit-Remaining-Requests", "0")
			},
		},
		{
			name:  "reset",
			fault: scenarios.Fault{Kind: scenarios.FaultReset},
			check: func(t *testing.T, r result) {
				if !errors.Is(r.err, syscall.ECONNRESET) {
					t.Errorf("got %v, want connection reset by peer", r.err)
				}
			},
		},
		{
			name: "slow_headers", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultSlowHeaders, Latency: fixed(150 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				if res := decodeRPC(t, r); res.Error != nil || r.headersAt < 150*time.Millisecond {
					t.Errorf("after %v: %s", r.headersAt, r.body)
				}
			},
		},
		{
			name: "malformed", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultMalformed},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if r.err != nil || len(r.body) == 0 || json.Valid(r.body) {
					t.Errorf("err %v, body %q: want a whole body that is not JSON", r.err, r.body)
				}
			},
		},
		{
			name: "tool_error", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultToolError, Message: "disk full"},
			check: func(t *testing.T, r result) {
				res := decodeRPC(t, r)
				if res.Error != nil || !res.Result.IsError || len(res.Result.Content) != 1 || res.Result.Content[0].(*mcp.TextContent).Text != "disk full" {
					t.Errorf("got %s, want isError with the fault's message", r.body)
				}
			},
		},
		{
			name: "jsonrpc_error", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultJSONRPCError, Code: -32001, Message: "upstream down"},
			check: func(t *testing.T, r result) {
				res := decodeRPC(t, r)
				if res.Error == nil || res.Error.Code != -32001 || res.Error.Message != "upstream down" || res.ID != 7 {
					t.Errorf("got %s, want JSON-RPC error -32001 for id 7", r.body)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := c.fault
			f.Target = "tool:get_time"
			s, base, conns := countingMock(t, faultScenario(f))
			client := newClient(20 * time.Second)
			defer client.CloseIdleConnections()
			rc := newRPCClient(t, client, base+"/mcp/weather")

			timeout := c.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			faulty := *rc
			faulty.c = &http.Client{Transport: client.Transport, Timeout: timeout}
			c.check(t, faulty.call("get_time", HeaderSeq, "3", HeaderStep, "1"))

			// get_weather has no fault; the session and, unless the fault
			// broke it, the connection carry on.
			res := decodeRPC(t, rc.call("get_weather"))
			if res.Error != nil || res.Result.IsError {
				t.Errorf("get_weather after the fault: %+v", res)
			}
			want := int64(2)
			if c.reuse {
				want = 1
			}
			if n := conns.Load(); n != want {
				t.Errorf("%d connections, want %d (reuse %v)", n, want, c.reuse)
			}
			waitFor(t, func() bool { return s.waiting.Load() == 0 })
		})
	}
}

func TestToolFaultsWithSDKClient(t *testing.T) {
	_, base := startMock(t, faultScenario(
		scenarios.Fault{Target: "tool:get_time", Kind: scenarios.FaultToolError},
		scenarios.Fault{Target: "tool:get_weather", Kind: scenarios.FaultJSONRPCError},
	))
	cs := connectMCP(t, base+"/mcp/weather")
	ctx := context.Background()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_time", Arguments: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "get_time") {
		t.Errorf("tool_error: isError %v content %v", res.IsError, res.Content)
	}

	_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != jsonrpc.CodeInternalError {
		t.Errorf("jsonrpc_error: %v (%T), want a JSON-RPC error with code -32603", err, err)
	}

	// The session survives both.
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Errorf("tools/list after the faults: %v", err)
	}
}

func TestToolFaultHeaderNotSpoofable(t *testing.T) {
	// A client cannot ask for a fault by sending the internal header.
	_, base := startMock(t, testScenario())
	rc := newRPCClient(t, newClient(20*time.Second), base+"/mcp/weather")
	res := decodeRPC(t, rc.call("get_time", headerToolFault, `{"kind":"tool_error"}`))
	if res.Error != nil || res.Result.IsError {
		t.Errorf("the fault header was obeyed: %+v", res)
	}
}

func TestToolMalformedSSE(t *testing.T) {
	// With SSE framing, the event is whole but its data is not JSON.
	_, base := startMock(t, faultScenario(scenarios.Fault{Target: "tool:get_time", Kind: scenarios.FaultMalformed}), WithMCPStreaming(true))
	rc := newRPCClient(t, newClient(20*time.Second), base+"/mcp/weather")
	r := rc.call("get_time")
	wantStatus(t, r, 200)
	if ct := r.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content-type %q", ct)
	}
	if r.err != nil || len(r.events) != 1 || json.Valid([]byte(r.events[0].data)) || !strings.HasPrefix(r.events[0].data, `{"jsonrpc":"2.0","id":7`) {
		t.Errorf("err %v, events %v: want one event whose data is cut-short JSON-RPC", r.err, r.events)
	}
}
