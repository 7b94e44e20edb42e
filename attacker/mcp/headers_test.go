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
	for _, c := range []struct {
		name    string
		handler func(func(*http.Request) *sdk.Server) http.Handler
		client  func(hc *http.Client, url string) Client
		want    map[string]int // the least requests of each method
	}{
		{
			"streamable",
			func(f func(*http.Request) *sdk.Server) http.Handler { return sdk.NewStreamableHTTPHandler(f, nil) },
			func(hc *http.Client, url string) Client {
				c := NewStreamable(hc, "auth", url, 5*time.Second, nopRedactor{})
				c.Headers = authHeaders
				return c
			},
			map[string]int{http.MethodPost: 3, http.MethodDelete: 1},
		},
		{
			"legacy sse",
			func(f func(*http.Request) *sdk.Server) http.Handler { return sdk.NewSSEHandler(f, nil) },
			func(hc *http.Client, url string) Client {
				c := NewLegacySSE(hc, "auth", url, 5*time.Second, nopRedactor{})
				c.Headers = authHeaders
				return c
			},
			map[string]int{http.MethodGet: 1, http.MethodPost: 3},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := echoServer()
			g := &authGate{next: c.handler(func(*http.Request) *sdk.Server { return s }), seen: map[string]int{}}
			ts := httptest.NewServer(g)
			defer ts.Close()
			cl := c.client(testHTTPClient(t), ts.URL)
			sink := &testSink{}
			sess, hs := cl.Handshake(ctx, 1, 0, sink)
			if sess == nil {
				t.Fatalf("handshake: %+v", hs)
			}
			if r := cl.Call(ctx, sess, 1, 1, ToolCall("echo", []byte(`{"text":"x"}`), false), sink); r.Outcome != record.OutcomeOK {
				t.Fatalf("call: %s %q", r.Outcome, r.Err)
			}
			cl.End(ctx, sess, 1, 2, sink)
			for m, n := range c.want {
				if got := g.count(m); got < n {
					t.Errorf("%d %s requests let through, want %d or more", got, m, n)
				}
			}
		})
	}
}
