package mockprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// depthCodes are the JSON-RPC codes the conformance test makes the mock
// answer, one tool each.
var depthCodes = []int{-32700, -32600, -32601, -32602, -32603, -32001, -32002, -32003, -32004}

const depthExtra = 25

// depthScenario is an MCP server "depth" answering in response mode
// (json or sse), with resources, prompts, a progress tool, extra tools and
// a tool per JSON-RPC code that a fault makes answer with it; and a
// stateless JSON server "plain".
func depthScenario(t *testing.T, response string) *scenarios.Scenario {
	t.Helper()
	obj := map[string]any{"type": "object"}
	sc := &scenarios.Scenario{
		Version: 1, Name: "depth", Seed: 11,
		MCPServers: map[string]*scenarios.MCPServer{
			"depth": {URL: "mock", Mock: scenarios.MCPServerMock{Response: response, ExtraTools: depthExtra}},
			"plain": {URL: "mock", Mock: scenarios.MCPServerMock{Response: scenarios.MCPResponseJSON, Stateless: true}},
		},
		Tools: []*scenarios.Tool{
			{Name: "structured", Description: "a structured result", InputSchema: obj, Server: "depth",
				Mock: scenarios.ToolMock{Result: map[string]any{"rows": 3, "ok": true}}},
			{Name: "failing", InputSchema: obj, Server: "depth", Mock: scenarios.ToolMock{Result: "denied", IsError: true}},
			{Name: "ping", InputSchema: obj, Server: "plain", Mock: scenarios.ToolMock{Result: "pong"}},
		},
		Resources: []*scenarios.Resource{
			{URI: "docs://runbook", Name: "runbook", Description: "the runbook", MIMEType: "text/markdown", Server: "depth",
				Mock: scenarios.ContentMock{Text: "# Runbook", Latency: fixed(time.Millisecond)}},
		},
		Prompts: []*scenarios.Prompt{
			{Name: "triage", Description: "triage an incident", Server: "depth",
				Arguments: []scenarios.PromptArgument{{Name: "service", Description: "the service", Required: true}, {Name: "severity"}},
				Mock:      scenarios.ContentMock{Text: "Triage {{service}} at {{severity}}; {{unknown}} stays."}},
		},
		MCPDirect: &scenarios.MCPDirect{Server: "depth", Mix: []scenarios.MCPOp{{Op: scenarios.MCPOpToolsList}}},
		Load:      scenarios.LoadShape{Stages: []scenarios.Stage{{Rate: 1, Duration: scenarios.Duration(time.Second)}}},
	}
	if response == scenarios.MCPResponseSSE {
		sc.Tools = append(sc.Tools, &scenarios.Tool{Name: "report", InputSchema: obj, Server: "depth",
			Mock: scenarios.ToolMock{Latency: fixed(60 * time.Millisecond), Progress: 3, Result: "done"}})
	}
	for _, code := range depthCodes {
		name := fmt.Sprintf("code_%d", -code)
		sc.Tools = append(sc.Tools, &scenarios.Tool{Name: name, InputSchema: obj, Server: "depth"})
		sc.Faults = append(sc.Faults, scenarios.Fault{Target: "tool:" + name, Kind: scenarios.FaultJSONRPCError, Code: code, Message: "fault " + name})
	}
	sc.ApplyDefaults()
	if err := sc.Validate(); err != nil {
		t.Fatalf("depth scenario: %v", err)
	}
	return sc
}

var extraName = regexp.MustCompile(`^[a-z]+_[a-z]+_[a-z]+_[0-9]{4}$`)

