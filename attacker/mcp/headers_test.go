package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
)

// authGate refuses every request without the token, and counts the
// methods of those it lets through.
type authGate struct {
	next http.Handler
	mu   sync.Mutex
	seen map[string]int
}

func (g *authGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer t0ken" || r.Header.Get("X-Tenant") != "acme" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	g.mu.Lock()
	g.seen[r.Method]++
	g.mu.Unlock()
	g.next.ServeHTTP(w, r)
}

func (g *authGate) count(method string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.seen[method]
}

func echoServer() *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "auth", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	return s
}

var authHeaders = http.Header{"Authorization": {"Bearer t0ken"}, "X-Tenant": {"acme"}}

// TestHeadersOnEveryExchange: behind a server that answers 401 to any
// request without them, both HTTP transports send the headers on the
// handshake, the calls, the legacy stream's GET and the session's DELETE.
func TestHeadersOnEveryExchange(t *testing.T) {
	ctx := context.Background()
	t.Run("streamable", func(t *testing.T) {
		s := echoServer()
		g := &authGate{next: sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, nil), seen: map[string]int{}}
		ts := httptest.NewServer(g)
		defer ts.Close()
		c := NewStreamable(testHTTPClient(t), "auth", ts.URL, 5*time.Second, nopRedactor{})
		c.Headers = authHeaders
		sink := &testSink{}
		sess, hs := c.Handshake(ctx, 1, 0, sink)
		if sess == nil {
			t.Fatalf("handshake: %+v", hs)
		}
		if r := c.Call(ctx, sess, 1, 1, ToolCall("echo", []byte(`{"text":"x"}`), false), sink); r.Outcome != record.OutcomeOK {
			t.Fatalf("call: %s %q", r.Outcome, r.Err)
		}
		c.End(ctx, sess, 1, 2, sink)
		if g.count(http.MethodPost) < 3 || g.count(http.MethodDelete) != 1 {
			t.Errorf("requests let through: %v; want the handshake, the call and the DELETE", g.seen)
		}
	})
	t.Run("legacy sse", func(t *testing.T) {
		s := echoServer()
		g := &authGate{next: sdk.NewSSEHandler(func(*http.Request) *sdk.Server { return s }, nil), seen: map[string]int{}}
		ts := httptest.NewServer(g)
		defer ts.Close()
		c := NewLegacySSE(testHTTPClient(t), "auth", ts.URL, 5*time.Second, nopRedactor{})
		c.Headers = authHeaders
		sink := &testSink{}
		sess, hs := c.Handshake(ctx, 1, 0, sink)
		if sess == nil {
			t.Fatalf("handshake: %+v", hs)
		}
		if r := c.Call(ctx, sess, 1, 1, ToolCall("echo", []byte(`{"text":"x"}`), false), sink); r.Outcome != record.OutcomeOK {
			t.Fatalf("call: %s %q", r.Outcome, r.Err)
		}
		c.End(ctx, sess, 1, 2, sink)
		if g.count(http.MethodGet) != 1 || g.count(http.MethodPost) < 3 {
			t.Errorf("requests let through: %v; want the stream's GET and the POSTs", g.seen)
		}
	})
}
