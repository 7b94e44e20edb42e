// Package scenarios defines mcpload's YAML scenario schema (version 1), and
// loads, defaults and validates scenarios. The embedded scenarios in this
// folder can be run by name.
package scenarios

// Scenario is one load test: who to call (providers, MCP servers), what to
// say (a tool-use conversation, or a mix of direct MCP operations), how hard
// (load), and how the client behaves (client).
//
// Exactly one of Conversation and MCPDirect is set.
type Scenario struct {
	Version     int    `yaml:"version"`
	Name        string `yaml:"name"`
	Description string `yaml:"description,omitempty"`
	// Seed drives arrivals, latency draws and fault draws. 0 means "pick one";
	// the resolved scenario always records the seed that was used.
	Seed int64 `yaml:"seed"`
	// TimeScale is the scale the file's times are written at: 0.1 for a
	// replay ten times faster than real time; absent, 1 (timescale.go).
	TimeScale float64 `yaml:"time_scale,omitempty"`

	Providers  map[string]*Provider  `yaml:"providers,omitempty"`
	MCPServers map[string]*MCPServer `yaml:"mcp_servers,omitempty"`
	Tools      []*Tool               `yaml:"tools,omitempty"`
	// Resources and Prompts are what the mock's MCP servers serve besides
	// tools, for resources/read and prompts/get (see mcp.go).
	Resources []*Resource `yaml:"resources,omitempty"`
	Prompts   []*Prompt   `yaml:"prompts,omitempty"`

	Conversation *Conversation `yaml:"conversation,omitempty"`
	MCPDirect    *MCPDirect    `yaml:"mcp_direct,omitempty"`

	Load   LoadShape `yaml:"load"`
	Client Client    `yaml:"client"`

	// Faults is the fault timeline the mock carries out (see faults.go).
	Faults []Fault `yaml:"faults,omitempty"`
	// Policies, when set, runs the same load and faults once per policy,
	// one after the other, with the same seed. A policy's client replaces
	// Client whole (it is not merged with it).
	Policies []Policy `yaml:"policies,omitempty"`
	// Thresholds are CI gates over the run's measurements, such as
	// "conversation.p99 < 2s" (see thresholds.go). With Policies, they
	// apply to each policy's run.
	Thresholds []Threshold `yaml:"thresholds,omitempty"`
	// Claims are the vendor's claims, each judged with a confidence
	// interval (see claims.go).
	Claims []Claim `yaml:"claims,omitempty"`
	// Cost says how the run is priced and projected (see cost.go).
	Cost *Cost `yaml:"cost,omitempty"`
	// Budget caps what a run may spend.
	Budget *SpendCap `yaml:"budget,omitempty"`

	// File is where the scenario came from: a path, or "embedded:NAME".
	File string `yaml:"-"`
	// Variables are the names of the ${VAR} the file refers to, and Sets
	// the paths given --set, for the resolved scenario's header (vars.go).
	Variables []string `yaml:"-"`
	Sets      []string `yaml:"-"`
}

// Kind names the two kinds of scenario.
const (
	KindConversation = "conversation"
	KindMCPDirect    = "mcp_direct"
)

// Kind reports whether s drives model conversations or MCP calls directly.
func (s *Scenario) Kind() string {
	if s.MCPDirect != nil {
		return KindMCPDirect
	}
	return KindConversation
}

// MockURL is the base_url and url value that selects the built-in mock.
const MockURL = "mock"

// The wire dialects a provider may speak (Provider.API).
const (
	// APIOpenAI is OpenAI Chat Completions, the default.
	APIOpenAI = "openai"
	// APIAnthropic is Anthropic Messages.
	APIAnthropic = "anthropic"
	// APIGemini is the Gemini API's generateContent.
	APIGemini = "gemini"
)

// Tool choices of Provider.ToolChoice, besides a tool's name.
const (
	ToolChoiceAuto     = "auto"
	ToolChoiceNone     = "none"
	ToolChoiceRequired = "required"
)

// APIs lists the dialects, the default first.
func APIs() []string { return []string{APIOpenAI, APIAnthropic, APIGemini} }

