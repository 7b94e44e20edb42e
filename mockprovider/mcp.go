package mockprovider

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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
	// sse is set when POSTs are answered with an event stream.
	sse bool
}

// mockTool is a scenario tool with its result encoded once.
type mockTool struct {
	def    *scenarios.Tool
	key    uint64
	result mcp.CallToolResult
}

// mcpContent is what one endpoint serves besides its tools.
type mcpContent struct {
	tools     []*mockTool
	resources []*scenarios.Resource
	prompts   []*scenarios.Prompt
}

// initMCP builds an MCP server for every mock mcp_servers entry, serving
// the tools, resources and prompts that name it, and one more that serves
// every tool, resource and prompt (the first of each name).
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
	resources := slices.DeleteFunc(slices.Clone(sc.Resources), func(r *scenarios.Resource) bool { return r == nil })
	prompts := slices.DeleteFunc(slices.Clone(sc.Prompts), func(p *scenarios.Prompt) bool { return p == nil })

	s.mcps = make(map[string]*mcpEndpoint)
	for name, m := range sc.MCPServers {
		if m == nil || !m.IsMock() {
			continue
		}
		var mine mcpContent
		for _, t := range tools {
			if t.def.Server == name {
				mine.tools = append(mine.tools, t)
			}
		}
		extra, err := extraTools(name, m.Mock.ExtraTools, s.seed, names)
		if err != nil {
			return fmt.Errorf("mcp_servers %q: %w", name, err)
		}
		mine.tools = append(mine.tools, extra...)
		for _, r := range resources {
			if r.Server == name {
				mine.resources = append(mine.resources, r)
			}
		}
		for _, p := range prompts {
			if p.Server == name {
				mine.prompts = append(mine.prompts, p)
			}
		}
		ep, err := s.newMCPEndpoint(name, m.Mock, mine)
		if err != nil {
			return fmt.Errorf("mcp_servers %q: %w", name, err)
		}
		s.mcps[name] = ep
	}
	var all mcpContent
	seen := make(map[string]bool)
	for _, t := range tools {
		if !seen[t.def.Name] {
			seen[t.def.Name] = true
			all.tools = append(all.tools, t)
		}
	}
	for _, r := range resources {
		if !seen["resource\x00"+r.URI] {
			seen["resource\x00"+r.URI] = true
			all.resources = append(all.resources, r)
		}
	}
	for _, p := range prompts {
		if !seen["prompt\x00"+p.Name] {
			seen["prompt\x00"+p.Name] = true
			all.prompts = append(all.prompts, p)
		}
	}
	ep, err := s.newMCPEndpoint("", scenarios.MCPServerMock{}, all)
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
// mode says how it answers (json or sse, stateless); an empty Response is
// the mock's default (WithMCPStreaming).
func (s *Server) newMCPEndpoint(name string, mode scenarios.MCPServerMock, c mcpContent) (*mcpEndpoint, error) {
	impl := "mcpload-mock"
	if name != "" {
		impl += "/" + name
	}
	quiet := slog.New(minLevel{s.log.Handler(), slog.LevelWarn})
	// No logging capability, no list_changed: the lists never change.
	caps := &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}
	if len(c.resources) > 0 {
		caps.Resources = &mcp.ResourceCapabilities{}
	}
	if len(c.prompts) > 0 {
		caps.Prompts = &mcp.PromptCapabilities{}
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: impl, Version: implementationVersion}, &mcp.ServerOptions{
		Logger:       quiet,
		Capabilities: caps,
		// One page: a tools/list of a large list is one exchange to time.
		PageSize: max(mcp.DefaultPageSize, len(c.tools), len(c.resources), len(c.prompts)),
	})
	for _, t := range c.tools {
		if err := addTool(srv, t, s.toolHandler(t)); err != nil {
			return nil, err
		}
	}
	for _, r := range c.resources {
		srv.AddResource(&mcp.Resource{URI: r.URI, Name: r.Name, Description: r.Description, MIMEType: r.MIMEType}, s.resourceHandler(r))
	}
	for _, p := range c.prompts {
		mp := &mcp.Prompt{Name: p.Name, Description: p.Description}
		for _, a := range p.Arguments {
			mp.Arguments = append(mp.Arguments, &mcp.PromptArgument{Name: a.Name, Description: a.Description, Required: a.Required})
		}
		srv.AddPrompt(mp, s.promptHandler(p))
	}
	sse := s.mcpSSE
	switch mode.Response {
	case scenarios.MCPResponseJSON:
		sse = false
	case scenarios.MCPResponseSSE:
		sse = true
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		// JSON answers a POST with one body: no SSE framing or flushes per
		// call, and the response ends when the result is written, which is
		// what a latency measurement wants. SSE can carry progress.
		JSONResponse:   !sse,
		Stateless:      mode.Stateless,
		SessionTimeout: s.sessionTimeout,
		Logger:         quiet,
	})
	return &mcpEndpoint{server: srv, handler: h, tools: c.tools, sse: sse}, nil
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

