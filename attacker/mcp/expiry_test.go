package mcp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
)

// restartableSDKServer is the go-sdk's stateful server behind a handler
// that restart replaces: a restarted server knows no session.
type restartableSDKServer struct {
	url string
	h   atomic.Pointer[http.Handler]
}

func startRestartableSDKServer(t *testing.T) *restartableSDKServer {
	srv := &restartableSDKServer{}
	srv.restart()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*srv.h.Load()).ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	srv.url = ts.URL
	return srv
}

func (s *restartableSDKServer) restart() {
	m := sdk.NewServer(&sdk.Implementation{Name: "expiring", Version: "1"}, nil)
	sdk.AddTool(m, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	var h http.Handler = sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return m }, &sdk.StreamableHTTPOptions{JSONResponse: true})
	s.h.Store(&h)
}

// keysOf lists the attempts' keys (without the server prefix) and
// outcomes, in order.
func keysOf(sink *testSink, server string) string {
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var out []string
	for _, a := range sink.attempts {
		out = append(out, strings.TrimPrefix(a.Key, "mcp:"+server+"/")+"="+a.Outcome)
	}
	return strings.Join(out, ",")
}

// TestSessionExpiryRenews restarts the go-sdk's server under an open
// session: the next call gets 404, re-initializes and is sent again,
// once; the pool then holds the new session, with no handshake of its
// own.
func TestSessionExpiryRenews(t *testing.T) {
	srv := startRestartableSDKServer(t)
	c := NewStreamable(testHTTPClient(t), "x", srv.url, 5*time.Second, nopRedactor{})
	pool := NewPool(c)
	ctx := context.Background()
	sink := &testSink{}
	s, hs := pool.Get(ctx, 0, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	first := s.(*httpSession).ID()
	if r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"a"}`), false), sink); r.Outcome != record.OutcomeOK {
		t.Fatalf("first call: %s %q", r.Outcome, r.Err)
	}
	srv.restart()
	sink.attempts = nil
	r := c.Call(ctx, s, 2, 1, ToolCall("echo", []byte(`{"text":"b"}`), false), sink)
	if r.Outcome != record.OutcomeOK || r.Text != "echo: b" {
		t.Fatalf("call after the restart: %s %q %q", r.Outcome, r.Text, r.Err)
	}
	want := "tool:echo=session_expired,initialize=ok,initialized=ok,tool:echo=ok"
	if got := keysOf(sink, "x"); got != want {
		t.Fatalf("attempts %s, want %s", got, want)
	}
	sink.attempts = nil
	s2, _ := pool.Get(ctx, 0, 3, 0, sink)
	if s2 == nil || s2.Expired() || s2.(*httpSession).ID() == first || len(sink.attempts) != 0 {
		t.Fatalf("pool session %v after the renewal, %d handshake attempts", s2, len(sink.attempts))
	}
	if r := c.Call(ctx, s2, 3, 1, ToolCall("echo", []byte(`{"text":"c"}`), false), sink); r.Outcome != record.OutcomeOK {
		t.Fatalf("call on the pool's new session: %s %q", r.Outcome, r.Err)
	}
}

// TestSessionExpiryTwice is a server that forgets every session at once:
// the call is sent again on a new session once, and fails
// session_expired.
func TestSessionExpiryTwice(t *testing.T) {
	srv := startRestartableSDKServer(t)
	inner := srv.h.Load()
	var forget http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(hdrSessionID) != "" && r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			if strings.Contains(string(body), "tools/call") {
				http.Error(w, "session not found", http.StatusNotFound)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		(*inner).ServeHTTP(w, r)
	})
	srv.h.Store(&forget)
	c := NewStreamable(testHTTPClient(t), "x", srv.url, 5*time.Second, nopRedactor{})
	ctx := context.Background()
	sink := &testSink{}
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	sink.attempts = nil
	r := c.Call(ctx, s, 1, 1, ToolCall("echo", []byte(`{"text":"a"}`), false), sink)
	if r.Outcome != record.OutcomeSessionExpired || !strings.Contains(r.Err, "session expired") {
		t.Fatalf("call: %s %q, want session_expired", r.Outcome, r.Err)
	}
	want := "tool:echo=session_expired,initialize=ok,initialized=ok,tool:echo=session_expired"
	if got := keysOf(sink, "x"); got != want {
		t.Fatalf("attempts %s, want %s", got, want)
	}
}
