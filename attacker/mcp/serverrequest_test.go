//lint:file-ignore SA1019 servers still ask for roots and sampling, deprecated in 2026-07-28 (SEP-2577) but served by real servers

package mcp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// testCaps declares every capability, with scripted answers.
func testCaps(t *testing.T) *Capabilities {
	t.Helper()
	caps, err := NewCapabilities(&scenarios.MCPClientCaps{
		Roots:       []scenarios.MCPRoot{{URI: "file:///work/repo", Name: "repo"}},
		Sampling:    &scenarios.MCPSampling{Text: "forty-two", Model: "scripted-1"},
		Elicitation: &scenarios.MCPElicitation{Content: map[string]any{"name": "Ada", "age": 36}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return caps
}

// askServer is the go-sdk's server with tools that need the client:
// direct asks for roots, a sample and an elicitation with server→client
// requests (the initialize lane); mrtr asks for the same as the input
// requests of an input_required result (SEP-2322), which the SDK turns
// into server→client requests for a client of the initialize lane. Both
// answer with what the client gave. errs keeps what the client refused.
type askServer struct {
	url    string
	mu     sync.Mutex
	errs   []string
	bodies []string
}

func (s *askServer) refused() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errs...)
}

func startAskServer(t *testing.T, stateless bool) *askServer {
	srv := &askServer{}
	s := sdk.NewServer(&sdk.Implementation{Name: "ask", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "direct"}, func(ctx context.Context, req *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
		text, refused := askDirect(ctx, req.Session)
		for _, e := range refused {
			srv.note(e)
		}
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text}}}, nil, nil
	})
	addMRTR(s)
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{Stateless: stateless})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		srv.mu.Lock()
		srv.bodies = append(srv.bodies, string(body))
		srv.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	srv.url = ts.URL
	return srv
}

// askDirect asks the client of ss for roots, a sample and an
// elicitation with server→client requests, and returns what it answered
// and what it refused.
func askDirect(ctx context.Context, ss *sdk.ServerSession) (string, []string) {
	var parts, refused []string
	if r, err := ss.ListRoots(ctx, nil); err != nil {
		refused = append(refused, "roots: "+err.Error())
	} else {
		for _, root := range r.Roots {
			parts = append(parts, root.URI+" "+root.Name)
		}
	}
	if r, err := ss.CreateMessage(ctx, &sdk.CreateMessageParams{MaxTokens: 10, Messages: []*sdk.SamplingMessage{{Role: "user", Content: &sdk.TextContent{Text: "meaning?"}}}}); err != nil {
		refused = append(refused, "sampling: "+err.Error())
	} else {
		parts = append(parts, r.Model+" "+r.Content.(*sdk.TextContent).Text)
	}
	if r, err := ss.Elicit(ctx, &sdk.ElicitParams{Message: "who?", RequestedSchema: map[string]any{"type": "object"}}); err != nil {
		refused = append(refused, "elicitation: "+err.Error())
	} else {
		parts = append(parts, fmt.Sprintf("%s %v %v", r.Action, r.Content["name"], r.Content["age"]))
	}
	return strings.Join(parts, "; "), refused
}

func (s *askServer) note(e string) {
	s.mu.Lock()
	s.errs = append(s.errs, e)
	s.mu.Unlock()
}

const askWant = "file:///work/repo repo; scripted-1 forty-two; accept Ada 36"

// serverAnswers lists the outcomes of server ask's server_request
// attempts, by method.
func serverAnswers(sink *testSink) map[string]string { return serverAnswersOf(sink, "ask") }

// settledAnswers is serverAnswersOf once n answers are recorded, or after
// 5 s: over stdio and HTTP+SSE an answer is recorded beside the reader,
// once sent, which may be after the call it belongs to returned.
func settledAnswers(sink *testSink, server string, n int) map[string]string {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if sink.count(record.KindServerRequest, "mcp:"+server+"/roots/list")+
			sink.count(record.KindServerRequest, "mcp:"+server+"/sampling/createMessage")+
			sink.count(record.KindServerRequest, "mcp:"+server+"/elicitation/create") >= n {
			break
		}
	}
	return serverAnswersOf(sink, server)
}

func serverAnswersOf(sink *testSink, server string) map[string]string {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	out := map[string]string{}
	for _, a := range sink.attempts {
		if a.Kind == record.KindServerRequest {
			out[strings.TrimPrefix(a.Key, "mcp:"+server+"/")] += a.Outcome + " "
		}
	}
	return out
}

