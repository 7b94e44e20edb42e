package scenarios

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// mcpServerMock checks the mock: section of an MCP server.
func (v *validator) mcpServerMock(path string, m *MCPServer) {
	mp := field(path, "mock")
	if !m.IsMock() {
		if !m.Mock.IsZero() {
			v.errorf(mp, "only applies to url: mock; the server at %s serves as it serves", m.URL)
		}
		return
	}
	switch m.Mock.Response {
	case "", MCPResponseJSON, MCPResponseSSE:
	default:
		v.errorf(field(mp, "response"), "%s", unknownValue("response mode", m.Mock.Response, []string{MCPResponseJSON, MCPResponseSSE}))
	}
	if n := m.Mock.ExtraTools; n < 0 || n > MaxExtraTools {
		v.errorf(field(mp, "extra_tools"), "must be from 0 to %d, got %d", MaxExtraTools, n)
	}
	v.mcpServerLane(mp, m.Mock)
	v.mockCapacity(mp, m.Mock.Concurrency, m.Mock.LatencyPerInFlight)
}

// mcpServerCommand checks a stdio server: an argv, and no url beside it.
func (v *validator) mcpServerCommand(path string, m *MCPServer) {
	cp := field(path, "command")
	if m.URL != "" {
		v.errorf(cp, "set url or command, not both: command runs the server as a child process over stdio")
	}
	switch {
	case len(m.Command) == 0:
		v.errorf(cp, "empty; give the server's argv, as [npx, -y, some-server, stdio]")
	case strings.TrimSpace(m.Command[0]) == "":
		v.errorf(index(cp, 0), "empty; the first element is the program to run")
	}
	for _, k := range slices.Sorted(maps.Keys(m.Env)) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			v.errorf(field(path, "env"), "variable name %q: must be non-empty, without '=' or NUL", k)
		}
	}
}

// mcpServerProtocol checks transport, protocol and discover.
func (v *validator) mcpServerProtocol(path string, m *MCPServer) {
	tp := field(path, "transport")
	switch m.Transport {
	case "", MCPTransportStreamable:
	case MCPTransportSSE:
		switch {
		case m.IsStdio():
			v.errorf(tp, "sse is an HTTP transport; a command server speaks stdio")
		case m.IsMock():
			v.errorf(tp, "the mock serves Streamable HTTP only")
		case m.Protocol != "" && m.Protocol != "2024-11-05":
			v.errorf(field(path, "protocol"), "transport: sse speaks 2024-11-05 only")
		}
	default:
		v.errorf(tp, "%s", unknownValue("transport", m.Transport, []string{MCPTransportStreamable, MCPTransportSSE}))
	}
	pp := field(path, "protocol")
	if m.Protocol != "" && !slices.Contains(MCPClientProtocols(), m.Protocol) && m.Transport != MCPTransportSSE {
		v.errorf(pp, "%s", unknownValue("protocol", m.Protocol, MCPClientProtocols()))
	}
	if m.Discover && m.Protocol != MCPProtocolStateless {
		v.errorf(field(path, "discover"), "only applies to protocol: %s (auto always discovers)", MCPProtocolStateless)
	}
}

// mcpServerProcessOnly refuses env and dir on a server that is not a
// child process: they would silently do nothing.
func (v *validator) mcpServerProcessOnly(path string, m *MCPServer) {
	if m.Env != nil {
		v.errorf(field(path, "env"), "only applies to a command (stdio) server")
	}
	if m.Dir != "" {
		v.errorf(field(path, "dir"), "only applies to a command (stdio) server")
	}
}

// toolsProgress checks each tool's mock.progress: a count, and a server
// that answers with an event stream to carry it.
func (v *validator) toolsProgress(s *Scenario) {
	for i, t := range s.Tools {
		if t == nil || t.Mock.Progress == 0 {
			continue
		}
		pp := field(index("tools", i), "mock.progress")
		if t.Mock.Progress < 0 || t.Mock.Progress > MaxProgress {
			v.errorf(pp, "must be from 0 to %d, got %d", MaxProgress, t.Mock.Progress)
			continue
		}
		if m := s.MCPServers[t.Server]; m != nil && m.IsMock() && m.Mock.Response != MCPResponseSSE {
			v.errorf(pp, "progress notifications travel on the response's event stream; set mcp_servers.%s.mock.response: sse", t.Server)
		}
	}
}

