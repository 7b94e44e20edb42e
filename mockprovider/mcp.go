package mockprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
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
	// retry is the retry: field event streams start with, or nil.
	retry []byte
}

// mockTool is a scenario tool with its result encoded once.
type mockTool struct {
	def    *scenarios.Tool
	key    uint64
	result mcp.CallToolResult
	// filled is set when the result has placeholders to fill in per call,
	// or the tool asks the client something first.
	filled bool
	// capacity is its server's, shared by the server's endpoint and /mcp;
	// nil when the server sets none.
	capacity *capacity
}

// mcpContent is what one endpoint serves besides its tools.
type mcpContent struct {
	tools     []*mockTool
	resources []*scenarios.Resource
	prompts   []*scenarios.Prompt
	// capacity is each mock server's capacity, by name, for the
	// resources and prompts.
	capacity map[string]*capacity
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

	caps := make(map[string]*capacity)
	for name, m := range sc.MCPServers {
		if m != nil && m.IsMock() {
			if c := newCapacity(m.Mock.Concurrency, m.Mock.LatencyPerInFlight); c != nil {
				caps[name] = c
			}
		}
	}
	for _, t := range tools {
		t.capacity = caps[t.def.Server]
	}
	s.mcps = make(map[string]*mcpEndpoint)
	var extras []*mockTool
	for _, name := range sortedKeys(sc.MCPServers) {
		m := sc.MCPServers[name]
		if m == nil || !m.IsMock() {
			continue
		}
		mine := mcpContent{capacity: caps}
		for _, t := range tools {
			if t.def.Server == name {
				mine.tools = append(mine.tools, t)
			}
		}
		extra, err := extraTools(name, m.Mock.ExtraTools, s.seed, names)
		if err != nil {
			return fmt.Errorf("mcp_servers %q: %w", name, err)
		}
		for _, t := range extra {
			t.capacity = caps[name]
		}
		mine.tools = append(mine.tools, extra...)
		extras = append(extras, extra...)
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
	all := mcpContent{capacity: caps}
	seen := make(map[string]bool)
	for _, t := range append(slices.Clip(tools), extras...) {
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
	ep, err := s.newMCPEndpoint("", aggregateMode(sc.MCPServers), all)
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
	content := t.Mock.Content
	if len(content) == 0 && t.Mock.Result == nil {
		// A tool that asks the client answers with what it was told.
		var parts []string
		if t.Mock.Sampling != nil {
			parts = append(parts, "LLM response: "+samplingPlaceholder)
		}
		if t.Mock.Elicitation != nil {
			parts = append(parts, "User response: "+elicitationPlaceholder)
		}
		if len(parts) > 0 {
			content = []scenarios.MCPContent{{Type: scenarios.ContentText, Text: strings.Join(parts, "; ")}}
		}
	}
	switch v := t.Mock.Result.(type) {
	case nil:
		c, err := mcpContents(content)
		if err != nil {
			return nil, fmt.Errorf("mock.%w", err)
		}
		mt.result.Content = c
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
	// A structured result is sent as it is: only text has placeholders.
	_, structured := mt.result.StructuredContent.(json.RawMessage)
	mt.filled = t.Mock.Sampling != nil || t.Mock.Elicitation != nil || (!structured && slices.ContainsFunc(mt.result.Content, placeholder))
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
	// No list_changed: the lists never change. Logging only where a tool
	// logs.
	caps := &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}}
	if len(c.resources) > 0 {
		caps.Resources = &mcp.ResourceCapabilities{Subscribe: subscribable(c.resources)}
	}
	if len(c.prompts) > 0 {
		caps.Prompts = &mcp.PromptCapabilities{}
	}
	if slices.ContainsFunc(c.tools, func(t *mockTool) bool { return len(t.def.Mock.Log) > 0 }) {
		//lint:ignore SA1019 logging is deprecated in 2026-07-28, still served to the lanes before it
		caps.Logging = &mcp.LoggingCapabilities{}
	}
	opts := &mcp.ServerOptions{
		Logger:       quiet,
		Capabilities: caps,
		// One page: a tools/list of a large list is one exchange to time.
		PageSize:                  max(mcp.DefaultPageSize, len(c.tools), len(c.resources), len(c.prompts)),
		SupportedProtocolVersions: protocolVersions(mode.Protocol),
		CompletionHandler:         completions(c.prompts),
	}
	if opts.CompletionHandler != nil {
		caps.Completions = &mcp.CompletionCapabilities{}
	}
	if caps.Resources != nil && caps.Resources.Subscribe {
		known := map[string]bool{}
		for _, r := range c.resources {
			known[r.URI] = r.URI != ""
		}
		opts.SubscribeHandler = func(_ context.Context, req *mcp.SubscribeRequest) error {
			if !known[req.Params.URI] {
				return mcp.ResourceNotFoundError(req.Params.URI)
			}
			return nil
		}
		opts.UnsubscribeHandler = func(context.Context, *mcp.UnsubscribeRequest) error { return nil }
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: impl, Version: implementationVersion}, opts)
	for _, t := range c.tools {
		if err := addTool(srv, t, s.toolHandler(t, mode.SSERetry.D())); err != nil {
			return nil, err
		}
	}
	for _, r := range c.resources {
		h, err := s.resourceHandler(r, c.capacity[r.Server])
		if err != nil {
			return nil, err
		}
		if r.URITemplate != "" {
			srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: r.URITemplate, Name: r.Name, Description: r.Description, MIMEType: r.MIMEType}, h)
			continue
		}
		srv.AddResource(&mcp.Resource{URI: r.URI, Name: r.Name, Description: r.Description, MIMEType: r.MIMEType}, h)
	}
	s.watchResources(srv, c.resources)
	for _, p := range c.prompts {
		mp := &mcp.Prompt{Name: p.Name, Description: p.Description}
		for _, a := range p.Arguments {
			mp.Arguments = append(mp.Arguments, &mcp.PromptArgument{Name: a.Name, Description: a.Description, Required: a.Required})
		}
		h, err := s.promptHandler(p, c.capacity[p.Server])
		if err != nil {
			return nil, err
		}
		srv.AddPrompt(mp, h)
	}
	sse := s.mcpSSE
	switch mode.Response {
	case scenarios.MCPResponseJSON:
		sse = false
	case scenarios.MCPResponseSSE:
		sse = true
	}
	hopts := &mcp.StreamableHTTPOptions{
		// JSON answers a POST with one body: no SSE framing or flushes per
		// call, and the response ends when the result is written, which is
		// what a latency measurement wants. SSE can carry progress.
		JSONResponse: !sse,
		// The 2026-07-28 lane has no sessions: over HTTP the SDK serves it
		// from a stateless handler only.
		Stateless:      mode.Stateless || mode.Protocol == scenarios.MCPProtocolStateless,
		SessionTimeout: s.sessionTimeout,
		Logger:         quiet,
	}
	ep := &mcpEndpoint{server: srv, tools: c.tools, sse: sse}
	if d := mode.SSERetry.D(); d > 0 && sse {
		// Priming events and Last-Event-ID resumption need the events
		// kept; the SDK's store is bounded (10 MiB).
		hopts.EventStore = mcp.NewMemoryEventStore(nil)
		ep.retry = retryField(d)
	}
	ep.handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, hopts)
	return ep, nil
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
	srv.AddTool(sdkTool(t.def, schema), h)
	return nil
}