// Provider is a named model endpoint.
type Provider struct {
	// API is the wire dialect: "openai" (the default), "anthropic" or
	// "gemini". The scenario's tools and conversation are translated to it.
	API string `yaml:"api"`
	// BaseURL is "mock" or the API's base URL, up to its version:
	// https://api.openai.com/v1 (openai: /chat/completions is appended),
	// https://api.anthropic.com/v1 (anthropic: /messages), or
	// https://generativelanguage.googleapis.com/v1beta (gemini:
	// /models/MODEL:generateContent, or :streamGenerateContent?alt=sse).
	BaseURL string `yaml:"base_url"`
	Model   string `yaml:"model"`
	// APIKeyEnv names the environment variable that holds the key.
	APIKeyEnv string `yaml:"api_key_env,omitempty"`
	// CredentialsFile is read when APIKeyEnv is unset or empty. "~" expands.
	CredentialsFile string `yaml:"credentials_file,omitempty"`
	// Stream asks for SSE streaming (openai: stream with include_usage;
	// anthropic: stream; gemini: streamGenerateContent?alt=sse).
	Stream bool `yaml:"stream,omitempty"`
	// ToolChoice says whether and which tools the model may call: "auto"
	// (the API's default, not sent), "none", "required" (some tool), or
	// the name of one of the scenario's tools. Each dialect says it its
	// way: OpenAI's tool_choice, Anthropic's tool_choice type auto, none,
	// any or tool, Gemini's functionCallingConfig mode AUTO, NONE or ANY
	// (with allowedFunctionNames).
	ToolChoice string `yaml:"tool_choice,omitempty"`
	// ParallelToolCalls, when set, allows (true) or forbids (false)
	// several tool calls in one answer: OpenAI's parallel_tool_calls,
	// Anthropic's disable_parallel_tool_use. Gemini has no such switch;
	// it is not sent there. Unset leaves the API's default (allowed).
	ParallelToolCalls *bool `yaml:"parallel_tool_calls,omitempty"`
	// MaxTokens caps the tokens of each answer: OpenAI's
	// max_completion_tokens, Anthropic's max_tokens, Gemini's
	// generationConfig.maxOutputTokens. 0 or absent sends none, except to
	// Anthropic, whose API requires it: DefaultAnthropicMaxTokens.
	MaxTokens int `yaml:"max_tokens,omitempty"`
	// Headers are sent with every request (see headers.go).
	Headers map[string]string `yaml:"headers,omitempty"`
	// TLS is how an https base_url is verified and authenticated to.
	TLS *TLS `yaml:"tls,omitempty"`
	// Mock is how the built-in mock answers for this provider.
	Mock ProviderMock `yaml:"mock,omitempty"`
	// Upstream, with base_url: mock, makes the mock a fault proxy in front
	// of this base URL (see upstream.go).
	Upstream string `yaml:"upstream,omitempty"`
	// RecordHeaders names response headers whose values this provider's
	// attempts record, besides client.record_headers and the built-ins
	// (docs/gateways.md).
	RecordHeaders []string `yaml:"record_headers,omitempty"`
}

// IsMock reports whether the provider is served by the built-in mock.
func (p *Provider) IsMock() bool { return p.BaseURL == MockURL }

// ProviderMock is the built-in mock's behaviour for one provider.
type ProviderMock struct {
	// Latency is the time before the response headers. For a JSON response it
	// is the whole response time; for a stream, TTFT and TokenGap follow it.
	Latency Latency `yaml:"latency,omitempty"`
	// TTFT is the extra time from the headers to the first content chunk.
	TTFT Latency `yaml:"ttft,omitempty"`
	// TokenGap is the time between two streamed chunks.
	TokenGap Latency `yaml:"token_gap,omitempty"`
	// Limits makes the mock rate-limit this provider as real providers do.
	Limits *Limits `yaml:"limits,omitempty"`
	// Gateway makes the mock answer as an AI gateway does (gateway.go).
	Gateway *MockGateway `yaml:"gateway,omitempty"`
	// Concurrency, when above 0, serves at most this many requests at
	// once; the others queue, first come first served, so that latency
	// grows with load as on a real server (docs/capacity.md).
	Concurrency int `yaml:"concurrency,omitempty"`
	// LatencyPerInFlight adds this much latency per other request in
	// service, as llm-d-inference-sim models a loaded server.
	LatencyPerInFlight Duration `yaml:"latency_per_in_flight,omitempty"`
}

