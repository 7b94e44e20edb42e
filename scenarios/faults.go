package scenarios

// Fault is one entry of the fault timeline. The mock carries it out: for
// each request to Target inside the window, with Probability, it does Kind.
// Draws are seeded, so a scenario and seed give the same faults each run.
type Fault struct {
	// Name labels the fault in reports. Default: kind@target.
	Name string `yaml:"name,omitempty"`
	// Target is "provider:NAME", "model:MODEL" or "tool:NAME".
	Target string `yaml:"target"`
	// From is when the window opens, from the start of the run; For is how
	// long it lasts. No For: to the end of the run.
	From Duration `yaml:"from,omitempty"`
	For  Duration `yaml:"for,omitempty"`
	// Probability is per request, 0 to 1. Default 1.
	Probability *float64 `yaml:"probability,omitempty"`
	// Kind is what happens: see the Fault* constants.
	Kind string `yaml:"kind"`

	// Latency is the added delay (latency), the delay before headers
	// (slow_headers) or the length of a stall (stream_stall).
	Latency Latency `yaml:"latency,omitempty"`
	// Status is the HTTP status of http_error: 500, 502 or 503.
	Status int `yaml:"status,omitempty"`
	// RetryAfter is sent with rate_limit, overloaded and http_error 503:
	// Retry-After in whole seconds (rounded up) and retry-after-ms.
	RetryAfter Duration `yaml:"retry_after,omitempty"`
	// AfterChunks is how many stream chunks go out before a stream_stall
	// or stream_cut. Default 1.
	AfterChunks int `yaml:"after_chunks,omitempty"`
	// Code and Message are the JSON-RPC error of jsonrpc_error (default
	// -32603), or the text of tool_error.
	Code    int    `yaml:"code,omitempty"`
	Message string `yaml:"message,omitempty"`
}

// Fault kinds.
const (
	FaultLatency      = "latency"       // add Latency, then answer normally
	FaultHang         = "hang"          // never answer; the client must give up
	FaultHTTPError    = "http_error"    // Status (500, 502, 503), provider's error shape
	FaultRateLimit    = "rate_limit"    // 429 with Retry-After, retry-after-ms, x-ratelimit-*
	FaultOverloaded   = "overloaded"    // 529 overloaded_error, in Anthropic's shape
	FaultReset        = "reset"         // close the connection without an answer
	FaultSlowHeaders  = "slow_headers"  // wait Latency before the headers, then answer
	FaultStreamStall  = "stream_stall"  // stall Latency after AfterChunks chunks
	FaultStreamCut    = "stream_cut"    // cut the stream after AfterChunks chunks
	FaultMalformed    = "malformed"     // a 200 with a body that is not valid JSON / SSE
	FaultToolError    = "tool_error"    // MCP tools/call result with isError: true
	FaultJSONRPCError = "jsonrpc_error" // MCP JSON-RPC error response (Code, Message)
)

// Fault target prefixes.
const (
	TargetProvider = "provider:"
	TargetModel    = "model:"
	TargetTool     = "tool:"
)

// Limits are a provider's rate limits: requests and tokens per minute. The
// mock answers 429 with accurate x-ratelimit-* headers once offered load
// exceeds them.
type Limits struct {
	RPM int `yaml:"rpm,omitempty"`
	TPM int `yaml:"tpm,omitempty"`
	// Quantum enforces the limits over a shorter rolling window, scaled to
	// it, as OpenAI says it may ("60,000 requests/minute may be enforced as
	// 1,000 requests/second"): rpm 1200 with quantum 1s admits 20 requests
	// in any second. 0 means the whole minute.
	Quantum Duration `yaml:"quantum,omitempty"`
}