// TestMCPDepthSDKConformance runs the official Go SDK client against the
// mock's MCP server, in both response modes, and checks each answer field
// by field.
func TestMCPDepthSDKConformance(t *testing.T) {
	for _, mode := range []string{scenarios.MCPResponseJSON, scenarios.MCPResponseSSE} {
		t.Run(mode, func(t *testing.T) {
			sc := depthScenario(t, mode)
			// The global default is the opposite mode: the server's own wins.
			_, base := startMock(t, sc, WithMCPStreaming(mode == scenarios.MCPResponseJSON))
			ctx := context.Background()

			var (
				mu       sync.Mutex
				progress []*mcp.ProgressNotificationParams
			)
			client := mcp.NewClient(&mcp.Implementation{Name: "depth-test", Version: "1"}, &mcp.ClientOptions{
				ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					progress = append(progress, req.Params)
					mu.Unlock()
				},
			})
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			cs, err := client.Connect(cctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp/depth", MaxRetries: -1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()

			// initialize
			ir := cs.InitializeResult()
			if ir.ServerInfo == nil || ir.ServerInfo.Name != "mcpload-mock/depth" || ir.ServerInfo.Version != implementationVersion {
				t.Errorf("serverInfo %+v", ir.ServerInfo)
			}
			if ir.ProtocolVersion == "" {
				t.Error("no protocolVersion")
			}
			if c := ir.Capabilities; c == nil || c.Tools == nil || c.Resources == nil || c.Prompts == nil {
				t.Errorf("capabilities %+v", c)
			}

			// tools/list: the scenario's tools of this server, and the extra ones.
			list, err := cs.ListTools(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			own := 0
			for _, tl := range sc.Tools {
				if tl.Server == "depth" {
					own++
				}
			}
			if len(list.Tools) != own+depthExtra || list.NextCursor != "" {
				t.Fatalf("%d tools (cursor %q), want %d in one page", len(list.Tools), list.NextCursor, own+depthExtra)
			}
			names := map[string]bool{}
			var extra []*mcp.Tool
			for _, tl := range list.Tools {
				if names[tl.Name] {
					t.Errorf("tool %q listed twice", tl.Name)
				}
				names[tl.Name] = true
				if extraName.MatchString(tl.Name) {
					extra = append(extra, tl)
				}
			}
			if len(extra) != depthExtra {
				t.Fatalf("%d extra tools, want %d", len(extra), depthExtra)
			}
			for _, tl := range extra {
				schema, ok := normValue(t, tl.InputSchema).(map[string]any)
				props, _ := schema["properties"].(map[string]any)
				if !ok || schema["type"] != "object" || len(props) < 2 || len(tl.Description) < 20 {
					t.Errorf("extra tool %s: description %q, schema %v", tl.Name, tl.Description, schema)
				}
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: extra[0].Name, Arguments: map[string]any{}})
			if err != nil || res.IsError || len(res.Content) != 1 || !strings.HasSuffix(res.Content[0].(*mcp.TextContent).Text, ": ok") {
				t.Errorf("extra tool call: %+v, %v", res, err)
			}

			// tools/call: content, structuredContent, isError.
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "structured"})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"ok": true, "rows": float64(3)}
			if got := normJSON(t, res.Content[0].(*mcp.TextContent).Text); res.IsError || len(res.Content) != 1 || !reflect.DeepEqual(got, want) {
				t.Errorf("structured: content %v, isError %v", got, res.IsError)
			}
			if got := normValue(t, res.StructuredContent); !reflect.DeepEqual(got, want) {
				t.Errorf("structuredContent %v, want %v", got, want)
			}
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "failing"})
			if err != nil || !res.IsError || res.Content[0].(*mcp.TextContent).Text != "denied" || res.StructuredContent != nil {
				t.Errorf("failing: %+v, %v", res, err)
			}

			// resources/list and resources/read.
			rl, err := cs.ListResources(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rl.Resources) != 1 {
				t.Fatalf("resources %+v", rl.Resources)
			}
			if r := rl.Resources[0]; r.URI != "docs://runbook" || r.Name != "runbook" || r.Description != "the runbook" || r.MIMEType != "text/markdown" {
				t.Errorf("listed resource %+v", r)
			}
			rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "docs://runbook"})
			if err != nil {
				t.Fatal(err)
			}
			if len(rr.Contents) != 1 || rr.Contents[0].URI != "docs://runbook" || rr.Contents[0].MIMEType != "text/markdown" || rr.Contents[0].Text != "# Runbook" || rr.Contents[0].Blob != nil {
				t.Errorf("read %+v", rr.Contents)
			}
			_, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "docs://nope"})
			if code := rpcCode(err); code != jsonrpc.CodeInvalidParams {
				t.Errorf("unknown resource: code %d (%v), want -32602", code, err)
			}

			// prompts/list and prompts/get.
			pl, err := cs.ListPrompts(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(pl.Prompts) != 1 || pl.Prompts[0].Name != "triage" || pl.Prompts[0].Description != "triage an incident" {
				t.Fatalf("prompts %+v", pl.Prompts)
			}
			if args := pl.Prompts[0].Arguments; len(args) != 2 || args[0].Name != "service" || !args[0].Required || args[0].Description != "the service" || args[1].Name != "severity" || args[1].Required {
				t.Errorf("prompt arguments %+v", args)
			}
			pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "triage", Arguments: map[string]string{"service": "checkout", "severity": "sev2"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(pr.Messages) != 1 || pr.Messages[0].Role != "user" || pr.Description != "triage an incident" {
				t.Fatalf("prompt %+v", pr)
			}
			if txt := pr.Messages[0].Content.(*mcp.TextContent).Text; txt != "Triage checkout at sev2; {{unknown}} stays." {
				t.Errorf("prompt text %q", txt)
			}

			// Each JSON-RPC code comes back as a jsonrpc error with that
			// code and the fault's message, with two quirks of the SDK
			// (v1.8.0): its server rewrites the message of any -32601 to
			// "method not found: METHOD", and its client takes -32003 and
			// -32004, which its own jsonrpc2 layer uses for "client is
			// closing" and "server is closing", for ErrConnectionClosed
			// (the session stays usable). The wire carries them as sent:
			// see TestMCPRPCErrorWire.
			for _, code := range depthCodes {
				name := fmt.Sprintf("code_%d", -code)
				_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name})
				var je *jsonrpc.Error
				switch code {
				case -32003, -32004:
					if !errors.Is(err, mcp.ErrConnectionClosed) || !strings.Contains(err.Error(), "fault "+name) {
						t.Errorf("%s: %v, want the SDK's ErrConnectionClosed with the fault's message", name, err)
					}
				case -32601:
					if !errors.As(err, &je) || je.Code != int64(code) || !strings.Contains(je.Message, "method not found") {
						t.Errorf("%s: %v, want jsonrpc error %d", name, err, code)
					}
				default:
					if !errors.As(err, &je) || je.Code != int64(code) || je.Message != "fault "+name {
						t.Errorf("%s: %v, want jsonrpc error %d %q", name, err, code, "fault "+name)
					}
				}
			}
			// The session survives them.
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "structured"}); err != nil {
				t.Errorf("after the errors: %v", err)
			}

			if mode != scenarios.MCPResponseSSE {
				return
			}
			// Progress: the call's token, 1..3 of 3, before the result.
			params := &mcp.CallToolParams{Name: "report"}
			params.SetProgressToken("tok-7")
			start := time.Now()
			res, err = cs.CallTool(ctx, params)
			if err != nil || res.Content[0].(*mcp.TextContent).Text != "done" {
				t.Fatalf("report: %+v, %v", res, err)
			}
			if d := time.Since(start); d < 60*time.Millisecond {
				t.Errorf("report took %v, less than its 60ms latency", d)
			}
			waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(progress) >= 3 })
			mu.Lock()
			defer mu.Unlock()
			if len(progress) != 3 {
				t.Fatalf("%d progress notifications, want 3", len(progress))
			}
			for i, p := range progress {
				if p.ProgressToken != "tok-7" || p.Progress != float64(i+1) || p.Total != 3 || p.Message == "" {
					t.Errorf("notification %d: %+v", i, p)
				}
			}
		})
	}
}