// serverRef checks the server of a resource or prompt.
func (v *validator) serverRef(s *Scenario, path, server, what string) {
	switch {
	case server == "" && len(s.MCPServers) == 0:
		v.errorf(path, "missing, and there are no mcp_servers to serve the %s", what)
	case server == "":
		v.errorf(path, "missing; name the mcp_servers entry that serves the %s (defined: %s)", what, names(s.MCPServers))
	case s.MCPServers[server] == nil:
		v.errorf(path, "MCP server %q is not defined in mcp_servers (defined: %s)", server, names(s.MCPServers))
	}
}

func (v *validator) resources(s *Scenario) {
	first := map[string]int{}
	for i, r := range s.Resources {
		path := index("resources", i)
		if r == nil {
			v.errorf(path, "expected a mapping with uri and server, got null")
			continue
		}
		up := field(path, "uri")
		uri := r.URI
		switch {
		case r.URI != "" && r.URITemplate != "":
			v.errorf(field(path, "uriTemplate"), "give either uri or uriTemplate, not both")
		case r.URITemplate != "":
			up, uri = field(path, "uriTemplate"), r.URITemplate
		}
		// A template's {variables} are no part of a URI's syntax.
		if msg := checkResourceURI(strings.NewReplacer("{", "", "}", "").Replace(uri)); msg != "" {
			v.errorf(up, "%s", msg)
		}
		v.resourceFixture(path, r)
		key := r.Server + "\x00" + uri
		if j, dup := first[key]; dup && uri != "" {
			v.errorf(up, "resource %q is defined twice on server %q (also resources[%d])", uri, r.Server, j)
		} else {
			first[key] = i
		}
		v.serverRef(s, field(path, "server"), r.Server, "resource")
		v.latency(field(path, "mock.latency"), r.Mock.Latency)
	}
}

// checkResourceURI says what is wrong with a resource URI, or returns "".
func checkResourceURI(raw string) string {
	if raw == "" {
		return "missing; a resource needs a URI, such as docs://runbooks/retries"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "\"" + raw + "\" is not an absolute URI: give a scheme, such as docs://runbooks/retries or file:///srv/README.md"
	}
	return ""
}

func (v *validator) prompts(s *Scenario) {
	first := map[string]int{}
	for i, p := range s.Prompts {
		path := index("prompts", i)
		if p == nil {
			v.errorf(path, "expected a mapping with name and server, got null")
			continue
		}
		np := field(path, "name")
		switch {
		case p.Name == "":
			v.errorf(np, "missing; a prompt needs a name")
		case !entryName.MatchString(p.Name):
			v.errorf(np, "prompt name %q: use up to 64 letters, digits, '.', '_' or '-'", p.Name)
		}
		key := p.Server + "\x00" + p.Name
		if j, dup := first[key]; dup && p.Name != "" {
			v.errorf(np, "prompt %q is defined twice on server %q (also prompts[%d])", p.Name, p.Server, j)
		} else {
			first[key] = i
		}
		seen := map[string]bool{}
		for k, a := range p.Arguments {
			ap := field(index(field(path, "arguments"), k), "name")
			switch {
			case a.Name == "":
				v.errorf(ap, "missing; a prompt argument needs a name")
			case seen[a.Name]:
				v.errorf(ap, "argument %q is listed twice", a.Name)
			}
			seen[a.Name] = true
		}
		v.promptFixture(path, p)
		v.serverRef(s, field(path, "server"), p.Server, "prompt")
		v.latency(field(path, "mock.latency"), p.Mock.Latency)
	}
}

