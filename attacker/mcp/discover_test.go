package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// startToolShapeServer is the go-sdk's Streamable HTTP server, one tool a
// page, serving three tools with the whole MCP Tool shape. weather's
// outputSchema wants a numeric temp; it answers {"temp": arguments.temp},
// so that a call can match or not. The low-level AddTool does not check
// output, as a server that breaks its own schema would not.
func startToolShapeServer(t *testing.T, stateless bool) string {
	s := toolShapeServer()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s }, &sdk.StreamableHTTPOptions{Stateless: stateless, JSONResponse: true})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

// toolShapeServer is the server of startToolShapeServer, for any transport.
func toolShapeServer() *sdk.Server {
	s := sdk.NewServer(&sdk.Implementation{Name: "shapes", Version: "1"}, &sdk.ServerOptions{PageSize: 1})
	yes, no := true, false
	s.AddTool(&sdk.Tool{
		Name: "weather", Title: "Weather", Description: "the weather",
		InputSchema:  map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []any{"city"}},
		OutputSchema: map[string]any{"type": "object", "properties": map[string]any{"temp": map[string]any{"type": "number"}}, "required": []any{"temp"}},
		Annotations:  &sdk.ToolAnnotations{Title: "Weather now", ReadOnlyHint: true, OpenWorldHint: &no, DestructiveHint: &yes},
		Icons:        []sdk.Icon{{Source: "https://example.com/w.png", MIMEType: "image/png", Sizes: []string{"48x48"}, Theme: "light"}},
		Meta:         sdk.Meta{"com.example/owner": "weather-team"},
	}, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
		var in map[string]any
		_ = json.Unmarshal(req.Params.Arguments, &in)
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "ok"}}, StructuredContent: map[string]any{"temp": in["temp"]}}, nil
	})
	for _, name := range []string{"alpha", "beta"} {
		s.AddTool(&sdk.Tool{Name: name, InputSchema: map[string]any{"type": "object"}}, func(context.Context, *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: name}}}, nil
		})
	}
	return s
}

// TestListToolsLegacySSE lists the tools page by page over the go-sdk's
// HTTP+SSE (2024-11-05) server.
func TestListToolsLegacySSE(t *testing.T) {
	s := toolShapeServer()
	ts := httptest.NewServer(sdk.NewSSEHandler(func(*http.Request) *sdk.Server { return s }, nil))
	t.Cleanup(ts.Close)
	c := NewLegacySSE(testHTTPClient(t), "old", ts.URL, 5*time.Second, nopRedactor{})
	l, err := ListTools(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if l.Pages != 3 || len(l.Tools) != 3 || l.Tools[2].Name != "weather" || l.Tools[2].Title != "Weather" {
		t.Fatalf("listed %d tools in %d pages: %+v", len(l.Tools), l.Pages, l.Tools)
	}
}

// TestListToolsSDKServer lists the go-sdk server's tools page by page in
// both lanes, decodes the whole Tool shape, and checks a call's
// structuredContent against the listed outputSchema.
func TestListToolsSDKServer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stateless bool
		protocol  string
		version   string
	}{
		{"sessions", false, ProtocolVersion, ProtocolVersion},
		{"stateless", true, ProtocolAuto, ProtocolStateless},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewStreamable(testHTTPClient(t), "shapes", startToolShapeServer(t, tc.stateless), 5*time.Second, nopRedactor{})
			c.Protocol = tc.protocol
			ctx := context.Background()
			l, err := ListTools(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if l.Pages != 3 || len(l.Tools) != 3 || len(l.Raw) != 3 || l.Version != tc.version {
				t.Fatalf("listed %d tools in %d pages over %s, want 3 in 3 over %s", len(l.Tools), l.Pages, l.Version, tc.version)
			}
			var w *scenarios.Tool
			for _, tl := range l.Tools {
				if tl.Name == "weather" {
					w = tl
				}
			}
			if w == nil || w.Title != "Weather" || w.Annotations == nil || w.Annotations.Title != "Weather now" ||
				w.Annotations.ReadOnlyHint == nil || !*w.Annotations.ReadOnlyHint || w.Annotations.OpenWorldHint == nil || *w.Annotations.OpenWorldHint ||
				len(w.Icons) != 1 || w.Icons[0].Src != "https://example.com/w.png" || w.Icons[0].Theme != "light" ||
				w.Meta["com.example/owner"] != "weather-team" || w.OutputSchema["type"] != "object" || w.InputSchema["required"] == nil {
				t.Fatalf("weather decoded as %+v (annotations %+v)", w, w.Annotations)
			}

			w.Server = "shapes"
			outs, err := CompileOutputSchemas(l.Tools, "shapes")
			if err != nil || len(outs) != 1 {
				t.Fatalf("compiled %d output schemas: %v", len(outs), err)
			}
			c.SetOutputSchemas(outs)
			sess, err := Open(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			sink := &testSink{}
			good := c.Call(ctx, sess, 1, 0, ToolCall("weather", []byte(`{"city":"x","temp":21.5}`), false), sink)
			bad := c.Call(ctx, sess, 1, 1, ToolCall("weather", []byte(`{"city":"x","temp":"hot"}`), false), sink)
			if good.Outcome != record.OutcomeOK || good.OutputSchemaErr != "" {
				t.Fatalf("matching result: %s %q", good.Outcome, good.OutputSchemaErr)
			}
			// A mismatch is counted, not an error.
			if bad.Outcome != record.OutcomeOK || !strings.Contains(bad.OutputSchemaErr, "does not match the outputSchema") {
				t.Fatalf("mismatching result: %s %q", bad.Outcome, bad.OutputSchemaErr)
			}
			if a := sink.attempts[len(sink.attempts)-1]; a.OutputSchemaError != bad.OutputSchemaErr {
				t.Fatalf("attempt line marks %q, want %q", a.OutputSchemaError, bad.OutputSchemaErr)
			}
		})
	}
}

// TestListToolsBounded: a server whose nextCursor never ends, or repeats,
// is an error, not a run that never starts; a tools/list error is the
// server's answer.
func TestListToolsBounded(t *testing.T) {
	for _, tc := range []struct {
		name, result, want string
	}{
		{"repeats", `{"tools":[{"name":"a","inputSchema":{"type":"object"}}],"nextCursor":"same"}`, "repeats an earlier nextCursor"},
		{"no list", `{"nextCursor":null}`, "result has no tools"},
		{"endless", "endless", "still a nextCursor after 100 pages"},
		{"no name", `{"tools":[{"inputSchema":{"type":"object"}}]}`, "a tool without a name"},
		{"error", ``, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var req struct {
					ID     json.RawMessage `json:"id"`
					Method string          `json:"method"`
				}
				_ = json.NewDecoder(r.Body).Decode(&req)
				w.Header().Set("Content-Type", "application/json")
				switch req.Method {
				case "initialize":
					w.Header().Set("Mcp-Session-Id", "s1")
					_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"x","version":"1"}}}`))
				case "tools/list":
					if tc.result == "" {
						_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"error":{"code":-32603,"message":"boom"}}`))
						return
					}
					result := tc.result
					if result == "endless" {
						result = `{"tools":[],"nextCursor":"c` + string(req.ID) + `"}`
					}
					_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":` + result + `}`))
				default:
					w.WriteHeader(http.StatusAccepted)
				}
			}))
			t.Cleanup(ts.Close)
			c := NewStreamable(testHTTPClient(t), "x", ts.URL, 5*time.Second, nopRedactor{})
			_, err := ListTools(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
