package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpc "github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// depthRequest is one POST the depth server got.
type depthRequest struct {
	method, sid, proto string
}

// depthServer is an MCP server built with the official Go SDK (not the
// mock): tools that echo, report progress and fail with JSON-RPC codes, a
// resource and a prompt. It records every POST's method and MCP headers,
// and the session ids it issued.
type depthServer struct {
	url string
	srv *mcp.Server

	mu       sync.Mutex
	requests []depthRequest
	issued   map[string]bool
	deletes  int
}

const depthProgress = 3

func startDepthServer(t *testing.T, jsonResponse bool) *depthServer {
	t.Helper()
	d := &depthServer{issued: map[string]bool{}}
	d.srv = mcp.NewServer(&mcp.Implementation{Name: "depth", Version: "1"}, nil)
	obj := map[string]any{"type": "object", "properties": map[string]any{"text": map[string]any{"type": "string"}}}
	d.srv.AddTool(&mcp.Tool{Name: "echo", Description: "echoes", InputSchema: obj}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in struct{ Text string }
		json.Unmarshal(req.Params.Arguments, &in)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "echo: " + in.Text}}}, nil
	})
	d.srv.AddTool(&mcp.Tool{Name: "work", Description: "reports progress", InputSchema: map[string]any{"type": "object"}}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if tok := req.Params.GetProgressToken(); tok != nil {
			for i := range depthProgress {
				time.Sleep(2 * time.Millisecond)
				// On JSON responses the SDK has no stream to send it on
				// (it fails with -32005 without a standalone GET stream,
				// which mcpload does not open): progress is best effort.
				_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i + 1), Total: depthProgress})
			}
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "worked"}}}, nil
	})
	for _, code := range []int64{-32001, -32002, -32003, -32004, -32601, -32603, -32700} {
		d.srv.AddTool(&mcp.Tool{Name: fmt.Sprintf("fail_%d", -code), InputSchema: map[string]any{"type": "object"}}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, &jsonrpc.Error{Code: code, Message: fmt.Sprintf("failed with %d", code)}
		})
	}
	d.srv.AddResource(&mcp.Resource{URI: "docs://readme", Name: "readme", MIMEType: "text/plain"}, func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: "read me"}}}, nil
	})
	d.srv.AddPrompt(&mcp.Prompt{Name: "greet", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}}, func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hello " + req.Params.Arguments["who"]}}}}, nil
	})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return d.srv }, &mcp.StreamableHTTPOptions{JSONResponse: jsonResponse})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			d.mu.Lock()
			d.deletes++
			d.mu.Unlock()
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
		}
		json.Unmarshal(body, &msg)
		d.mu.Lock()
		d.requests = append(d.requests, depthRequest{msg.Method, r.Header.Get("Mcp-Session-Id"), r.Header.Get("Mcp-Protocol-Version")})
		d.mu.Unlock()
		h.ServeHTTP(w, r)
		if sid := w.Header().Get("Mcp-Session-Id"); msg.Method == "initialize" && sid != "" {
			d.mu.Lock()
			d.issued[sid] = true
			d.mu.Unlock()
		}
	}))
	t.Cleanup(ts.Close)
	d.url = ts.URL + "/mcp"
	return d
}

// checkHeaders asserts that every request after initialize carried an
// issued Mcp-Session-Id and the negotiated MCP-Protocol-Version, and
// returns the number of initialize requests and of distinct sessions used.
func (d *depthServer) checkHeaders(t *testing.T) (inits, sessions int) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	used := map[string]bool{}
	for _, r := range d.requests {
		if r.method == "initialize" {
			inits++
			if r.sid != "" || r.proto != "" {
				t.Errorf("initialize carried session %q, version %q", r.sid, r.proto)
			}
			continue
		}
		if !d.issued[r.sid] || r.proto != mcpc.ProtocolVersion {
			t.Errorf("%s: Mcp-Session-Id %q (issued: %v), MCP-Protocol-Version %q", r.method, r.sid, d.issued[r.sid], r.proto)
		}
		used[r.sid] = true
	}
	return inits, len(used)
}

