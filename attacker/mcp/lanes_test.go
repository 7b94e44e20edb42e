package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
)

// sdkHTTPServer is the go-sdk's Streamable HTTP server, stateless or not,
// serving echo; it keeps the headers of each request.
type sdkHTTPServer struct {
	url     string
	mu      sync.Mutex
	headers []http.Header
}

func startSDKHTTPServer(t *testing.T, stateless bool) *sdkHTTPServer {
	s := sdk.NewServer(&sdk.Implementation{Name: "lanes", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{Stateless: stateless, JSONResponse: true})
	srv := &sdkHTTPServer{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.mu.Lock()
		srv.headers = append(srv.headers, r.Header.Clone())
		srv.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	srv.url = ts.URL
	return srv
}

func (s *sdkHTTPServer) last() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.headers[len(s.headers)-1]
}

// TestLanesAgainstSDKServer runs each lane against the go-sdk's server,
// stateless and stateful: the lane each negotiates, the handshake attempts
// it records, and a tools/call in it.
func TestLanesAgainstSDKServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
		protocol  string
		discover  bool
		version   string   // negotiated
		keys      []string // handshake attempts, in order
		fails     bool     // the handshake fails
	}{
		{"initialize/stateful", false, "", false, ProtocolVersion, []string{"initialize", "initialized"}, false},
		{"initialize/stateless", true, ProtocolVersion, false, ProtocolVersion, []string{"initialize", "initialized"}, false},
		{"2026-07-28/stateless", true, ProtocolStateless, false, ProtocolStateless, nil, false},
		{"2026-07-28+discover/stateless", true, ProtocolStateless, true, ProtocolStateless, []string{"discover"}, false},
		{"2026-07-28+discover/stateful", false, ProtocolStateless, true, "", []string{"discover"}, true},
		{"auto/stateless", true, ProtocolAuto, false, ProtocolStateless, []string{"discover"}, false},
		{"auto/stateful", false, ProtocolAuto, false, ProtocolVersion, []string{"discover", "initialize", "initialized"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSDKHTTPServer(t, tc.stateless)
			c := NewStreamable(testHTTPClient(t), "sdk", srv.url, 5*time.Second, nopRedactor{})
			c.Protocol, c.Discover = tc.protocol, tc.discover
			sink := &testSink{}
			ctx := context.Background()
			s, hs := c.Handshake(ctx, 1, 0, sink)
			var keys []string
			for _, a := range sink.attempts {
				keys = append(keys, strings.TrimPrefix(a.Key, "mcp:sdk/"))
				if a.Outcome != record.OutcomeOK && !tc.fails {
					t.Errorf("attempt %s: %s %s", a.Key, a.Outcome, a.Error)
				}
			}
			if strings.Join(keys, ",") != strings.Join(tc.keys, ",") {
				t.Fatalf("handshake attempts %v, want %v", keys, tc.keys)
			}
			if tc.fails {
				if s != nil || hs.Outcome != record.OutcomeProtocol {
					t.Fatalf("session %v, %+v; want a protocol failure", s, hs)
				}
				return
			}
			if s == nil || s.Version() != tc.version {
				t.Fatalf("session %v (%+v), want version %s", s, hs, tc.version)
			}
			r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"hi"}`), false), sink)
			if r.Outcome != record.OutcomeOK || r.Text != "echo: hi" {
				t.Fatalf("echo: %s %q %q", r.Outcome, r.Text, r.Err)
			}
			// Every exchange after the lane is known records it; a refused
			// discover was spoken before.
			for _, a := range sink.attempts {
				want := tc.version
				if a.Key == "mcp:sdk/discover" && tc.version != ProtocolStateless {
					want = ""
				}
				if a.MCPProtocol != want {
					t.Errorf("attempt %s records lane %q, want %q", a.Key, a.MCPProtocol, want)
				}
			}
			h := srv.last()
			if tc.version == ProtocolStateless {
				if h.Get(hdrSessionID) != "" || h.Get("Mcp-Method") != "tools/call" || h.Get("Mcp-Name") != "echo" || h.Get(hdrProtocolVersion) != ProtocolStateless {
					t.Fatalf("stateless call headers %v", h)
				}
			} else if h.Get("Mcp-Method") != "" {
				t.Fatalf("routing headers in the initialize lane: %v", h)
			}
		})
	}
}
