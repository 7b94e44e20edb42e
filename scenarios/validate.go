package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/record"
)

// Bounds that keep a scenario from asking the runner for something it
// cannot do safely (a semaphore of 10^18 slots, a rate that overflows
// vegeta's integer pacing).
const (
	MaxRate        = 1_000_000
	MaxMaxInFlight = 1_000_000
	MaxMaxSteps    = 1000
)

var (
	// Names end up in folder names and histogram tags.
	scenarioName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	entryName    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	// OpenAI's rule for function names, which tool names become.
	toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks s's meaning: references between sections, allowed values,
// and the scripted conversation. It expects ApplyDefaults to have run. Parse
// and Load validate already, with line and column in each error; Validate is
// for a Scenario built or changed in Go (for example by command-line
// overrides), and its errors name only the field. The error is an Errors.
func (s *Scenario) Validate() error {
	v := &validator{file: s.File}
	v.scenario(s)
	return v.errs.sorted()
}

// validator collects semantic errors, placing each at the node of its field
// when the scenario came from YAML.
type validator struct {
	file  string
	nodes map[string]*yaml.Node
	keys  map[string]*yaml.Node
	// failed holds the fields that failed to decode. Errors in the object
	// around such a field would be guesses about a half-decoded value, so
	// they are left out.
	failed []string
	errs   Errors
	// schemas holds each valid tool's compiled inputSchema, by tool name.
	schemas map[string]*jsonschema.Resolved
	// discovered is set for the check after discovery (CheckDiscovered):
	// tool references are no longer deferred to it.
	discovered bool
}

func (v *validator) errorf(path, format string, args ...any) {
	v.add(path, v.nodes, format, args...)
}

// keyErrorf is errorf for a problem with the name of a map entry: it points
// at the name rather than at the entry's value.
func (v *validator) keyErrorf(path, format string, args ...any) {
	if _, ok := v.keys[path]; ok {
		v.add(path, v.keys, format, args...)
		return
	}
	v.errorf(path, format, args...)
}

func (v *validator) add(path string, nodes map[string]*yaml.Node, format string, args ...any) {
	if v.suppressed(path) {
		return
	}
	e := &FieldError{File: v.file, Field: path, Msg: fmt.Sprintf(format, args...)}
	// A field left out has no node; point at the closest enclosing one.
	for p := path; nodes != nil; p = parentPath(p) {
		if n, ok := nodes[p]; ok {
			e.Line, e.Column = n.Line, n.Column
			break
		}
		if p == "" {
			break
		}
	}
	v.errs = append(v.errs, e)
}

// suppressed reports whether path is in an object that had a field fail to
// decode. A failure at the top level suppresses only that field.
func (v *validator) suppressed(path string) bool {
	return slices.ContainsFunc(v.failed, func(f string) bool {
		scope := parentPath(f)
		if scope == "" {
			scope = f
		}
		return within(path, scope)
	})
}

// failedInside reports whether path, or anything in it, failed to decode.
func (v *validator) failedInside(path string) bool {
	return slices.ContainsFunc(v.failed, func(f string) bool { return within(f, path) || within(path, f) })
}

func (v *validator) scenario(s *Scenario) {
	if s.Version != 1 {
		v.errorf("version", "unsupported schema version %d; this mcpload reads version 1", s.Version)
	}
	switch {
	case s.Name == "":
		v.errorf("name", "missing; every scenario needs a name (letters, digits, '.', '_', '-'), which names its results folder")
	case !scenarioName.MatchString(s.Name):
		v.errorf("name", "%q cannot name a results folder: use up to 100 letters, digits, '.', '_' or '-'", s.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Providers)) {
		v.provider(mapKey("providers", name), name, s.Providers[name])
		if p := s.Providers[name]; p != nil {
			v.recordHeaders(field(mapKey("providers", name), "record_headers"), p.RecordHeaders, len(s.Client.RecordHeaders))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.MCPServers)) {
		v.mcpServer(mapKey("mcp_servers", name), name, s.MCPServers[name])
		v.mcpClientCaps(s, mapKey("mcp_servers", name), s.MCPServers[name])
	}
	v.tools(s)
	v.toolsProgress(s)
	v.toolFixtures(s)
	v.resources(s)
	v.prompts(s)
	for _, name := range slices.Sorted(maps.Keys(s.Providers)) {
		if !v.deferTools(s) { // a tool's name may be discovered
			v.toolChoice(mapKey("providers", name), s.Providers[name], s.Tools)
		}
	}
	switch {
	case s.Conversation != nil && s.MCPDirect != nil:
		v.errorf("mcp_direct", "a scenario has either conversation or mcp_direct, not both")
	case s.Conversation == nil && s.MCPDirect == nil:
		v.errorf("", "missing conversation or mcp_direct: say what each arrival does")
	case s.Conversation != nil:
		v.conversation(s)
	default:
		v.mcpDirect(s)
	}
	v.load(&s.Load)
	v.client(s, "client", &s.Client, conversationProvider(s))
	v.faults(s)
	v.upstreams(s)
	v.policies(s)
	v.timeScale(s)
	v.thresholds(s)
	v.claims(s)
	v.cost(s)
}

func (v *validator) provider(path, name string, p *Provider) {
	if !entryName.MatchString(name) {
		v.keyErrorf(path, "provider name %q: use up to 64 letters, digits, '.', '_' or '-'", name)
	}
	if p == nil {
		v.errorf(path, "expected a mapping with base_url and model, got null")
		return
	}
	if !slices.Contains(APIs(), p.API) {
		v.errorf(field(path, "api"), "unsupported api %q; expected one of %s", p.API, strings.Join(APIs(), ", "))
	}
	if msg := checkURL(p.BaseURL); msg != "" {
		v.errorf(field(path, "base_url"), "%s", msg)
	}
	if p.Model == "" {
		v.errorf(field(path, "model"), "missing; name the model to ask for, such as gpt-4.1-mini")
	}
	if p.MaxTokens < 0 {
		v.errorf(field(path, "max_tokens"), "must not be negative, got %d (0 or absent sends none, except to anthropic: %d)", p.MaxTokens, DefaultAnthropicMaxTokens)
	}
	if p.APIKeyEnv != "" && !envName.MatchString(p.APIKeyEnv) {
		// Do not echo the value: people paste the key itself here, and
		// error messages end up in CI logs.
		v.errorf(field(path, "api_key_env"), "must be the name of an environment variable, such as OPENAI_API_KEY (letters, digits and '_'); the value is not shown in case it is a key")
	}
	keyFrom := ""
	if p.APIKeyEnv != "" || p.CredentialsFile != "" {
		keyFrom = "api_key_env or credentials_file"
	}
	v.headers(field(path, "headers"), p.Headers, keyFrom)
	v.tls(field(path, "tls"), p.BaseURL, p.TLS)
	v.latency(field(path, "mock.latency"), p.Mock.Latency)
	v.latency(field(path, "mock.ttft"), p.Mock.TTFT)
	v.latency(field(path, "mock.token_gap"), p.Mock.TokenGap)
	v.limits(field(path, "mock.limits"), p.Mock.Limits)
	v.mockGateway(field(path, "mock.gateway"), p)
	v.mockCapacity(field(path, "mock"), p.Mock.Concurrency, p.Mock.LatencyPerInFlight)
}

// toolChoice checks a provider's tool_choice: a choice, or a tool's name.
func (v *validator) toolChoice(path string, p *Provider, tools []*Tool) {
	if p == nil {
		return
	}
	switch p.ToolChoice {
	case "", ToolChoiceAuto, ToolChoiceNone, ToolChoiceRequired:
		return
	}
	var names []string
	for _, t := range tools {
		if t != nil {
			if t.Name == p.ToolChoice {
				return
			}
			names = append(names, t.Name)
		}
	}
	v.errorf(field(path, "tool_choice"), "%q is neither auto, none, required nor a tool of the scenario (tools: %s)", p.ToolChoice, listOrNone(names))
}

func (v *validator) mcpServer(path, name string, m *MCPServer) {
	if !entryName.MatchString(name) {
		v.keyErrorf(path, "MCP server name %q: use up to 64 letters, digits, '.', '_' or '-'", name)
	}
	if m == nil {
		v.errorf(path, "expected a mapping with a url, got null")
		return
	}
	if m.IsStdio() || m.Command != nil {
		v.mcpServerCommand(path, m)
	} else {
		if msg := checkURL(m.URL); msg != "" {
			v.errorf(field(path, "url"), "%s", msg)
		}
		v.mcpServerProcessOnly(path, m)
	}
	v.mcpServerProtocol(path, m)
	v.mcpServerMock(path, m)
	v.mcpAuth(path, m)
}

// checkURL says what is wrong with a base_url or url, or returns "".
func checkURL(raw string) string {
	if raw == MockURL {
		return ""
	}
	if raw == "" {
		return `missing; "mock" or an http(s) URL`
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Sprintf(`expected "mock" or an http(s) URL, got %q`, redact(raw))
	}
	if u.User != nil {
		// The resolved scenario, with this URL, is written to the results.
		return "must not hold credentials (user:password@); use api_key_env or credentials_file"
	}
	if u.Host == "" {
		return fmt.Sprintf("URL %q has no host", u.Redacted())
	}
	return ""
}

// redact hides what may be a password in a URL that did not parse.
func redact(raw string) string {
	if at := strings.LastIndexByte(raw, '@'); at >= 0 {
		return "…" + raw[at:]
	}
	return raw
}

func (v *validator) tools(s *Scenario) {
	v.schemas = map[string]*jsonschema.Resolved{}
	first := map[string]int{}
	for i, t := range s.Tools {
		path := index("tools", i)
		if t == nil {
			v.errorf(path, "expected a mapping with name, inputSchema and server, got null")
			continue
		}
		switch {
		case t.Name == "":
			v.errorf(field(path, "name"), "missing; a tool needs a name")
		case !toolName.MatchString(t.Name):
			v.errorf(field(path, "name"), "%q is not a valid tool name: use 1 to 64 letters, digits, '_' or '-' (OpenAI's rule for function names)", t.Name)
		case t.Name == record.UndeclaredTool:
			v.errorf(field(path, "name"), "%q is reserved: it keys the calls to tools the scenario does not declare", t.Name)
		}
		if j, dup := first[t.Name]; dup && t.Name != "" {
			v.errorf(field(path, "name"), "tool %q is defined twice (also tools[%d])", t.Name, j)
		} else {
			first[t.Name] = i
		}
		// A server that lists its tools at start may supply the schema.
		if t.InputSchema != nil || s.MCPServers[t.Server] == nil || !s.MCPServers[t.Server].DiscoverTools {
			v.toolSchema(field(path, "inputSchema"), t)
		}
		v.toolShape(path, t)
		switch {
		case t.Server == "" && len(s.MCPServers) == 0:
			v.errorf(field(path, "server"), "missing, and there are no mcp_servers to run the tool")
		case t.Server == "":
			v.errorf(field(path, "server"), "missing; name the mcp_servers entry that runs the tool (defined: %s)", names(s.MCPServers))
		case s.MCPServers[t.Server] == nil:
			v.errorf(field(path, "server"), "MCP server %q is not defined in mcp_servers (defined: %s)", t.Server, names(s.MCPServers))
		}
		v.latency(field(path, "mock.latency"), t.Mock.Latency)
	}
}

func (v *validator) toolSchema(path string, t *Tool) {
	if t.InputSchema == nil {
		v.errorf(path, "missing; a tool needs an inputSchema, such as {type: object, properties: {...}}")
		return
	}
	if typ, ok := t.InputSchema["type"]; !ok || typ != "object" {
		// MCP requires it, and OpenAI function parameters are objects.
		v.errorf(field(path, "type"), `must be "object": a tool takes an object of named arguments`)
		return
	}
	if v.failedInside(path) {
		return
	}
	rs, err := compileSchema(t.InputSchema)
	if err != nil {
		v.errorf(path, "not a valid JSON Schema: %v", err)
		return
	}
	if _, dup := v.schemas[t.Name]; !dup {
		v.schemas[t.Name] = rs
	}
}

// compileSchema compiles a tool's inputSchema as the MCP SDK would.
func compileSchema(schema map[string]any) (rs *jsonschema.Resolved, err error) {
	defer func() {
		// A third-party compiler fed user input: a panic is a bad schema,
		// not a crash.
		if r := recover(); r != nil {
			rs, err = nil, fmt.Errorf("the schema compiler failed: %v", r)
		}
	}()
	b, err := json.Marshal(schema)
	if err != nil {
		return nil, err
	}
	var js jsonschema.Schema
	if err := json.Unmarshal(b, &js); err != nil {
		return nil, err
	}
	return js.Resolve(nil)
}

// checkArgs validates scripted arguments against a tool's schema.
func checkArgs(rs *jsonschema.Resolved, args map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the schema validator failed: %v", r)
		}
	}()
	if args == nil {
		args = map[string]any{} // what the wire carries: "{}"
	}
	// Validate JSON's own values (float64 numbers), as the server will.
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	var inst any
	if err := json.Unmarshal(b, &inst); err != nil {
		return err
	}
	return rs.Validate(inst)
}

