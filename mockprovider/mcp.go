package mockprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// implementationVersion is what the mock's MCP servers report in initialize.
const implementationVersion = "1"

// mcpEndpoint is one MCP server of the mock and its Streamable HTTP handler.
type mcpEndpoint struct {
	server  *mcp.Server
	handler *mcp.StreamableHTTPHandler
	tools   []*mockTool
}

// mockTool is a scenario tool with its result encoded once.
type mockTool struct {
	def    *scenarios.Tool
	key    uint64
	result mcp.CallToolResult
}

// initMCP builds an MCP server for every mock mcp_servers entry, serving
// the tools that name it, and one more that serves every tool.
func (s *Server) initMCP(sc *scenarios.Scenario) error {
	var tools []*mockTool
	names := make(map[string]bool)
	for i, t := range sc.Tools {
		if t == nil {
			continue
		}
		if names[t.Name] {
			// A tool name is unique per server; across servers, the all-tools
			// endpoint keeps the first.
			s.log.Warn("tool name served by more than one MCP server; /mcp serves the first", "tool", t.Name)
		}
		names[t.Name] = true
		mt, err := newMockTool(t)
		if err != nil {
			return fmt.Errorf("tools[%d] %q: %w", i, t.Name, err)
		}
		tools = append(tools, mt)
	}

	s.mcps = make(map[string]*mcpEndpoint)
	for name, m := range sc.MCPServers {
		if m == nil || !m.IsMock() {
			continue
		}
		var mine []*mockTool
		for _, t := range tools {
			if t.def.Server == name {
				mine = append(mine, t)
			}
		}
		ep, err := s.newMCPEndpoint(name, mine)
		if err != nil {
			return fmt.Errorf("mcp_servers %q: %w", name, err)
		}
		s.mcps[name] = ep
	}
	var all []*mockTool
	seen := make(map[string]bool)
	for _, t := range tools {
		if !seen[t.def.Name] {
			seen[t.def.Name] = true
			all = append(all, t)
		}
	}
	ep, err := s.newMCPEndpoint("", all)
	if err != nil {
		return fmt.Errorf("all-tools MCP server: %w", err)
	}
	s.mcps[""] = ep
	s.mcpNames = sortedKeys(s.mcps)
	return nil
}

func newMockTool(t *scenarios.Tool) (*mockTool, error) {
	if t.InputSchema != nil {
		if typ, _ := t.InputSchema["type"].(string); typ != "object" {
			return nil, fmt.Errorf(`inputSchema must have type "object", got %v`, t.InputSchema["type"])
		}
	}
	mt := &mockTool{def: t, key: endpointKey("tool", t.Name)}
	mt.result.IsError = t.Mock.IsError
	switch v := t.Mock.Result.(type) {
	case nil:
		mt.result.Content = []mcp.Content{}
	case string:
		mt.result.Content = []mcp.Content{&mcp.TextContent{Text: v}}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("mock.result: %w", err)
		}
		mt.result.Content = []mcp.Content{&mcp.TextContent{Text: string(b)}}
		mt.result.StructuredContent = json.RawMessage(b)
	}
	return mt, nil
}

// newMCPEndpoint builds one MCP server; name "" is the all-tools server.
func (s *Server) newMCPEndpoint(name string, tools []*mockTool) (*mcpEndpoint, error) {
	impl := "mcpload-mock"
	if name != "" {
		impl += "/" + name
	}
	quiet := slog.New(minLevel{s.log.Handler(), slog.LevelWarn})
	srv := mcp.NewServer(&mcp.Implementation{Name: impl, Version: implementationVersion}, &mcp.ServerOptions{
		Logger: quiet,
		// Tools only: no logging capability, no list_changed (the tool set
		// never changes).
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	for _, t := range tools {
		if err := addTool(srv, t, s.toolHandler(t)); err != nil {
			return nil, err
		}
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		// JSON answers a POST with one body: no SSE framing or flushes per
		// call, and the response ends when the result is written, which is
		// what a latency measurement wants.
		JSONResponse:   !s.mcpSSE,
		SessionTimeout: s.sessionTimeout,
		Logger:         quiet,
	})
	return &mcpEndpoint{server: srv, handler: h, tools: tools}, nil
}

// addTool registers t with its schema exactly as the scenario wrote it.
// The SDK panics on a schema it rejects; that becomes an error here.
func addTool(srv *mcp.Server, t *mockTool, h mcp.ToolHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tool %q: %v", t.def.Name, r)
		}
	}()
	var schema any = t.def.InputSchema
	if t.def.InputSchema == nil {
		schema = map[string]any{"type": "object"}
	}
	srv.AddTool(&mcp.Tool{Name: t.def.Name, Description: t.def.Description, InputSchema: schema}, h)
	return nil
}

// toolHandler runs t: waits its latency, then answers its scripted result,
// or the tool_error or jsonrpc_error the fault middleware decided.
func (s *Server) toolHandler(t *mockTool) mcp.ToolHandler {
	lat := t.def.Mock.Latency
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var h http.Header
		if req.Extra != nil {
			h = req.Extra.Header
		}
		if !lat.IsZero() {
			step, _ := headerUint(h, HeaderStep)
			rng := s.rng.forRequest(h, t.key, step, 0)
			wt := waiter{ctx: ctx, done: s.done, waiting: &s.waiting}
			err := wt.wait(Sample(lat, rng))
			wt.stop()
			if err != nil {
				return nil, fmt.Errorf("tool %q: %w", t.def.Name, err)
			}
		}
		if v := h[headerToolFault]; len(v) > 0 {
			return toolFaultResult(t.def.Name, v[0])
		}
		res := t.result // the SDK may set fields of the result it sends
		return &res, nil
	}
}

func (s *Server) handleMCP(w http.ResponseWriter, r *http.Request) {
	ep := s.mcps[r.PathValue("server")]
	if ep == nil {
		// mcpNames[0] is "", the all-tools server at /mcp.
		http.Error(w, fmt.Sprintf("unknown MCP server %q; the mock serves %v", r.PathValue("server"), s.mcpNames[1:]), http.StatusNotFound)
		return
	}
	delete(r.Header, headerToolFault) // only the fault middleware sets it
	if r.Method == http.MethodPost {
		if tl := s.timeline.Load(); tl.tool && s.toolFaults(w, r, tl) {
			return
		}
	}
	ep.handler.ServeHTTP(w, r)
}

// closeSessions ends every session of the endpoint.
func (e *mcpEndpoint) closeSessions() {
	for ss := range e.server.Sessions() {
		ss.Close()
	}
}

// minLevel drops records below a level: the SDK logs every session's end at
// Info, which under session churn is noise.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.level}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}
