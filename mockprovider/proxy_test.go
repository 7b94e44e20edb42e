package mockprovider

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// The upstream's answers, byte for byte.
const (
	upstreamJSON = `{"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"gpt-4.1-mini","choices":[{"index":0,"message":{"role":"assistant","content":"from the upstream"},"finish_reason":"stop"}]}` + "\n"
	upstreamSSE  = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one\"}}]}\n\n" +
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" two\"}}]}\n\n" +
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: [DONE]\n\n"
)

// upstreamEvents are upstreamSSE's events, each with its blank line.
func upstreamEvents() []string {
	parts := strings.SplitAfter(upstreamSSE, "\n\n")
	return parts[:len(parts)-1]
}

// seen is one request as the fake upstream received it.
type seen struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// fakeUpstream is an OpenAI-like provider on loopback: JSON answers with
// a Content-Length, or, for "stream": true, upstreamSSE flushed event by
// event (each after gate lets it, when gate is set).
type fakeUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
	n    atomic.Int64
	gate chan struct{}
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	t.Helper()
	f := &fakeUpstream{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		f.mu.Unlock()
		f.n.Add(1)
		h := w.Header()
		h.Set("X-Upstream", "yes")
		h.Set("X-Ratelimit-Limit-Requests", "999")
		if !strings.Contains(string(body), `"stream":true`) {
			h.Set("Content-Type", "application/json")
			h.Set("Content-Length", itoa(len(upstreamJSON)))
			io.WriteString(w, upstreamJSON)
			return
		}
		h.Set("Content-Type", "text/event-stream")
		for i, ev := range upstreamEvents() {
			if i > 0 && f.gate != nil {
				select {
				case <-f.gate:
				case <-r.Context().Done():
					return
				}
			}
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeUpstream) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the upstream got no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// proxyOf starts a mock whose provider primary is proxied to up (a base
// URL up to its version), with faults.
func proxyOf(t *testing.T, up string, opts []Option, faults ...scenarios.Fault) (*Server, string) {
	t.Helper()
	sc := faultScenario(faults...)
	sc.Providers["primary"].Upstream = up
	return startMock(t, sc, opts...)
}

const (
	chatBody   = `{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"hi"}]}`
	streamBody = `{"model":"gpt-4.1-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}`
)

func TestProxyForwardsUntouched(t *testing.T) {
	up := newFakeUpstream(t)
	_, base := proxyOf(t, up.URL+"/v1", nil)
	req, _ := http.NewRequest(http.MethodPost, base+primaryChat+"?api-version=2024-10-21", strings.NewReader(chatBody))
	req.Header.Set("Authorization", "Bearer sk-test-secret")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "kept")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	req.Header.Set("Connection", "X-Hop")
	req.Header.Set("X-Hop", "dropped")
	resp, err := newClient(10 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != upstreamJSON || resp.StatusCode != 200 {
		t.Errorf("answer %d %q, want the upstream's %q", resp.StatusCode, got, upstreamJSON)
	}
	if resp.Header.Get("X-Upstream") != "yes" || resp.Header.Get("X-Ratelimit-Limit-Requests") != "999" {
		t.Errorf("the upstream's headers did not come back: %v", resp.Header)
	}
	s := up.last(t)
	if s.path != "/v1/chat/completions" || s.query != "api-version=2024-10-21" || string(s.body) != chatBody {
		t.Errorf("upstream got %s ?%s %q, want /v1/chat/completions ?api-version=2024-10-21 and the body as sent", s.path, s.query, s.body)
	}
	for k, v := range map[string]string{"Authorization": "Bearer sk-test-secret", "X-Custom": "kept", "X-Forwarded-For": "10.0.0.1", "Content-Type": "application/json"} {
		if s.header.Get(k) != v {
			t.Errorf("upstream got %s %q, want %q", k, s.header.Get(k), v)
		}
	}
	for _, k := range []string{"X-Hop", "Connection", headerToolFault} {
		if v, ok := s.header[k]; ok {
			t.Errorf("upstream got %s %q; it must not", k, v)
		}
	}
}

// The proxy flushes each event as the upstream sends it: the upstream
// sends its second event only once the client has read the first.
func TestProxyStreamsAsBytesArrive(t *testing.T) {
	up := newFakeUpstream(t)
	up.gate = make(chan struct{})
	_, base := proxyOf(t, up.URL+"/v1", nil)
	req, _ := http.NewRequest(http.MethodPost, base+primaryChat, strings.NewReader(streamBody))
	resp, err := newClient(20 * time.Second).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	var got strings.Builder
	for i, ev := range upstreamEvents() {
		buf := make([]byte, len(ev))
		if _, err := io.ReadFull(br, buf); err != nil {
			t.Fatalf("event %d: %v (so far %q)", i, err, got.String())
		}
		got.Write(buf)
		if i < len(upstreamEvents())-1 {
			up.gate <- struct{}{}
		}
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 || got.String() != upstreamSSE {
		t.Errorf("stream %q + %q, want the upstream's byte for byte", got.String(), rest)
	}
}

func TestProxyChatFaults(t *testing.T) {
	events := upstreamEvents()
	cases := []struct {
		name   string
		f      scenarios.Fault
		body   string
		reach  bool // the request reaches the upstream
		status int
		check  func(t *testing.T, r result)
	}{
		{"latency", scenarios.Fault{Kind: scenarios.FaultLatency, Latency: fixed(time.Millisecond)}, chatBody, true, 200,
			func(t *testing.T, r result) { wantBody(t, r, upstreamJSON) }},
		{"slow_headers", scenarios.Fault{Kind: scenarios.FaultSlowHeaders, Latency: fixed(time.Millisecond)}, streamBody, true, 200,
			func(t *testing.T, r result) { wantBody(t, r, upstreamSSE) }},
		{"http_error", scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 503, RetryAfter: sd(2 * time.Second)}, chatBody, false, 503,
			func(t *testing.T, r result) {
				if e := errorBody(t, r.body); e.Type != typeServer {
					t.Errorf("error type %q, want %q", e.Type, typeServer)
				}
				wantHeaders(t, r.resp.Header, "Retry-After", "2")
			}},
		{"rate_limit", scenarios.Fault{Kind: scenarios.FaultRateLimit, RetryAfter: sd(3 * time.Second)}, chatBody, false, 429,
			func(t *testing.T, r result) {
				if e := errorBody(t, r.body); e.Code == nil || *e.Code != "rate_limit_exceeded" {
					t.Errorf("error %+v, want code rate_limit_exceeded", e)
				}
				wantHeaders(t, r.resp.Header, "Retry-After", "3", "X-Ratelimit-Remaining-Requests", "0")
			}},
		{"overloaded", scenarios.Fault{Kind: scenarios.FaultOverloaded}, chatBody, false, statusOverloaded,
			func(t *testing.T, r result) { wantBody(t, r, string(overloadedBody)) }},
		{"reset", scenarios.Fault{Kind: scenarios.FaultReset}, chatBody, false, 0, nil},
		{"hang", scenarios.Fault{Kind: scenarios.FaultHang}, chatBody, false, 0, nil},
		{"stream_cut mid-SSE", scenarios.Fault{Kind: scenarios.FaultStreamCut, AfterChunks: 2}, streamBody, true, 200,
			func(t *testing.T, r result) {
				if r.err == nil || string(r.body) != events[0]+events[1] {
					t.Errorf("stream %q, err %v; want the first 2 events, then the connection cut", r.body, r.err)
				}
			}},
		{"stream_cut whole body", scenarios.Fault{Kind: scenarios.FaultStreamCut}, chatBody, true, 200,
			func(t *testing.T, r result) {
				if r.err == nil || string(r.body) != upstreamJSON[:cutAt(len(upstreamJSON))] {
					t.Errorf("body %q, err %v; want a third, then the connection cut", r.body, r.err)
				}
			}},
		{"stream_stall mid-SSE", scenarios.Fault{Kind: scenarios.FaultStreamStall, AfterChunks: 3, Latency: fixed(10 * time.Millisecond)}, streamBody, true, 200,
			func(t *testing.T, r result) { wantBody(t, r, upstreamSSE) }},
		{"stream_stall without end", scenarios.Fault{Kind: scenarios.FaultStreamStall, AfterChunks: 1}, streamBody, true, 200,
			func(t *testing.T, r result) {
				if r.err == nil || string(r.body) != events[0] {
					t.Errorf("stream %q, err %v; want the first event, then nothing until the client gives up", r.body, r.err)
				}
			}},
		{"malformed SSE", scenarios.Fault{Kind: scenarios.FaultMalformed}, streamBody, true, 200,
			func(t *testing.T, r result) {
				wantBody(t, r, events[0]+string(malformedChunk("chatcmpl-mcpload-proxy")))
			}},
		{"malformed whole body", scenarios.Fault{Kind: scenarios.FaultMalformed}, chatBody, true, 200,
			func(t *testing.T, r result) {
				wantBody(t, r, upstreamJSON[:cutAt(len(upstreamJSON))])
				if json.Valid(r.body) {
					t.Error("a malformed body is valid JSON")
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newFakeUpstream(t)
			tc.f.Target = "provider:primary"
			_, base := proxyOf(t, up.URL+"/v1", nil, tc.f)
			r := send(newClient(2*time.Second), base+primaryChat, tc.body, "Authorization", "Bearer k")
			if tc.status == 0 {
				if r.err == nil {
					t.Fatalf("got %d %q, want no answer", r.resp.StatusCode, r.body)
				}
			} else {
				wantStatus(t, r, tc.status)
			}
			if reached := up.n.Load() > 0; reached != tc.reach {
				t.Errorf("upstream reached: %v, want %v", reached, tc.reach)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func wantBody(t *testing.T, r result, want string) {
	t.Helper()
	if r.err != nil || string(r.body) != want {
		t.Errorf("body %q (err %v), want %q", r.body, r.err, want)
	}
}

// Outside its window a fault leaves the request to the upstream.
func TestProxyFaultWindow(t *testing.T) {
	up := newFakeUpstream(t)
	var now atomic.Int64
	t0 := time.Now()
	clock := func() time.Time { return t0.Add(time.Duration(now.Load())) }
	s, base := proxyOf(t, up.URL+"/v1", []Option{WithClock(clock)},
		scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 502, From: sd(10 * time.Second), For: sd(10 * time.Second)})
	s.SetEpoch(t0)
	c := newClient(5 * time.Second)
	for _, tc := range []struct {
		at     time.Duration
		status int
	}{{time.Second, 200}, {15 * time.Second, 502}, {25 * time.Second, 200}} {
		now.Store(int64(tc.at))
		before := up.n.Load()
		r := send(c, base+primaryChat, streamBody)
		wantStatus(t, r, tc.status)
		if reached := up.n.Load() > before; reached != (tc.status == 200) {
			t.Errorf("at %v: upstream reached %v", tc.at, reached)
		}
		if tc.status == 200 {
			wantBody(t, r, upstreamSSE)
		}
	}
}

// mock.limits stand in front of the upstream: the third request in the
// minute is refused in OpenAI's shape, and the admitted ones carry the
// mock's x-ratelimit headers over the upstream's.
func TestProxyRateLimits(t *testing.T) {
	up := newFakeUpstream(t)
	sc := testScenario()
	sc.Providers["primary"].Upstream = up.URL + "/v1"
	sc.Providers["primary"].Mock.Limits = &scenarios.Limits{RPM: 2}
	_, base := startMock(t, sc)
	c := newClient(5 * time.Second)
	for i := range 2 {
		r := send(c, base+primaryChat, chatBody)
		wantStatus(t, r, 200)
		wantBody(t, r, upstreamJSON)
		wantHeaders(t, r.resp.Header, "X-Ratelimit-Limit-Requests", "2", "X-Ratelimit-Remaining-Requests", itoa(1-i))
	}
	r := send(c, base+primaryChat, chatBody)
	wantStatus(t, r, 429)
	if e := errorBody(t, r.body); e.Type != "requests" {
		t.Errorf("429 type %q, want requests", e.Type)
	}
	if n := up.n.Load(); n != 2 {
		t.Errorf("upstream got %d requests, want 2", n)
	}
}

// dialectScenario has an Anthropic and a Gemini provider beside
// testScenario's.
func dialectScenario() *scenarios.Scenario {
	sc := testScenario()
	sc.Providers["claude"] = &scenarios.Provider{API: scenarios.APIAnthropic, BaseURL: scenarios.MockURL, Model: "claude-x"}
	sc.Providers["gem"] = &scenarios.Provider{API: scenarios.APIGemini, BaseURL: scenarios.MockURL, Model: "gemini-x"}
	return sc
}

// The mock as an upstream of itself: the proxy answers each dialect's
// faults in that dialect's shape, and cuts its streams mid-SSE.
func TestProxyDialectsMockUpstream(t *testing.T) {
	_, upBase := startMock(t, dialectScenario())
	type req struct{ path, body string }
	claude := func(stream bool) req {
		b := `{"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":"hi"}]`
		if stream {
			b += `,"stream":true`
		}
		return req{"/providers/claude/v1/messages", b + "}"}
	}
	gem := func(stream bool) req {
		call := ":generateContent"
		if stream {
			call = ":streamGenerateContent?alt=sse"
		}
		return req{"/providers/gem/v1beta/models/gemini-x" + call, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`}
	}
	hdr := []string{"anthropic-version", "2023-06-01", "x-api-key", "k", "x-goog-api-key", "k"}
	cases := []struct {
		name   string
		f      scenarios.Fault
		rq     req
		status int
		has    string // in the body
	}{
		{"anthropic http_error", scenarios.Fault{Target: "provider:claude", Kind: scenarios.FaultHTTPError, Status: 500}, claude(false), 500, `"type":"error"`},
		{"anthropic rate_limit", scenarios.Fault{Target: "provider:claude", Kind: scenarios.FaultRateLimit}, claude(false), 429, `"rate_limit_error"`},
		{"anthropic overloaded", scenarios.Fault{Target: "model:claude-x", Kind: scenarios.FaultOverloaded}, claude(true), 529, `"overloaded_error"`},
		{"gemini http_error", scenarios.Fault{Target: "provider:gem", Kind: scenarios.FaultHTTPError, Status: 503}, gem(false), 503, `"UNAVAILABLE"`},
		{"gemini rate_limit", scenarios.Fault{Target: "provider:gem", Kind: scenarios.FaultRateLimit}, gem(true), 429, `"RESOURCE_EXHAUSTED"`},
		{"gemini malformed stream", scenarios.Fault{Target: "provider:gem", Kind: scenarios.FaultMalformed}, gem(true), 200, string(malformedGeminiEvent)},
		{"anthropic stream passes", scenarios.Fault{Target: "provider:gem", Kind: scenarios.FaultHang}, claude(true), 200, "event: message_stop"},
		{"gemini passes", scenarios.Fault{Target: "provider:claude", Kind: scenarios.FaultHang}, gem(false), 200, `"candidates"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := dialectScenario()
			sc.Providers["claude"].Upstream = upBase + "/providers/claude/v1"
			sc.Providers["gem"].Upstream = upBase + "/providers/gem/v1beta"
			sc.Faults = []scenarios.Fault{tc.f}
			_, base := startMock(t, sc)
			r := send(newClient(5*time.Second), base+tc.rq.path, tc.rq.body, hdr...)
			wantStatus(t, r, tc.status)
			if !strings.Contains(string(r.body), tc.has) {
				t.Errorf("body %q lacks %q", r.body, tc.has)
			}
		})
	}

	t.Run("anthropic stream_cut", func(t *testing.T) {
		sc := dialectScenario()
		sc.Providers["claude"].Upstream = upBase + "/providers/claude/v1"
		sc.Faults = []scenarios.Fault{{Target: "provider:claude", Kind: scenarios.FaultStreamCut, AfterChunks: 2}}
		_, base := startMock(t, sc)
		r := send(newClient(5*time.Second), base+claude(true).path, claude(true).body, hdr...)
		wantStatus(t, r, 200)
		if r.err == nil || strings.Count(string(r.body), "\n\n") != 2 || !strings.HasPrefix(string(r.body), "event: message_start") {
			t.Errorf("stream %q, err %v; want message_start and one more event, then the cut", r.body, r.err)
		}
	})
}

// --upstream: every path goes to the same path on the upstream, less the
// mock's /providers/NAME; model endpoints meet the faults, other paths
// pass untouched.
func TestProxyRootUpstream(t *testing.T) {
	up := newFakeUpstream(t)
	_, base := startMock(t, faultScenario(scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit, From: sd(time.Hour)}), WithUpstream(up.URL+"/gw"))
	c := newClient(5 * time.Second)
	for path, want := range map[string]string{
		"/v1/chat/completions":                   "/gw/v1/chat/completions",
		primaryChat:                              "/gw/v1/chat/completions",
		"/openai/deployments/x/chat/completions": "/gw/openai/deployments/x/chat/completions",
		"/v1/embeddings":                         "/gw/v1/embeddings",
	} {
		r := send(c, base+path, chatBody)
		wantStatus(t, r, 200)
		if got := up.last(t).path; got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}
}

func TestProxyUpstreamDown(t *testing.T) {
	up := newFakeUpstream(t)
	url := up.URL
	up.Close()
	_, base := proxyOf(t, url+"/v1", nil)
	r := send(newClient(5*time.Second), base+primaryChat, chatBody)
	wantStatus(t, r, http.StatusBadGateway)
	if e := errorBody(t, r.body); e.Type != typeServer || strings.Contains(e.Message, url) {
		t.Errorf("502 %+v: want a server_error that does not name the upstream's URL", e)
	}
}

// The proxy in front of an MCP server (the mock's own, over Streamable
// HTTP), with the go-sdk client: calls without a fault reach the
// upstream's tools; tool_error and jsonrpc_error come back in the
// upstream's session, and HTTP-level faults as the mock sends them.
func TestProxyMCP(t *testing.T) {
	_, upBase := startMock(t, testScenario())
	sc := faultScenario(
		scenarios.Fault{Target: "tool:get_time", Kind: scenarios.FaultToolError, Message: "clock broken"},
		scenarios.Fault{Target: "tool:read_file", Kind: scenarios.FaultJSONRPCError, Code: -32002, Message: "busy"},
	)
	sc.MCPServers["weather"].Upstream = upBase + "/mcp/weather"
	sc.MCPServers["files"].Upstream = upBase + "/mcp/files"
	_, base := startMock(t, sc)
	ctx := context.Background()

	cs := connectMCP(t, base+"/mcp/weather")
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) != 2 {
		t.Fatalf("tools/list through the proxy: %v, %v", tools, err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_weather", Arguments: map[string]any{"city": "Paris"}})
	if err != nil || res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "temp_c") {
		t.Fatalf("get_weather through the proxy: %+v, %v; want the upstream's result", res, err)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_time", Arguments: map[string]any{}})
	if err != nil || !res.IsError || res.Content[0].(*mcp.TextContent).Text != "clock broken" {
		t.Errorf("tool_error: %+v, %v", res, err)
	}

	fs := connectMCP(t, base+"/mcp/files")
	_, err = fs.CallTool(ctx, &mcp.CallToolParams{Name: "read_file", Arguments: map[string]any{"path": "x"}})
	var rpcErr *jsonrpc.Error
	if !errors.As(err, &rpcErr) || rpcErr.Code != -32002 || rpcErr.Message != "busy" {
		t.Errorf("jsonrpc_error: %v (%T), want code -32002 busy", err, err)
	}
	// The session is the upstream's, and survives the faults.
	if _, err := cs.ListTools(ctx, nil); err != nil {
		t.Errorf("tools/list after the faults: %v", err)
	}

	// Every tool fault kind, with a raw client: the HTTP-level ones as
	// the mock answers them, the call beside them served by the upstream.
	for _, tc := range []struct {
		f      scenarios.Fault
		status int // 0: no answer
		check  func(t *testing.T, r result)
	}{
		{scenarios.Fault{Kind: scenarios.FaultLatency, Latency: fixed(time.Millisecond)}, 200, wantTime},
		{scenarios.Fault{Kind: scenarios.FaultSlowHeaders, Latency: fixed(time.Millisecond)}, 200, wantTime},
		{scenarios.Fault{Kind: scenarios.FaultHang}, 0, nil},
		{scenarios.Fault{Kind: scenarios.FaultReset}, 0, nil},
		{scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 503}, 503, nil},
		{scenarios.Fault{Kind: scenarios.FaultRateLimit}, 429, nil},
		{scenarios.Fault{Kind: scenarios.FaultMalformed}, 200, func(t *testing.T, r result) {
			if json.Valid(r.body) {
				t.Errorf("malformed answer is valid JSON: %s", r.body)
			}
		}},
		{scenarios.Fault{Kind: scenarios.FaultToolError}, 200, func(t *testing.T, r result) {
			if out := decodeRPC(t, r); !out.Result.IsError || out.ID != 7 {
				t.Errorf("tool_error: %+v", out)
			}
		}},
		{scenarios.Fault{Kind: scenarios.FaultJSONRPCError, Code: -32004}, 200, func(t *testing.T, r result) {
			if out := decodeRPC(t, r); out.Error == nil || out.Error.Code != -32004 || out.ID != 7 {
				t.Errorf("jsonrpc_error: %+v", out)
			}
		}},
	} {
		t.Run(tc.f.Kind, func(t *testing.T) {
			tc.f.Target = "tool:get_time"
			sc := faultScenario(tc.f)
			sc.MCPServers["weather"].Upstream = upBase + "/mcp/weather"
			_, base := startMock(t, sc)
			rc := newRPCClient(t, newClient(2*time.Second), base+"/mcp/weather")
			r := rc.call("get_time")
			if tc.status == 0 {
				if r.err == nil {
					t.Fatalf("got %d %s, want no answer", r.resp.StatusCode, r.body)
				}
			} else {
				wantStatus(t, r, tc.status)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if out := decodeRPC(t, rc.call("get_weather")); out.Error != nil || out.Result.IsError {
				t.Errorf("get_weather beside the fault: %+v", out)
			}
		})
	}
}

// wantTime checks that get_time's answer is the upstream's result.
func wantTime(t *testing.T, r result) {
	t.Helper()
	out := decodeRPC(t, r)
	if out.Error != nil || len(out.Result.Content) == 0 || out.Result.Content[0].(*mcp.TextContent).Text != testTimeResult {
		t.Errorf("get_time: %+v, want the upstream's %q", out, testTimeResult)
	}
}