// MCPServer is a named MCP endpoint, spoken to over Streamable HTTP.
type MCPServer struct {
	// URL is "mock" or the full endpoint URL, such as http://127.0.0.1:8080/mcp.
	URL string `yaml:"url"`
	// Command, instead of url, is the argv of a server that mcpload runs
	// as a child process and speaks MCP to over its stdin and stdout (the
	// stdio transport). mcp_direct.session says how many processes run.
	Command []string `yaml:"command,omitempty"`
	// Env adds variables to the environment the process inherits from
	// mcpload (command only). Values are written to the resolved scenario:
	// pass secrets through mcpload's own environment instead.
	Env map[string]string `yaml:"env,omitempty"`
	// Dir is the process's working directory (command only); default
	// mcpload's.
	Dir string `yaml:"dir,omitempty"`
	// Protocol is the MCP revision and lane (Streamable HTTP or stdio): a revision up to
	// 2025-11-25 opens sessions with the initialize handshake; 2026-07-28
	// is the stateless lane (no session; version, client info and
	// capabilities in each request's _meta; Mcp-Method and Mcp-Name
	// headers over HTTP); auto asks server/discover and falls back to
	// initialize, as the official SDKs do. Default 2025-11-25.
	Protocol string `yaml:"protocol,omitempty"`
	// Transport is how a url server is spoken to: "streamable" (Streamable
	// HTTP, the default) or "sse", the HTTP+SSE transport of 2024-11-05 (a
	// GET event stream, requests POSTed to the endpoint it names).
	Transport string `yaml:"transport,omitempty"`
	// Discover sends server/discover as each session's handshake in the
	// 2026-07-28 lane (auto always does).
	Discover bool `yaml:"discover,omitempty"`
	// Headers are sent with every request to a url server (see
	// headers.go); BearerTokenEnv names the variable whose value is sent
	// as Authorization: Bearer.
	Headers        map[string]string `yaml:"headers,omitempty"`
	BearerTokenEnv string            `yaml:"bearer_token_env,omitempty"`
	// TLS is how an https url is verified and authenticated to.
	TLS *TLS `yaml:"tls,omitempty"`
	// DiscoverTools lists the server's tools (tools/list, every page) at
	// start, before the load, and makes them the scenario's tools of this
	// server; a declared tool of the same name wins field by field (see
	// MergeDiscovered).
	DiscoverTools bool `yaml:"discover_tools,omitempty"`
	// Mock is how the built-in mock serves this server (url: mock only).
	Mock MCPServerMock `yaml:"mock,omitempty"`
	// Upstream, with url: mock, makes the mock a fault proxy in front of
	// this MCP endpoint (see upstream.go).
	Upstream string `yaml:"upstream,omitempty"`
	// Client is what mcpload's client declares to this server (roots,
	// sampling, elicitation) and how it answers the server's requests
	// for them; absent, it declares none and refuses them.
	Client *MCPClientCaps `yaml:"client,omitempty"`
}

// IsMock reports whether the server is the built-in mock's MCP server.
func (m *MCPServer) IsMock() bool { return m.URL == MockURL }

// Transports of mcp_servers.NAME.transport.
const (
	MCPTransportStreamable = "streamable"
	MCPTransportSSE        = "sse"
)

// MCPProtocolAuto is mcp_servers.NAME.protocol's negotiation: server/discover
// first, initialize when the server refuses it, as the official SDKs do.
const MCPProtocolAuto = "auto"

// MCPClientProtocols are the values of mcp_servers.NAME.protocol: how
// mcpload speaks to the server (MCPProtocols are the mock's lanes).
func MCPClientProtocols() []string {
	return []string{MCPProtocolAuto, MCPProtocolStateless, MCPProtocolInitialize, "2025-06-18", "2025-03-26"}
}

// SelfCommand, as the program of an mcp_servers command, is the mcpload
// binary that runs the scenario, wherever it is installed: so that
// `command: [mcpload, mock, --stdio, ...]` serves the mock over stdio in
// any checkout, with the same version as the run.
const SelfCommand = "mcpload"