// rpcCode is the JSON-RPC code of err, 0 when it has none.
func rpcCode(err error) int64 {
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		return je.Code
	}
	return 0
}

// A call without a progress token gets no notifications: they are the
// client's to ask for.
func TestMCPProgressNeedsToken(t *testing.T) {
	_, base := startMock(t, depthScenario(t, scenarios.MCPResponseSSE))
	rc := newRPCClient(t, http.DefaultClient, base+"/mcp/depth")
	for _, tc := range []struct {
		meta string
		want int
	}{{"", 0}, {`"_meta":{"progressToken":42},`, 3}} {
		r := rc.post(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{` + tc.meta + `"name":"report","arguments":{}}}`)
		wantStatus(t, r, 200)
		if ct := r.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content-type %q", ct)
		}
		body := string(r.body)
		if n := strings.Count(body, `"method":"notifications/progress"`); n != tc.want {
			t.Errorf("meta %q: %d progress notifications, want %d: %s", tc.meta, n, tc.want, body)
		}
		if tc.want > 0 && !strings.Contains(body, `"progressToken":42`) {
			t.Errorf("notifications do not carry the token: %s", body)
		}
		// The response comes last.
		if i, j := strings.LastIndex(body, "notifications/progress"), strings.Index(body, `"id":9`); tc.want > 0 && j < i {
			t.Errorf("response before a notification: %s", body)
		}
	}
}

// A stateless server sets no Mcp-Session-Id and answers each request on
// its own; the SDK client works with it.
func TestMCPStateless(t *testing.T) {
	_, base := startMock(t, depthScenario(t, scenarios.MCPResponseJSON), WithMCPStreaming(true))
	url := base + "/mcp/plain"
	r := send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`, "Accept", "application/json, text/event-stream")
	wantStatus(t, r, 200)
	if sid := r.resp.Header.Get("Mcp-Session-Id"); sid != "" {
		t.Errorf("stateless server set Mcp-Session-Id %q", sid)
	}
	if ct := r.resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content-type %q, want JSON (the server's own mode)", ct)
	}
	out := decodeRPC(t, send(http.DefaultClient, url, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"ping","arguments":{}}}`,
		"Accept", "application/json, text/event-stream", "Mcp-Protocol-Version", "2025-06-18"))
	if out.Error != nil || len(out.Result.Content) != 1 || out.Result.Content[0].(*mcp.TextContent).Text != "pong" {
		t.Errorf("sessionless call: %+v", out)
	}
	cs := connectMCP(t, url)
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "ping"})
	if err != nil || res.Content[0].(*mcp.TextContent).Text != "pong" {
		t.Errorf("SDK client on a stateless server: %+v, %v", res, err)
	}
	// DELETE has nothing to end.
	req, _ := http.NewRequest(http.MethodDelete, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE on a stateless server: %d, want 405", resp.StatusCode)
	}
}

// Extra tools are the same for a seed and server, differ with the seed,
// and step around the scenario's names.
func TestExtraTools(t *testing.T) {
	list := func(seed int64, taken map[string]bool) []string {
		tools, err := extraTools("s", 40, seed, taken)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, mt := range tools {
			out = append(out, mt.def.Name+"|"+mt.def.Description+"|"+fmt.Sprint(normValue(t, mt.def.InputSchema)))
		}
		return out
	}
	a, b, c := list(7, nil), list(7, nil), list(8, nil)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different tools")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same tools")
	}
	first := strings.SplitN(a[0], "|", 2)[0]
	d := list(7, map[string]bool{first: true})
	if got := strings.SplitN(d[0], "|", 2)[0]; got != first+"_x" {
		t.Errorf("a taken name became %q, want %q", got, first+"_x")
	}
	var required int
	for _, x := range a {
		if strings.Contains(x, "required:") {
			required++
		}
	}
	if required == 0 {
		t.Error("no extra tool has required properties")
	}
}

// TestMCPRPCErrorWire checks the JSON-RPC error responses on the wire, in
// both response modes: the id, the code, the message.
func TestMCPRPCErrorWire(t *testing.T) {
	for _, mode := range []string{scenarios.MCPResponseJSON, scenarios.MCPResponseSSE} {
		t.Run(mode, func(t *testing.T) {
			_, base := startMock(t, depthScenario(t, mode))
			rc := newRPCClient(t, http.DefaultClient, base+"/mcp/depth")
			for _, code := range depthCodes {
				name := fmt.Sprintf("code_%d", -code)
				r := rc.call(name)
				wantStatus(t, r, 200)
				body := r.body
				if mode == scenarios.MCPResponseSSE {
					// One event: "event: message" and its data line.
					i := bytes.Index(body, []byte("data: "))
					if !strings.HasPrefix(r.resp.Header.Get("Content-Type"), "text/event-stream") || i < 0 {
						t.Fatalf("%s: not an event stream: %s", name, body)
					}
					body = bytes.TrimSpace(body[i+len("data: "):])
				} else if !strings.HasPrefix(r.resp.Header.Get("Content-Type"), "application/json") {
					t.Fatalf("%s: content-type %q", name, r.resp.Header.Get("Content-Type"))
				}
				var out struct {
					JSONRPC string          `json:"jsonrpc"`
					ID      int             `json:"id"`
					Result  json.RawMessage `json:"result"`
					Error   *struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if err := json.Unmarshal(body, &out); err != nil {
					t.Fatalf("%s: %v: %s", name, err, body)
				}
				msg := "fault " + name
				if code == -32601 {
					msg = `method not found: "tools/call"` // the SDK server's rewrite
				}
				if out.JSONRPC != "2.0" || out.ID != 7 || out.Result != nil || out.Error == nil || out.Error.Code != code || out.Error.Message != msg {
					t.Errorf("%s: %s", name, body)
				}
			}
		})
	}
}