// toolRef checks a reference to a tool by name, and its arguments.
func (v *validator) toolRef(s *Scenario, namePath, argsPath, name string, args map[string]any) *Tool {
	var tool *Tool
	for _, t := range s.Tools {
		if t != nil && t.Name == name {
			tool = t
			break
		}
	}
	if tool == nil {
		if name != "" && v.deferTools(s) {
			return nil // checked by CheckDiscovered, once the tools are known
		}
		if name == "" {
			v.errorf(namePath, "missing; name one of the tools (defined: %s)", toolNames(s))
		} else {
			v.errorf(namePath, "tool %q is not defined in tools (defined: %s)", name, toolNames(s))
		}
		return nil
	}
	if rs := v.schemas[name]; rs != nil && !v.failedInside(argsPath) {
		if err := checkArgs(rs, args); err != nil {
			v.errorf(argsPath, "arguments do not match tool %q's inputSchema: %v", name, err)
		}
	}
	return tool
}

func (v *validator) conversation(s *Scenario) {
	c := s.Conversation
	switch {
	case c.Provider == "":
		v.errorf("conversation.provider", "missing; name the providers entry that plays the model (defined: %s)", names(s.Providers))
	case s.Providers[c.Provider] == nil:
		v.errorf("conversation.provider", "provider %q is not defined in providers (defined: %s)", c.Provider, names(s.Providers))
	}
	if c.MaxSteps < 1 || c.MaxSteps > MaxMaxSteps {
		v.errorf("conversation.max_steps", "must be from 1 to %d, got %d", MaxMaxSteps, c.MaxSteps)
	}
	if len(c.Turns) == 0 {
		v.errorf("conversation.turns", "missing; a conversation needs at least one turn")
	}
	for i, turn := range c.Turns {
		tp := index("conversation.turns", i)
		if strings.TrimSpace(turn.User) == "" {
			v.errorf(field(tp, "user"), "missing; a turn starts with the user's message")
		}
		mp := field(tp, "model")
		if len(turn.Model) == 0 {
			v.errorf(mp, "missing; script the model's replies: tool calls, then a final answer")
		}
		if c.MaxSteps > 0 && len(turn.Model) > c.MaxSteps {
			v.errorf(mp, "%d replies, more than max_steps (%d) model calls a turn may make", len(turn.Model), c.MaxSteps)
		}
		for j, r := range turn.Model {
			rp := index(mp, j)
			last := j == len(turn.Model)-1
			switch {
			case last && len(r.ToolCalls) > 0:
				v.errorf(field(rp, "tool_calls"), "the last reply of a turn is the final answer, so it cannot call tools; add a reply with content after it")
			case last && r.Content == "":
				v.errorf(field(rp, "content"), "missing; the last reply of a turn is the final answer and needs content")
			case !last && len(r.ToolCalls) == 0:
				v.errorf(field(rp, "tool_calls"), "missing; every reply before the last must call tools (only the last is the final answer)")
			}
			for k, call := range r.ToolCalls {
				cp := index(field(rp, "tool_calls"), k)
				v.toolRef(s, field(cp, "name"), field(cp, "arguments"), call.Name, call.Arguments)
			}
			v.usage(field(rp, "usage"), r.Usage)
		}
	}
}

