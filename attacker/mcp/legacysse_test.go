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

// startSDKSSEServer is the go-sdk's legacy HTTP+SSE server serving echo.
func startSDKSSEServer(t *testing.T) string {
	s := sdk.NewServer(&sdk.Implementation{Name: "legacy", Version: "1"}, nil)
	sdk.AddTool(s, &sdk.Tool{Name: "echo"}, func(ctx context.Context, req *sdk.CallToolRequest, in echoIn) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "echo: " + in.Text}}}, nil, nil
	})
	ts := httptest.NewServer(sdk.NewSSEHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestLegacySSEAgainstSDKServer: the stream's connect, the handshake and
// concurrent calls over the go-sdk's 2024-11-05 HTTP+SSE server, matched
// by id on the stream; a session ended is expired.
func TestLegacySSEAgainstSDKServer(t *testing.T) {
	c := NewLegacySSE(testHTTPClient(t), "old", startSDKSSEServer(t), 5*time.Second, nopRedactor{})
	sink := &testSink{}
	ctx := context.Background()
	s, hs := c.Handshake(ctx, 1, 0, sink)
	if s == nil {
		t.Fatalf("handshake: %+v", hs)
	}
	for _, key := range []string{"mcp:old/connect", "mcp:old/initialize", "mcp:old/initialized"} {
		if n := sink.count(record.KindSession, key); n != 1 {
			t.Fatalf("%s attempts: %d", key, n)
		}
	}
	if s.Version() == "" {
		t.Fatal("no version")
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			r := c.Call(ctx, s, uint64(i), 1, ToolCall("echo", []byte(`{"text":"x"}`), false), sink)
			if r.Outcome != record.OutcomeOK || r.Text != "echo: x" {
				t.Errorf("echo: %s %q %q", r.Outcome, r.Text, r.Err)
			}
		})
	}
	wg.Wait()
	if r := c.Call(ctx, s, 1, 2, ToolCall("nope", nil, false), sink); r.Outcome != record.OutcomeToolError {
		t.Fatalf("unknown tool: %s %q", r.Outcome, r.Err)
	}
	c.End(ctx, s, 1, 3, sink)
	for deadline := time.Now().Add(5 * time.Second); !s.Expired(); {
		if time.Now().After(deadline) {
			t.Fatal("an ended stream is not expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLegacySSEOnStreamableServer: pointing the legacy transport at a
// Streamable HTTP server says so, rather than failing obscurely.
func TestLegacySSEOnStreamableServer(t *testing.T) {
	srv := startSDKHTTPServer(t, true)
	c := NewLegacySSE(testHTTPClient(t), "new", srv.url, 5*time.Second, nopRedactor{})
	s, hs := c.Handshake(context.Background(), 1, 0, &testSink{})
	if s != nil || hs.Outcome == record.OutcomeOK || !strings.Contains(hs.Err, "GET") {
		t.Fatalf("session %v, %+v", s, hs)
	}
}

// TestStreamableDetectsLegacySSE: the Streamable client's failed handshake
// with a legacy server says what the server is and what to set.
func TestStreamableDetectsLegacySSE(t *testing.T) {
	c := NewStreamable(testHTTPClient(t), "old", startSDKSSEServer(t), 5*time.Second, nopRedactor{})
	s, hs := c.Handshake(context.Background(), 1, 0, &testSink{})
	if s != nil || !strings.Contains(hs.Err, "legacy HTTP+SSE (2024-11-05) server, set transport: sse") {
		t.Fatalf("session %v, %+v", s, hs)
	}
}