// IsStdio reports whether the server is a child process spoken to over
// stdio (command).
func (m *MCPServer) IsStdio() bool { return len(m.Command) > 0 }

// Tool is an MCP tool definition in MCP's own format, plus the mock's
// behaviour when it runs the tool.
type Tool struct {
	Name        string         `yaml:"name"`
	Description string         `yaml:"description,omitempty"`
	InputSchema map[string]any `yaml:"inputSchema"`
	// Title, Annotations, OutputSchema, Execution, Icons and Meta are the
	// rest of MCP's Tool (toolshape.go), so that a server's tools/list
	// answer can be pasted. OutputSchema is checked against every call's
	// structuredContent.
	Title        string           `yaml:"title,omitempty"`
	Annotations  *ToolAnnotations `yaml:"annotations,omitempty"`
	OutputSchema map[string]any   `yaml:"outputSchema,omitempty"`
	Execution    *ToolExecution   `yaml:"execution,omitempty"`
	Icons        []Icon           `yaml:"icons,omitempty"`
	Meta         map[string]any   `yaml:"_meta,omitempty"`
	// Server names the mcp_servers entry that runs the tool. It defaults to
	// the only entry when there is exactly one.
	Server string   `yaml:"server"`
	Mock   ToolMock `yaml:"mock,omitempty"`
}

// ToolMock is how the mock's MCP server runs a tool.
type ToolMock struct {
	Latency Latency `yaml:"latency,omitempty"`
	// Result is the tool's output. A string becomes one text content block;
	// anything else is sent as JSON text and as structuredContent.
	Result any `yaml:"result,omitempty"`
	// IsError makes the tool answer with isError: true.
	IsError bool `yaml:"is_error,omitempty"`
	// Progress is how many notifications/progress the tool sends, spread
	// over its latency, when the call carries a progressToken. They
	// travel on the POST's event stream, so the server needs
	// mock.response: sse.
	Progress int `yaml:"progress,omitempty"`
	// Content is the result's content blocks, of any type, instead of
	// Result.
	Content []MCPContent `yaml:"content,omitempty"`
	// Log is the notifications/message the tool sends, the first at once
	// and the rest spread over its latency (the client's logging/setLevel
	// filters them).
	Log []LogMessage `yaml:"log,omitempty"`
	// Sampling makes the tool ask the client for a model answer before it
	// answers; {{sampling}} in its content's text is the answer's text.
	Sampling *SamplingMock `yaml:"sampling,omitempty"`
	// Elicitation makes the tool ask the client for user input before it
	// answers; {{elicitation}} in its content's text is the action and
	// the content given.
	Elicitation *ElicitationMock `yaml:"elicitation,omitempty"`
	// CloseStream makes the tool close the POST's event stream as it
	// starts, after the priming event, so that the client must resume
	// with Last-Event-ID to get the answer (SEP-1699). It needs
	// mock.sse_retry on the server.
	CloseStream bool `yaml:"close_stream,omitempty"`
}

// Conversation is a tool-use conversation: a system prompt, then user turns.
// After each user turn the model answers with tool calls zero or more times,
// and then with a final answer.
type Conversation struct {
	// Provider names the providers entry that plays the model.
	Provider string `yaml:"provider"`
	System   string `yaml:"system,omitempty"`
	Turns    []Turn `yaml:"turns"`
	// MaxSteps bounds model calls per user turn, so that a real model that
	// keeps calling tools cannot loop forever. 0 or absent means
	// DefaultMaxSteps (8).
	MaxSteps int `yaml:"max_steps,omitempty"`
}

// Turn is one user message and the script the mock model follows to answer
// it: every entry but the last calls tools, the last gives the final answer.
type Turn struct {
	User  string       `yaml:"user"`
	Model []ModelReply `yaml:"model"`
}

// ModelReply is one scripted model answer.
type ModelReply struct {
	// ToolCalls, when set, are all returned in one assistant message and run
	// in parallel by the client.
	ToolCalls []ToolCall `yaml:"tool_calls,omitempty"`
	// Content is the assistant's text.
	Content string `yaml:"content,omitempty"`
	// Usage is reported by the mock. Zero fields are estimated from the text.
	Usage Usage `yaml:"usage,omitempty"`
}