func depthDirect(url, session string) *scenarios.Scenario {
	sc := &scenarios.Scenario{
		Version: 1, Name: "depth", Seed: 3,
		MCPServers: map[string]*scenarios.MCPServer{"sdk": {URL: url}},
		Tools: []*scenarios.Tool{
			{Name: "echo", InputSchema: map[string]any{"type": "object"}, Server: "sdk"},
			{Name: "work", InputSchema: map[string]any{"type": "object"}, Server: "sdk"},
		},
		MCPDirect: &scenarios.MCPDirect{
			Server:  "sdk",
			Session: session,
			Mix: []scenarios.MCPOp{
				{Tool: "echo", Arguments: map[string]any{"text": "hi"}, Weight: 2},
				{Tool: "work", Progress: ptrBool(true)},
				{Op: scenarios.MCPOpToolsList},
				{Op: scenarios.MCPOpResourcesRead, URI: "docs://readme"},
				{Op: scenarios.MCPOpPromptsGet, Prompt: "greet", Arguments: map[string]any{"who": "ops"}},
			},
		},
		Load:   scenarios.LoadShape{Stages: []scenarios.Stage{{Rate: 60, Duration: scenarios.Duration(time.Second)}}, MaxInFlight: 4},
		Client: scenarios.Client{Timeout: scenarios.Duration(5 * time.Second)},
	}
	sc.ApplyDefaults()
	return sc
}

func ptrBool(b bool) *bool { return &b }

// TestMCPDepthOpsAgainstSDKServer checks each op's attempt field by field,
// in both of the SDK server's response modes.
func TestMCPDepthOpsAgainstSDKServer(t *testing.T) {
	for _, jsonResponse := range []bool{false, true} {
		t.Run(map[bool]string{false: "sse", true: "json"}[jsonResponse], func(t *testing.T) {
			d := startDepthServer(t, jsonResponse)
			sc := depthDirect(d.url, scenarios.SessionPerVU)
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			j := jobsNewJob(t, sc, jobConfig{Slots: 1}).(*mcpDirectJob)
			sink := &jobsSink{}
			ctx := context.Background()
			// One of each op, in mix order, whatever the draw.
			for i, op := range j.ops {
				sess, hs := op.lane.pool.Get(ctx, 0, uint64(i), 0, sink)
				if sess == nil {
					t.Fatalf("session: %+v", hs)
				}
				call := op.lane.client.Call(ctx, sess, uint64(i), 0, op.req, sink)
				if call.Outcome != record.OutcomeOK || call.RPCCode != 0 {
					t.Errorf("%s: %s %q", op.req.Key, call.Outcome, call.Err)
				}
			}
			attempts, _, _ := sink.snapshot()
			byKey := map[string]record.Attempt{}
			for _, a := range attempts {
				byKey[a.Key] = a
			}
			want := []struct{ key, kind string }{
				{"tool:echo", record.StepTool}, {"tool:work", record.StepTool}, {"mcp:sdk/tools/list", record.StepMCP},
				{"resource:docs://readme", record.StepMCP}, {"prompt:greet", record.StepMCP},
				{"mcp:sdk/initialize", record.KindSession}, {"mcp:sdk/initialized", record.KindSession},
			}
			if len(attempts) != len(want) {
				t.Fatalf("%d attempts, want %d: %+v", len(attempts), len(want), attempts)
			}
			for _, w := range want {
				a, ok := byKey[w.key]
				status, empty := 200, false
				if w.key == "mcp:sdk/initialized" {
					status, empty = http.StatusAccepted, true // a notification has no response
				}
				if !ok || a.Kind != w.kind || a.Outcome != record.OutcomeOK || a.Status != status || (a.BytesIn == 0) != empty || a.Attempt != 1 || a.RPCCode != 0 {
					t.Errorf("%s: %+v", w.key, a)
				}
			}
			// Progress: on an event stream the notifications are counted;
			// on JSON responses the SDK cannot send them with the response.
			work := byKey["tool:work"]
			if !jsonResponse && (work.Progress != depthProgress || work.FirstProgressUS <= 0 || work.FirstProgressUS > work.LatencyUS) {
				t.Errorf("work over SSE: progress %d, first %dµs of %dµs", work.Progress, work.FirstProgressUS, work.LatencyUS)
			}
			if jsonResponse && (work.Progress != 0 || work.FirstProgressUS != 0) {
				t.Errorf("work over JSON: progress %d", work.Progress)
			}
			// tools/list: the server's tool list, measured.
			ts := byKey["mcp:sdk/tools/list"].ToolsSchema
			if ts == nil || ts.Tools != 9 || ts.Bytes <= 0 || len(ts.DialectBytes) != 3 {
				t.Fatalf("tools_schema %+v", ts)
			}
			for api, n := range ts.DialectBytes {
				if n <= 0 {
					t.Errorf("%s: %d bytes", api, n)
				}
			}
			if ts.Bytes >= int(byKey["mcp:sdk/tools/list"].BytesIn) {
				t.Errorf("tool list %d bytes, not less than the whole response's %d", ts.Bytes, byKey["mcp:sdk/tools/list"].BytesIn)
			}
			if inits, sessions := d.checkHeaders(t); inits != 1 || sessions != 1 {
				t.Errorf("%d initializes, %d sessions; want 1 each", inits, sessions)
			}
		})
	}
}