// sdkTool is the scenario's tool as tools/list shows it: every field of
// the MCP Tool shape the scenario declares, so that clients see what a
// real server would list. The SDK's Tool has no execution field, and
// leaves checking results against outputSchema to the handler, which the
// mock does not do: a scripted result that misses its schema is served as
// scripted, for clients to count.
func sdkTool(def *scenarios.Tool, schema any) *mcp.Tool {
	t := &mcp.Tool{Name: def.Name, Title: def.Title, Description: def.Description, InputSchema: schema, Meta: def.Meta}
	if def.OutputSchema != nil {
		t.OutputSchema = def.OutputSchema
	}
	if a := def.Annotations; a != nil {
		t.Annotations = &mcp.ToolAnnotations{Title: a.Title, DestructiveHint: a.DestructiveHint, OpenWorldHint: a.OpenWorldHint,
			ReadOnlyHint: a.ReadOnlyHint != nil && *a.ReadOnlyHint, IdempotentHint: a.IdempotentHint != nil && *a.IdempotentHint}
	}
	for _, ic := range def.Icons {
		t.Icons = append(t.Icons, mcp.Icon{Source: ic.Src, MIMEType: ic.MimeType, Sizes: ic.Sizes, Theme: mcp.IconTheme(ic.Theme)})
	}
	return t
}