// ToolCall is one scripted call of a tool, with its arguments.
type ToolCall struct {
	Name      string         `yaml:"name"`
	Arguments map[string]any `yaml:"arguments,omitempty"`
}

// Usage is a token count, as the provider reports it.
type Usage struct {
	PromptTokens     int `yaml:"prompt_tokens,omitempty"`
	CompletionTokens int `yaml:"completion_tokens,omitempty"`
	CachedTokens     int `yaml:"cached_tokens,omitempty"`
}

// MCPDirect puts load on MCP servers with no model: each arrival runs one
// operation drawn from a weighted mix.
type MCPDirect struct {
	// Server names the mcp_servers entry to load. It defaults to the only
	// entry when there is exactly one.
	Server string `yaml:"server"`
	// Session is "per_vu" (each in-flight slot keeps one MCP session and
	// reuses it), "shared" (one session for the whole run, its requests
	// multiplexed) or "per_call" (every operation initializes a new
	// session). For a command server the session is a process: one per
	// slot, one in all, or one per operation (cold starts). Default per_vu.
	Session string  `yaml:"session"`
	Mix     []MCPOp `yaml:"mix"`
}

// Session modes of MCPDirect.
const (
	SessionPerVU   = "per_vu"
	SessionShared  = "shared"
	SessionPerCall = "per_call"
)

// MCPOp is one weighted operation of an MCP-direct mix.
type MCPOp struct {
	// Op is the MCP method: "tools/call" (the default), "tools/list",
	// "resources/read" or "prompts/get" (see the MCPOp* constants).
	Op string `yaml:"op,omitempty"`
	// Tool is the tool of a tools/call.
	Tool string `yaml:"tool,omitempty"`
	// URI is the resource of a resources/read.
	URI string `yaml:"uri,omitempty"`
	// Prompt is the prompt of a prompts/get.
	Prompt string `yaml:"prompt,omitempty"`
	// Weight is the op's relative share of the mix; 0 or absent means 1.
	Weight int `yaml:"weight,omitempty"`
	// Arguments are the tool's (an object matching its inputSchema) or
	// the prompt's (string values).
	Arguments map[string]any `yaml:"arguments,omitempty"`
	// Progress, for a tools/call, sends a progressToken so that the
	// server may report progress. Absent: sent when the tool's mock
	// sends progress.
	Progress *bool `yaml:"progress,omitempty"`
	// Session overrides mcp_direct.session for this entry, so that one run
	// compares session modes side by side.
	Session string `yaml:"session,omitempty"`
}

// LoadShape is the open-model arrival schedule, the scenario's "load"
// section. (It is not named Load: that is the function that loads a
// scenario.)
type LoadShape struct {
	// Arrival is "constant" (evenly spaced, as vegeta) or "poisson"
	// (exponential gaps with the same mean rate).
	Arrival string `yaml:"arrival"`
	// Stages run one after the other.
	Stages []Stage `yaml:"stages"`
	// MaxInFlight caps conversations in flight. 0 or absent means
	// DefaultMaxInFlight (10000), so that a hanging target cannot grow
	// goroutines without bound; there is no uncapped setting.
	MaxInFlight int `yaml:"max_in_flight,omitempty"`
	// OnCap is "queue" (wait for a slot; the wait counts in latency, since
	// latency runs from the intended start) or "drop" (count it and move on).
	OnCap string `yaml:"on_cap,omitempty"`
}

// Arrival and cap policies.
const (
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
	OnCapQueue      = "queue"
	OnCapDrop       = "drop"
)

// Stage holds a rate for a duration. When Ramp is set, the rate moves
// linearly from the previous stage's rate (0 for the first) to Rate over the
// first Ramp of the stage; Ramp is part of Duration.
type Stage struct {
	// Rate is in conversations per second. It accepts vegeta's "50/1s" form.
	// 0 means as fast as max_in_flight allows (vegeta's -rate=0).
	Rate     Rate     `yaml:"rate"`
	Duration Duration `yaml:"duration"`
	Ramp     Duration `yaml:"ramp,omitempty"`
}
