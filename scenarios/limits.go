package scenarios

// ClientLimits bound what a target can make mcpload hold: a hostile or broken
// provider or MCP server must not crash a run, exhaust its memory or its
// descriptors, whatever it sends. Each bound has a default (ApplyDefaults)
// and the run treats what goes past it as the target's failure, a
// classified outcome, never as more work. docs/limits.md describes them.
type ClientLimits struct {
	// MaxToolCalls bounds the tool calls taken from one model answer. An
	// answer with more fails its attempt with outcome protocol, and none of
	// its calls is sent; a stream is read no further than the call past the
	// bound.
	MaxToolCalls int `yaml:"max_tool_calls,omitempty"`
	// MaxResponseBytes bounds the body of one response, streamed or not.
	// A longer one fails its attempt with outcome protocol; the rest is
	// not read.
	MaxResponseBytes int64 `yaml:"max_response_bytes,omitempty"`
	// MaxMCPInFlightPerConversation bounds the MCP tool calls one
	// conversation has in flight; its other calls wait, and the wait
	// counts in their latency.
	MaxMCPInFlightPerConversation int `yaml:"max_mcp_in_flight_per_conversation,omitempty"`
	// MaxMCPInFlight bounds the MCP tool calls the whole run has in flight,
	// so that a run stays within its descriptors; other calls wait, and the
	// wait counts in their latency.
	MaxMCPInFlight int `yaml:"max_mcp_in_flight,omitempty"`
}

// Defaults and upper bounds of client.limits. The upper bounds keep a
// typo from turning a bound into none: 1<<30 bytes of one response, or a
// million calls in flight, are not bounds a run can live with.
const (
	DefaultMaxToolCalls                  = 128
	DefaultMaxResponseBytes              = 32 << 20
	DefaultMaxMCPInFlightPerConversation = 16
	// DefaultMaxMCPInFlight leaves room, under a 20,000-descriptor limit,
	// for the model connections and the run's files beside one
	// connection per MCP call.
	DefaultMaxMCPInFlight = 4096

	MaxMaxToolCalls     = 4096
	MaxMaxResponseBytes = 1 << 30
	MaxMaxMCPInFlight   = 1 << 20
)

// applyDefaults fills in every bound left at zero.
func (l *ClientLimits) applyDefaults() {
	if l.MaxToolCalls == 0 {
		l.MaxToolCalls = DefaultMaxToolCalls
	}
	if l.MaxResponseBytes == 0 {
		l.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if l.MaxMCPInFlightPerConversation == 0 {
		l.MaxMCPInFlightPerConversation = DefaultMaxMCPInFlightPerConversation
	}
	if l.MaxMCPInFlight == 0 {
		l.MaxMCPInFlight = DefaultMaxMCPInFlight
	}
}

// WithDefaults returns l with its zero fields defaulted, as ApplyDefaults
// leaves it: for code that builds a Client in Go.
func (l ClientLimits) WithDefaults() ClientLimits {
	l.applyDefaults()
	return l
}

// clientLimits checks client.limits: every bound positive and below its upper
// bound.
func (v *validator) clientLimits(path string, l *ClientLimits) {
	for _, b := range []struct {
		name string
		v    int64
		max  int64
	}{
		{"max_tool_calls", int64(l.MaxToolCalls), MaxMaxToolCalls},
		{"max_response_bytes", l.MaxResponseBytes, MaxMaxResponseBytes},
		{"max_mcp_in_flight_per_conversation", int64(l.MaxMCPInFlightPerConversation), MaxMaxMCPInFlight},
		{"max_mcp_in_flight", int64(l.MaxMCPInFlight), MaxMaxMCPInFlight},
	} {
		if b.v < 1 || b.v > b.max {
			v.errorf(field(path, b.name), "must be from 1 to %d, got %d", b.max, b.v)
		}
	}
}