func (v *validator) usage(path string, u Usage) {
	for _, f := range []struct {
		name string
		n    int
	}{{"prompt_tokens", u.PromptTokens}, {"completion_tokens", u.CompletionTokens}, {"cached_tokens", u.CachedTokens}} {
		if f.n < 0 {
			v.errorf(field(path, f.name), "must not be negative, got %d", f.n)
		}
	}
	if u.CachedTokens > 0 && u.PromptTokens > 0 && u.CachedTokens > u.PromptTokens {
		v.errorf(field(path, "cached_tokens"), "%d cached tokens is more than the %d prompt tokens they are part of", u.CachedTokens, u.PromptTokens)
	}
}

func (v *validator) mcpDirect(s *Scenario) {
	m := s.MCPDirect
	switch {
	case m.Server == "":
		v.errorf("mcp_direct.server", "missing; name the mcp_servers entry to load (defined: %s)", names(s.MCPServers))
	case s.MCPServers[m.Server] == nil:
		v.errorf("mcp_direct.server", "MCP server %q is not defined in mcp_servers (defined: %s)", m.Server, names(s.MCPServers))
	}
	switch m.Session {
	case SessionPerVU, SessionShared, SessionPerCall:
	default:
		v.errorf("mcp_direct.session", "%s", unknownValue("session mode", m.Session, []string{SessionPerVU, SessionShared, SessionPerCall}))
	}
	if len(m.Mix) == 0 {
		v.errorf("mcp_direct.mix", "missing; list at least one tool to call, or another operation (tools/list, resources/read, prompts/get)")
	}
	for i := range m.Mix {
		p := index("mcp_direct.mix", i)
		op := &m.Mix[i]
		v.mcpOp(s, p, op)
		if op.Weight <= 0 {
			v.errorf(field(p, "weight"), "must be greater than 0, got %d", op.Weight)
		}
	}
}