// mcpOp checks one entry of an MCP-direct mix: its op, and the fields
// that op takes.
func (v *validator) mcpOp(s *Scenario, path string, op *MCPOp) {
	m := s.MCPDirect
	server := s.MCPServers[m.Server]
	name := op.OpName()
	if !slices.Contains(MCPOps(), name) {
		v.errorf(field(path, "op"), "%s", unknownValue("op", op.Op, MCPOps()))
		return
	}
	switch op.Session {
	case "", SessionPerVU, SessionShared, SessionPerCall:
	default:
		v.errorf(field(path, "session"), "%s", unknownValue("session mode", op.Session, []string{SessionPerVU, SessionShared, SessionPerCall}))
	}
	// Fields of other ops are mistakes, not details to ignore.
	takes := map[string][]string{
		MCPOpToolsCall:     {"tool", "arguments", "progress"},
		MCPOpToolsList:     nil,
		MCPOpResourcesRead: {"uri"},
		MCPOpPromptsGet:    {"prompt", "arguments"},
	}[name]
	for _, f := range []struct {
		name string
		set  bool
	}{{"tool", op.Tool != ""}, {"uri", op.URI != ""}, {"prompt", op.Prompt != ""}, {"arguments", op.Arguments != nil}, {"progress", op.Progress != nil}} {
		if f.set && !slices.Contains(takes, f.name) {
			v.errorf(field(path, f.name), "does not apply to op %s (it takes %s)", name, listOrNone(takes))
		}
	}
	switch name {
	case MCPOpToolsCall:
		// The call runs on the tool's own server, which may be another
		// than mcp_direct.server: lanes side by side in one run.
		v.toolRef(s, field(path, "tool"), field(path, "arguments"), op.Tool, op.Arguments)
	case MCPOpResourcesRead:
		up := field(path, "uri")
		if op.URI == "" {
			v.errorf(up, "missing; name the resource to read (served: %s)", v.served(s, m.Server, "resources"))
			break
		}
		if msg := checkResourceURI(op.URI); msg != "" {
			v.errorf(up, "%s", msg)
			break
		}
		if server != nil && server.IsMock() && findResource(s, m.Server, op.URI) == nil {
			v.errorf(up, "resource %q is not served by the mock's MCP server %q (served: %s)", op.URI, m.Server, v.served(s, m.Server, "resources"))
		}
	case MCPOpPromptsGet:
		v.promptRef(s, path, op, server)
	}
}

// promptRef checks a prompts/get: the prompt, served by the mock when the
// server is the mock, and string arguments that the prompt takes.
func (v *validator) promptRef(s *Scenario, path string, op *MCPOp, server *MCPServer) {
	m := s.MCPDirect
	pp, ap := field(path, "prompt"), field(path, "arguments")
	if op.Prompt == "" {
		v.errorf(pp, "missing; name the prompt to get (served: %s)", v.served(s, m.Server, "prompts"))
		return
	}
	for _, k := range sortedArgKeys(op.Arguments) {
		if _, ok := op.Arguments[k].(string); !ok {
			v.errorf(field(ap, k), "a prompt argument is a string, got %T", op.Arguments[k])
		}
	}
	if server == nil || !server.IsMock() {
		return
	}
	p := findPrompt(s, m.Server, op.Prompt)
	if p == nil {
		v.errorf(pp, "prompt %q is not served by the mock's MCP server %q (served: %s)", op.Prompt, m.Server, v.served(s, m.Server, "prompts"))
		return
	}
	var known []string
	for _, a := range p.Arguments {
		known = append(known, a.Name)
		if _, ok := op.Arguments[a.Name]; a.Required && !ok {
			v.errorf(ap, "missing required argument %q of prompt %q", a.Name, p.Name)
		}
	}
	for _, k := range sortedArgKeys(op.Arguments) {
		if !slices.Contains(known, k) {
			v.errorf(field(ap, k), "prompt %q takes no argument %q (it takes %s)", p.Name, k, listOrNone(known))
		}
	}
}

// served lists what the mock serves on server: "resources" (URIs) or
// "prompts" (names).
func (v *validator) served(s *Scenario, server, what string) string {
	var xs []string
	if what == "resources" {
		for _, r := range s.Resources {
			if r != nil && r.Server == server && r.URI != "" {
				xs = append(xs, r.URI)
			}
		}
	} else {
		for _, p := range s.Prompts {
			if p != nil && p.Server == server && p.Name != "" {
				xs = append(xs, p.Name)
			}
		}
	}
	return listOrNone(xs)
}

// findResource returns the resource uri of server, or nil.
func findResource(s *Scenario, server, uri string) *Resource {
	for _, r := range s.Resources {
		if r != nil && r.Server == server && r.URI == uri {
			return r
		}
	}
	return nil
}

// findPrompt returns the prompt name of server, or nil.
func findPrompt(s *Scenario, server, name string) *Prompt {
	for _, p := range s.Prompts {
		if p != nil && p.Server == server && p.Name == name {
			return p
		}
	}
	return nil
}

func sortedArgKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