// toolHandler runs t: waits its latency, sending its progress
// notifications along the way when the call asked for them, then answers
// its scripted result, or the tool_error or jsonrpc_error the fault
// middleware decided.
func (s *Server) toolHandler(t *mockTool, retry time.Duration) mcp.ToolHandler {
	lat := t.def.Mock.Latency
	closeStream := t.def.Mock.CloseStream
	progress := t.def.Mock.Progress
	logs := t.def.Mock.Log
	c := t.capacity
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
		if closeStream && req.Extra != nil && req.Extra.CloseSSEStream != nil {
			// The answer goes to the event store; the client must come
			// back for it with Last-Event-ID (SEP-1699 polling).
			req.Extra.CloseSSEStream(mcp.CloseSSEStreamArgs{RetryAfter: retry})
		}
		wt := waiter{ctx: ctx, done: s.done, waiting: &s.waiting}
		extra, err := wt.hold(c)
		if err == nil {
			err = s.work(ctx, &wt, req.Session, d+extra, progress, token, logs)
		}
		wt.stop()
		if err != nil {
			return nil, fmt.Errorf("tool %q: %w", t.def.Name, err)
		}
		if v := h[headerToolFault]; len(v) > 0 {
			return toolFaultResult(t.def.Name, v[0])
		}
		res := t.result // the SDK may set fields of the result it sends
		if t.filled {
			args := callArgs(req)
			asked, refused := askClient(ctx, req.Session, &t.def.Mock, args)
			if refused != nil {
				return refused, nil
			}
			res.Content = fillContent(res.Content, strings.NewReplacer(argPairs(args, asked...)...))
		}
		return &res, nil
	}
}

// work waits d, sending along the way n progress notifications for token
// (when the call carries one) and the log messages: each kind the first
// at once and the others evenly spread, so that time to first progress
// measures the path from the server to the client and the rest show the
// work going on. A failed notification (the client went away) ends the
// wait.
func (s *Server) work(ctx context.Context, wt *waiter, ss *mcp.ServerSession, d time.Duration, n int, token any, logs []scenarios.LogMessage) error {
	if token == nil || ss == nil {
		n = 0
	}
	if ss == nil {
		logs = nil
	}
	if n <= 0 && len(logs) == 0 {
		return wt.wait(d)
	}
	var elapsed time.Duration
	for p, l := 0, 0; p < n || l < len(logs); {
		// The next event is the earlier of the next progress and the next
		// log message; progress first when they fall together.
		var at time.Duration
		isLog := p >= n
		if !isLog {
			at = spread(d, p, n)
		}
		if l < len(logs) && (isLog || spread(d, l, len(logs)) < at) {
			at, isLog = spread(d, l, len(logs)), true
		}
		if err := wt.wait(at - elapsed); err != nil {
			return err
		}
		elapsed = at
		if isLog {
			level := logs[l].Level
			if level == "" {
				level = scenarios.DefaultLogLevel
			}
			//lint:ignore SA1019 logging is deprecated in 2026-07-28, still served to the lanes before it
			if err := ss.Log(ctx, &mcp.LoggingMessageParams{Level: mcp.LoggingLevel(level), Data: logs[l].Data}); err != nil {
				return fmt.Errorf("log notification: %w", err)
			}
			l++
			continue
		}
		msg := &mcp.ProgressNotificationParams{ProgressToken: token, Progress: float64(p + 1), Total: float64(n), Message: "step " + strconv.Itoa(p+1) + " of " + strconv.Itoa(n)}
		if err := ss.NotifyProgress(ctx, msg); err != nil {
			return fmt.Errorf("progress notification: %w", err)
		}
		p++
	}
	return wt.wait(d - elapsed)
}

// spread is when the k-th of n events falls in d: the first at once, the
// others every d/n.
func spread(d time.Duration, k, n int) time.Duration {
	return d / time.Duration(n) * time.Duration(k)
}

// resourceHandler reads r: waits its latency, then answers its text or
// blob; a template's text has each {{variable}} replaced by the URI's.
func (s *Server) resourceHandler(r *scenarios.Resource, c *capacity) (mcp.ResourceHandler, error) {
	uri := r.URI
	var tmpl *uriTemplate
	if r.URITemplate != "" {
		uri = r.URITemplate
		var err error
		if tmpl, err = newURITemplate(r.URITemplate); err != nil {
			return nil, err
		}
	}
	key := endpointKey("resource", uri)
	rc := mcp.ResourceContents{URI: r.URI, MIMEType: r.MIMEType, Text: r.Mock.Text}
	if r.Mock.Blob != "" {
		b, err := base64.StdEncoding.DecodeString(r.Mock.Blob)
		if err != nil {
			return nil, fmt.Errorf("resource %q: mock.blob: %w", uri, err)
		}
		rc.Blob, rc.Text = b, ""
	}
	res := mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{&rc}}
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		if err := s.contentLatency(ctx, req.Extra, key, r.Mock.Latency, c); err != nil {
			return nil, fmt.Errorf("resource %q: %w", uri, err)
		}
		if tmpl == nil {
			out := res // the contents are shared, never changed
			return &out, nil
		}
		vars := tmpl.match(req.Params.URI)
		if vars == nil {
			return nil, mcp.ResourceNotFoundError(req.Params.URI)
		}
		c := rc
		c.URI, c.Text = req.Params.URI, strings.NewReplacer(argPairs(vars)...).Replace(c.Text)
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{&c}}, nil
	}, nil
}