// TestMCPRPCCodesClassified checks each JSON-RPC code's outcome, and that
// the code is recorded, against the SDK server (which sends -32003 and
// -32004 as any other code) and for an unknown tool and method.
func TestMCPRPCCodesClassified(t *testing.T) {
	d := startDepthServer(t, false)
	c := mcpc.NewStreamable(jobsHTTPClient(t), "sdk", d.url, 5*time.Second, secrets.NewRedactor())
	sink := &jobsSink{}
	ctx := context.Background()
	sess, hs := c.Handshake(ctx, 1, 0, sink)
	if sess == nil {
		t.Fatalf("initialize: %+v", hs)
	}
	for _, tc := range []struct {
		req     *mcpc.Request
		code    int
		outcome string
	}{
		{mcpc.ToolCall("fail_32001", nil, false), -32001, record.OutcomeToolError},
		{mcpc.ToolCall("fail_32002", nil, false), -32002, record.OutcomeToolError},
		{mcpc.ToolCall("fail_32003", nil, false), -32003, record.OutcomeTimeout},
		{mcpc.ToolCall("fail_32004", nil, false), -32004, record.Outcome429},
		{mcpc.ToolCall("fail_32601", nil, false), -32601, record.OutcomeProtocol},
		{mcpc.ToolCall("fail_32603", nil, false), -32603, record.OutcomeProtocol},
		{mcpc.ToolCall("fail_32700", nil, false), -32700, record.OutcomeProtocol},
		{mcpc.ToolCall("nope", nil, false), -32602, record.OutcomeToolError},
		{&mcpc.Request{Method: scenarios.MCPOpResourcesRead, Key: "resource:docs://nope", Kind: record.StepMCP, Params: []byte(`"uri":"docs://nope"`)}, -32602, record.OutcomeToolError},
		{&mcpc.Request{Method: scenarios.MCPOpPromptsGet, Key: "prompt:nope", Kind: record.StepMCP, Params: []byte(`"name":"nope"`)}, -32602, record.OutcomeToolError},
	} {
		call := c.Call(ctx, sess, 1, 1, tc.req, sink)
		if call.RPCCode != tc.code || call.Outcome != tc.outcome || !strings.HasPrefix(call.Err, fmt.Sprintf("jsonrpc %d: ", tc.code)) {
			t.Errorf("%s: code %d outcome %s err %q; want %d %s", tc.req.Key, call.RPCCode, call.Outcome, call.Err, tc.code, tc.outcome)
		}
	}
	attempts, _, _ := sink.snapshot()
	for _, a := range attempts[2:] { // after the handshake
		if a.RPCCode == 0 || a.Status != 200 || a.Error == "" {
			t.Errorf("attempt %+v", a)
		}
	}
	// The SDK answers a method it does not know with HTTP 400, before
	// JSON-RPC: a 4xx, with no code.
	call := c.Call(ctx, sess, 1, 2, &mcpc.Request{Method: "tools/nope", Key: "mcp:sdk/tools/nope", Kind: record.StepMCP}, sink)
	if call.Outcome != record.Outcome4xx || call.RPCCode != 0 || call.Status != http.StatusBadRequest {
		t.Errorf("unknown method: %s %d %d %q", call.Outcome, call.RPCCode, call.Status, call.Err)
	}
}