// toolHandler runs t: waits its latency, sending its progress
// notifications along the way when the call asked for them, then answers
// its scripted result, or the tool_error or jsonrpc_error the fault
// middleware decided.
func (s *Server) toolHandler(t *mockTool) mcp.ToolHandler {
	lat := t.def.Mock.Latency
	progress := t.def.Mock.Progress
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var h http.Header
		if req.Extra != nil {
			h = req.Extra.Header
		}
		var d time.Duration
		if !lat.IsZero() {
			step, _ := headerUint(h, HeaderStep)
			d = Sample(lat, s.rng.forRequest(h, t.key, step, 0))
		}
		var token any
		if req.Params != nil {
			token = req.Params.GetProgressToken()
		}
		wt := waiter{ctx: ctx, done: s.done, waiting: &s.waiting}
		err := s.work(ctx, &wt, req.Session, d, progress, token)
		wt.stop()
		if err != nil {
			return nil, fmt.Errorf("tool %q: %w", t.def.Name, err)
		}
		if v := h[headerToolFault]; len(v) > 0 {
			return toolFaultResult(t.def.Name, v[0])
		}
		res := t.result // the SDK may set fields of the result it sends
		return &res, nil
	}
}

// work waits d, sending n progress notifications for token along the way
// when token is set: the first at once, the others evenly spread, so that
// time to first progress measures the path from the server to the client
// and the rest show the work going on. A failed notification (the client
// went away) ends the wait.
func (s *Server) work(ctx context.Context, wt *waiter, ss *mcp.ServerSession, d time.Duration, n int, token any) error {
	if n <= 0 || token == nil || ss == nil {
		return wt.wait(d)
	}
	gap := d / time.Duration(n)
	for k := range n {
		if k > 0 {
			if err := wt.wait(gap); err != nil {
				return err
			}
		}
		p := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(k + 1), Total: float64(n), Message: "step " + strconv.Itoa(k+1) + " of " + strconv.Itoa(n)}
		if err := ss.NotifyProgress(ctx, p); err != nil {
			return fmt.Errorf("progress notification: %w", err)
		}
	}
	return wt.wait(d - gap*time.Duration(n-1))
}

// resourceHandler reads r: waits its latency, then answers its text.
func (s *Server) resourceHandler(r *scenarios.Resource) mcp.ResourceHandler {
	key := endpointKey("resource", r.URI)
	res := mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: r.URI, MIMEType: r.MIMEType, Text: r.Mock.Text}}}
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		if err := s.contentLatency(ctx, req.Extra, key, r.Mock.Latency); err != nil {
			return nil, fmt.Errorf("resource %q: %w", r.URI, err)
		}
		out := res
		return &out, nil
	}
}

// promptHandler gets p: waits its latency, then answers one user message,
// its text with each {{argument}} replaced by the request's value.
func (s *Server) promptHandler(p *scenarios.Prompt) mcp.PromptHandler {
	key := endpointKey("prompt", p.Name)
	return func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		if err := s.contentLatency(ctx, req.Extra, key, p.Mock.Latency); err != nil {
			return nil, fmt.Errorf("prompt %q: %w", p.Name, err)
		}
		text := p.Mock.Text
		if req.Params != nil && len(req.Params.Arguments) > 0 && strings.Contains(text, "{{") {
			pairs := make([]string, 0, 2*len(req.Params.Arguments))
			for _, k := range slices.Sorted(maps.Keys(req.Params.Arguments)) {
				pairs = append(pairs, "{{"+k+"}}", req.Params.Arguments[k])
			}
			text = strings.NewReplacer(pairs...).Replace(text)
		}
		return &mcp.GetPromptResult{
			Description: p.Description,
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: text}}},
		}, nil
	}
}

// contentLatency waits out the latency of a resource or prompt, drawn for
// the request as a tool's is.
func (s *Server) contentLatency(ctx context.Context, extra *mcp.RequestExtra, key uint64, lat scenarios.Latency) error {
	if lat.IsZero() {
		return nil
	}
	var h http.Header
	if extra != nil {
		h = extra.Header
	}
	step, _ := headerUint(h, HeaderStep)
	wt := waiter{ctx: ctx, done: s.done, waiting: &s.waiting}
	defer wt.stop()
	return wt.wait(Sample(lat, s.rng.forRequest(h, key, step, 0)))
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
		if tl := s.timeline.Load(); tl.tool && s.toolFaults(w, r, tl, ep) {
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