// promptHandler gets p: waits its latency, then answers one user message
// per content block (its text is one), with each {{argument}} replaced by
// the request's value.
func (s *Server) promptHandler(p *scenarios.Prompt, c *capacity) (mcp.PromptHandler, error) {
	key := endpointKey("prompt", p.Name)
	blocks := p.Mock.Content
	if len(blocks) == 0 {
		blocks = []scenarios.MCPContent{{Type: scenarios.ContentText, Text: p.Mock.Text}}
	}
	content, err := mcpContents(blocks)
	if err != nil {
		return nil, fmt.Errorf("prompt %q: mock.%w", p.Name, err)
	}
	filled := slices.ContainsFunc(content, placeholder)
	return func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		if err := s.contentLatency(ctx, req.Extra, key, p.Mock.Latency, c); err != nil {
			return nil, fmt.Errorf("prompt %q: %w", p.Name, err)
		}
		c := content
		if filled && req.Params != nil && len(req.Params.Arguments) > 0 {
			c = fillContent(content, strings.NewReplacer(argPairs(req.Params.Arguments)...))
		}
		res := &mcp.GetPromptResult{Description: p.Description, Messages: make([]*mcp.PromptMessage, len(c))}
		for i, b := range c {
			res.Messages[i] = &mcp.PromptMessage{Role: "user", Content: b}
		}
		return res, nil
	}, nil
}

// contentLatency waits out the latency of a resource or prompt, drawn for
// the request as a tool's is, in a slot of its server's capacity c.
func (s *Server) contentLatency(ctx context.Context, extra *mcp.RequestExtra, key uint64, lat scenarios.Latency, c *capacity) error {
	if lat.IsZero() && c == nil {
		return nil
	}
	var h http.Header
	if extra != nil {
		h = extra.Header
	}
	step, _ := headerUint(h, HeaderStep)
	wt := waiter{ctx: ctx, done: s.done, waiting: &s.waiting}
	defer wt.stop()
	load, err := wt.hold(c)
	if err != nil {
		return err
	}
	var d time.Duration
	if !lat.IsZero() {
		d = Sample(lat, s.rng.forRequest(h, key, step, 0))
	}
	return wt.wait(d + load)
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
	if ep.retry != nil {
		rw := &retryWriter{ResponseWriter: w, field: ep.retry}
		ep.handler.ServeHTTP(rw, r)
		rw.finish()
		return
	}
	ep.handler.ServeHTTP(w, r)
}

// protocolVersions is what a server of the lane p negotiates: nil (every
// version the SDK knows) for both lanes.
func protocolVersions(p string) []string {
	switch p {
	case scenarios.MCPProtocolInitialize:
		return slices.DeleteFunc(mcp.SupportedProtocolVersions(), func(v string) bool { return v > scenarios.MCPProtocolInitialize })
	case scenarios.MCPProtocolStateless:
		return []string{scenarios.MCPProtocolStateless}
	}
	return nil
}

// aggregateMode is how /mcp, which serves every server's tools, answers:
// as the servers do when they agree; where they differ, with the setting
// that carries the most (sse over json, sessions over none, both lanes,
// the longest sse_retry).
func aggregateMode(servers map[string]*scenarios.MCPServer) scenarios.MCPServerMock {
	var agg scenarios.MCPServerMock
	first := true
	allJSON := true
	for _, name := range sortedKeys(servers) {
		m := servers[name]
		if m == nil || !m.IsMock() {
			continue
		}
		mm := m.Mock
		if first {
			agg.Stateless, agg.Protocol, first = mm.Stateless, mm.Protocol, false
		}
		if mm.Response == scenarios.MCPResponseSSE {
			agg.Response = scenarios.MCPResponseSSE
		}
		allJSON = allJSON && mm.Response == scenarios.MCPResponseJSON
		agg.Stateless = agg.Stateless && mm.Stateless
		if agg.Protocol != mm.Protocol {
			agg.Protocol = scenarios.MCPProtocolBoth
		}
		agg.SSERetry = max(agg.SSERetry, mm.SSERetry)
	}
	if allJSON && !first {
		agg.Response = scenarios.MCPResponseJSON
	}
	return agg
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