func (v *validator) load(l *LoadShape) {
	if l.Arrival != ArrivalConstant && l.Arrival != ArrivalPoisson {
		v.errorf("load.arrival", "expected %q or %q, got %q", ArrivalConstant, ArrivalPoisson, l.Arrival)
	}
	if l.OnCap != OnCapQueue && l.OnCap != OnCapDrop {
		v.errorf("load.on_cap", "expected %q or %q, got %q", OnCapQueue, OnCapDrop, l.OnCap)
	}
	if l.MaxInFlight < 0 || l.MaxInFlight > MaxMaxInFlight {
		v.errorf("load.max_in_flight", "must be from 1 to %d (0 means %d), got %d", MaxMaxInFlight, DefaultMaxInFlight, l.MaxInFlight)
	}
	if len(l.Stages) == 0 {
		v.errorf("load.stages", "missing; give at least one stage, such as [{rate: 20, duration: 10s}]")
	}
	for i, st := range l.Stages {
		p := index("load.stages", i)
		if st.Duration <= 0 {
			v.errorf(field(p, "duration"), "must be greater than 0")
		}
		r := float64(st.Rate)
		switch {
		case math.IsNaN(r) || math.IsInf(r, 0) || r < 0:
			v.errorf(field(p, "rate"), "must be a number from 0 to %d per second, got %v", MaxRate, r)
		case r > MaxRate:
			v.errorf(field(p, "rate"), "%v per second is more than the %d mcpload can pace", r, MaxRate)
		case r == 0:
			// vegeta's rate 0: as fast as the in-flight cap lets it go.
			// It needs a cap to mean anything, and has no mean gap for a
			// Poisson process or a ramp to aim at.
			if l.Arrival != ArrivalConstant {
				v.errorf(field(p, "rate"), "a rate of 0 (as fast as max_in_flight allows) needs arrival: constant")
			}
			if l.MaxInFlight <= 0 {
				v.errorf(field(p, "rate"), "a rate of 0 (as fast as max_in_flight allows) needs max_in_flight > 0")
			}
			if st.Ramp > 0 {
				v.errorf(field(p, "ramp"), "cannot ramp to a rate of 0 (as fast as max_in_flight allows)")
			}
		}
		switch {
		case st.Ramp < 0:
			v.errorf(field(p, "ramp"), "must not be negative")
		case st.Ramp > st.Duration && st.Duration > 0:
			v.errorf(field(p, "ramp"), "ramp %s is longer than the stage's duration %s; the ramp is part of the duration", st.Ramp.D(), st.Duration.D())
		case st.Ramp > 0 && i > 0 && l.Stages[i-1].Rate == 0 && r != 0:
			v.errorf(field(p, "ramp"), "cannot ramp from stage %d's rate of 0 (as fast as max_in_flight allows)", i-1)
		}
	}
}