// TestServerRequestsAgainstSDKServer runs tools of the go-sdk's server
// that ask the client for roots, a sample and an elicitation: by
// server→client requests on the call's event stream in the initialize
// lane, and by input_required results in the stateless 2026-07-28 lane.
// Each is answered as scripted, and counted as a server_request attempt.
func TestServerRequestsAgainstSDKServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
		protocol  string
		tools     []string
	}{
		{"initialize/stateful", false, "", []string{"direct", "mrtr"}},
		{"2026-07-28/stateless", true, ProtocolStateless, []string{"mrtr"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startAskServer(t, tc.stateless)
			c := NewStreamable(testHTTPClient(t), "ask", srv.url, 10*time.Second, nopRedactor{})
			c.Protocol = tc.protocol
			c.SetCapabilities(testCaps(t))
			ctx := context.Background()
			sink := &testSink{}
			s, hs := c.Handshake(ctx, 1, 0, sink)
			if s == nil {
				t.Fatalf("handshake: %+v", hs)
			}
			// Ending the session closes its GET stream, which the
			// server's Close waits for.
			defer c.End(ctx, s, 1, 9, nil)
			for i, tool := range tc.tools {
				r := c.Call(ctx, s, 1, i+1, ToolCall(tool, nil, false), sink)
				if r.Outcome != record.OutcomeOK || r.Text != askWant {
					t.Errorf("%s: %s %q %q; the server refused %v", tool, r.Outcome, r.Text, r.Err, srv.refused())
				}
			}
			got := serverAnswers(sink)
			n := strings.Repeat("ok ", len(tc.tools))
			for _, m := range []string{"roots/list", "sampling/createMessage", "elicitation/create"} {
				if got[m] != n {
					t.Errorf("server_request %s: %q, want %q (all: %v)", m, got[m], n, got)
				}
			}
			srv.mu.Lock()
			declared := strings.Contains(strings.Join(srv.bodies, "\n"), `"roots":{"listChanged":false}`)
			srv.mu.Unlock()
			if !declared {
				t.Errorf("no request declared the roots capability")
			}
		})
	}
}

// TestServerRequestsUndeclared checks that a client declaring nothing
// refuses the server's requests with -32601, which the server receives,
// and counts each refusal as a protocol failure of its own class.
func TestServerRequestsUndeclared(t *testing.T) {
	srv := startAskServer(t, false)
	c := NewStreamable(testHTTPClient(t), "ask", srv.url, 10*time.Second, nopRedactor{})
	ctx := context.Background()
	sink := &testSink{}
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	r := c.Call(ctx, s, 1, 1, ToolCall("direct", nil, false), sink)
	if r.Outcome != record.OutcomeOK {
		t.Fatalf("direct: %s %q", r.Outcome, r.Err)
	}
	refused := strings.Join(srv.refused(), "\n")
	// The SDK does not send an elicitation the client did not declare.
	if !strings.Contains(refused, "roots: ") || !strings.Contains(refused, "sampling: ") || strings.Count(refused, "does not serve") != 2 {
		t.Fatalf("the server saw %q; want roots and sampling refused by mcpload", refused)
	}
	got := serverAnswers(sink)
	if got["roots/list"] != "protocol " || got["sampling/createMessage"] != "protocol " {
		t.Fatalf("server_request attempts %v", got)
	}
}

// TestStdioServerRequests runs the go-sdk's server over stdio, whose tool
// asks the client: with capabilities each request is answered as
// scripted, without them roots and sampling are refused (-32601), and
// the server says it received mcpload's error.
func TestStdioServerRequests(t *testing.T) {
	for _, declared := range []bool{true, false} {
		t.Run(fmt.Sprint("declared=", declared), func(t *testing.T) {
			c := testStdio(t, "")
			if declared {
				c.SetCapabilities(testCaps(t))
			}
			sink := &testSink{}
			ctx := context.Background()
			s, hs := c.Handshake(ctx, 1, 0, sink)
			if s == nil {
				t.Fatalf("handshake: %+v", hs)
			}
			r := c.Call(ctx, s, 1, 1, ToolCall("ask", nil, false), sink)
			n := 3
			if !declared {
				n = 2 // the SDK does not send an elicitation the client did not declare
			}
			got := settledAnswers(sink, "sdk", n)
			if declared {
				if r.Outcome != record.OutcomeOK || r.Text != askWant {
					t.Fatalf("ask: %s %q %q", r.Outcome, r.Text, r.Err)
				}
				if got["roots/list"] != "ok " || got["sampling/createMessage"] != "ok " || got["elicitation/create"] != "ok " {
					t.Fatalf("server_request attempts %v", got)
				}
				return
			}
			// The SDK passes on the error's message, not its code.
			if strings.Count(r.Text, "does not serve") != 2 {
				t.Fatalf("ask: %s %q; want roots and sampling refused with -32601", r.Outcome, r.Text)
			}
			if got["roots/list"] != "protocol " || got["sampling/createMessage"] != "protocol " {
				t.Fatalf("server_request attempts %v", got)
			}
		})
	}
}