// TestMCPDirectRunSessions runs MCP-direct loads against the SDK server:
// per_vu initializes once per slot, per_call once per operation, and every
// request after initialize carries the session and protocol version.
func TestMCPDirectRunSessions(t *testing.T) {
	for _, session := range []string{scenarios.SessionPerVU, scenarios.SessionPerCall} {
		t.Run(session, func(t *testing.T) {
			d := startDepthServer(t, false)
			sc := depthDirect(d.url, session)
			dir := t.TempDir()
			run, err := Run(context.Background(), sc, dir, WithHTTPClient(jobsHTTPClient(t)), WithInterval(200*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			ops := run.Conversations.Started
			if ops < 30 || run.Conversations.OK != ops {
				t.Fatalf("%d ops started, %d ok: %+v", ops, run.Conversations.OK, run.Conversations)
			}
			counts := map[string]int{}
			var progress int
			for _, a := range readAttempts(t, dir) {
				counts[a.Key]++
				progress += a.Progress
				if a.Outcome != record.OutcomeOK {
					t.Errorf("attempt %+v", a)
				}
			}
			for _, k := range []string{"tool:echo", "tool:work", "mcp:sdk/tools/list", "resource:docs://readme", "prompt:greet"} {
				if counts[k] == 0 {
					t.Errorf("no %s attempt in %d ops: %v", k, ops, counts)
				}
			}
			if progress != depthProgress*counts["tool:work"] {
				t.Errorf("%d progress notifications for %d work calls", progress, counts["tool:work"])
			}
			inits, sessions := d.checkHeaders(t)
			if inits != counts["mcp:sdk/initialize"] {
				t.Errorf("server saw %d initializes, attempts say %d", inits, counts["mcp:sdk/initialize"])
			}
			switch session {
			case scenarios.SessionPerVU:
				if inits < 1 || inits > sc.Load.MaxInFlight || sessions != inits {
					t.Errorf("per_vu: %d initializes, %d sessions for %d ops; want 1 to %d", inits, sessions, ops, sc.Load.MaxInFlight)
				}
			case scenarios.SessionPerCall:
				d.mu.Lock()
				deletes := d.deletes
				d.mu.Unlock()
				if uint64(inits) != ops || uint64(sessions) != ops || uint64(deletes) != ops || counts["mcp:sdk/delete"] != int(ops) {
					t.Errorf("per_call: %d initializes, %d sessions, %d deletes (%d attempts) for %d ops", inits, sessions, deletes, counts["mcp:sdk/delete"], ops)
				}
			}
		})
	}
}

// readAttempts reads attempts.jsonl.gz as report does, and fails on any
// damage: the recorder must write only whole records.
func readAttempts(t testing.TB, dir string) []record.Attempt {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, record.AttemptsFile+record.GzipSuffix)); err != nil {
		t.Fatalf("no compressed attempts: %v", err)
	}
	var out []record.Attempt
	d, err := record.EachLine(dir, record.AttemptsFile, func(line []byte) {
		var a record.Attempt
		if err := json.Unmarshal(line, &a); err != nil {
			t.Fatalf("attempts.jsonl line %d: %v", len(out)+1, err)
		}
		out = append(out, a)
	})
	if err != nil || d != (record.LineDamage{}) {
		t.Fatalf("reading attempts: %v, damage %+v", err, d)
	}
	return out
}