// latency checks a latency model: a known dist, its parameters and no
// others.
func (v *validator) latency(path string, l Latency) {
	if l.IsZero() {
		return
	}
	params := []struct {
		name string
		d    Duration
	}{{"value", l.Value}, {"min", l.Min}, {"max", l.Max}, {"mean", l.Mean}, {"stddev", l.Stddev}, {"p50", l.P50}, {"p99", l.P99}}
	for _, p := range params {
		if p.d < 0 {
			v.errorf(field(path, p.name), "must not be negative")
		}
	}
	var takes []string
	switch l.Dist {
	case DistFixed:
		takes = []string{"value"}
	case DistUniform:
		takes = []string{"min", "max"}
		if l.Min > l.Max {
			v.errorf(field(path, "max"), "max %s is less than min %s", l.Max.D(), l.Min.D())
		}
	case DistNormal:
		takes = []string{"mean", "stddev", "min", "max"}
		if l.Stddev <= 0 {
			v.errorf(field(path, "stddev"), "must be greater than 0 (for a constant latency use dist: fixed)")
		}
		if l.Max > 0 && l.Min > l.Max {
			v.errorf(field(path, "max"), "max %s is less than min %s", l.Max.D(), l.Min.D())
		}
	case DistLognormal:
		takes = []string{"p50", "p99"}
		switch {
		case l.P50 <= 0:
			v.errorf(field(path, "p50"), "must be greater than 0")
		case l.P99 <= l.P50:
			v.errorf(field(path, "p99"), "p99 %s must be greater than p50 %s", l.P99.D(), l.P50.D())
		}
	case "":
		v.errorf(field(path, "dist"), "missing; one of fixed, uniform, normal, lognormal")
		return
	default:
		v.errorf(field(path, "dist"), "unknown distribution %q; expected fixed, uniform, normal or lognormal", l.Dist)
		return
	}
	for _, p := range params {
		if p.d != 0 && !slices.Contains(takes, p.name) {
			v.errorf(field(path, p.name), "dist %s does not take %s (it takes %s)", l.Dist, p.name, strings.Join(takes, ", "))
		}
	}
}

func names[V any](m map[string]V) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

func toolNames(s *Scenario) string {
	var ns []string
	for _, t := range s.Tools {
		if t != nil && t.Name != "" {
			ns = append(ns, t.Name)
		}
	}
	if len(ns) == 0 {
		return "none"
	}
	return strings.Join(ns, ", ")
}