// TestStdioStatelessServerRequests: over stdio in the 2026-07-28 lane a
// server asks by input_required results, which are answered as scripted
// and the call sent again, as over HTTP.
func TestStdioStatelessServerRequests(t *testing.T) {
	c := testStdio(t, "")
	c.Protocol = ProtocolStateless
	c.SetCapabilities(testCaps(t))
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil || s.Version() != ProtocolStateless {
		t.Fatalf("handshake: %v %+v", s, hs)
	}
	r := c.Call(ctx, s, 1, 1, ToolCall("mrtr", nil, false), sink)
	if r.Outcome != record.OutcomeOK || r.Text != askWant {
		t.Fatalf("mrtr: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	got := settledAnswers(sink, "sdk", 3)
	for _, m := range []string{"roots/list", "sampling/createMessage", "elicitation/create"} {
		if got[m] != "ok " {
			t.Errorf("server_request %s: %q (all %v)", m, got[m], got)
		}
	}
}

// TestLegacySSEServerRequests runs the ask tool on the go-sdk's legacy
// HTTP+SSE server: the requests come on the session's stream, and the
// answers are POSTed to its endpoint.
func TestLegacySSEServerRequests(t *testing.T) {
	s := sdk.NewServer(&sdk.Implementation{Name: "legacy", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "ask"}, func(ctx context.Context, req *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, any, error) {
		text, refused := askDirect(ctx, req.Session)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: text + strings.Join(refused, "; ")}}}, nil, nil
	})
	ts := httptest.NewServer(sdk.NewSSEHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(ts.Close)
	c := NewLegacySSE(testHTTPClient(t), "old", ts.URL, 10*time.Second, nopRedactor{})
	c.SetCapabilities(testCaps(t))
	ctx := context.Background()
	sink := &testSink{}
	sess, hs := c.Handshake(ctx, 1, 0, sink)
	if sess == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	defer c.End(ctx, sess, 1, 2, nil)
	if r := c.Call(ctx, sess, 1, 1, ToolCall("ask", nil, false), sink); r.Outcome != record.OutcomeOK || r.Text != askWant {
		t.Fatalf("ask: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	if got := settledAnswers(sink, "old", 3); got["roots/list"] != "ok " || got["sampling/createMessage"] != "ok " || got["elicitation/create"] != "ok " {
		t.Fatalf("server_request attempts %v", got)
	}
}

// addMRTR adds mrtr to s: a tool that asks for roots, a sample and an
// elicitation by an input_required result (SEP-2322), the stateless
// lane's way, and answers with what it got.
func addMRTR(s *sdk.Server) {
	s.AddTool(&sdk.Tool{Name: "mrtr", InputSchema: map[string]any{"type": "object"}}, mrtr)
}

func mrtr(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
	in := req.Params.InputResponses
	if in == nil {
		return &sdk.CallToolResult{RequestState: "state-1", InputRequests: sdk.InputRequestMap{
			"roots":  &sdk.ListRootsParams{},
			"sample": &sdk.CreateMessageParams{MaxTokens: 10, Messages: []*sdk.SamplingMessage{{Role: "user", Content: &sdk.TextContent{Text: "meaning?"}}}},
			"elicit": &sdk.ElicitParams{Message: "who?", RequestedSchema: map[string]any{"type": "object"}},
		}}, nil
	}
	var parts []string
	if r, ok := in["roots"].(*sdk.ListRootsResult); ok {
		for _, root := range r.Roots {
			parts = append(parts, root.URI+" "+root.Name)
		}
	}
	switch r := in["sample"].(type) {
	case *sdk.CreateMessageResult:
		parts = append(parts, r.Model+" "+r.Content.(*sdk.TextContent).Text)
	case *sdk.CreateMessageWithToolsResult:
		parts = append(parts, r.Model+" "+r.Content[0].(*sdk.TextContent).Text)
	}
	if r, ok := in["elicit"].(*sdk.ElicitResult); ok {
		parts = append(parts, fmt.Sprintf("%s %v %v", r.Action, r.Content["name"], r.Content["age"]))
	}
	if req.Params.RequestState != "state-1" && req.Session.InitializeParams() == nil {
		parts = append(parts, "state lost: "+req.Params.RequestState)
	}
	return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: strings.Join(parts, "; ")}}}, nil
}
