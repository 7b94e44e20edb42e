package scenarios

import (
	"maps"
	"slices"
	"time"
)

// Defaults filled in by ApplyDefaults, for fields left out or set to 0.
const (
	DefaultVersion = 1
	// DefaultMaxInFlight caps in-flight conversations even when the author
	// set no cap: with an open model, a target that hangs would otherwise
	// pile up goroutines until the machine runs out of memory.
	DefaultMaxInFlight = 10000
	DefaultTimeout     = 30 * time.Second
	DefaultMaxSteps    = 8
	DefaultWeight      = 1
	// DefaultAnthropicMaxTokens is an Anthropic provider's max_tokens,
	// which that API requires; a tool-use step never needs more.
	DefaultAnthropicMaxTokens = 4096
)

// Defaults of a fault, filled in by ApplyDefaults.
const (
	DefaultFaultProbability = 1.0
	DefaultFaultAfterChunks = 1      // for stream_stall and stream_cut
	DefaultFaultJSONRPCCode = -32603 // for jsonrpc_error: JSON-RPC's "internal error"
)

// ApplyDefaults fills in the fields that have defaults: version 1,
// providers' api "openai", load.arrival "constant", load.on_cap "queue",
// load.max_in_flight DefaultMaxInFlight, client.timeout DefaultTimeout,
// conversation.max_steps DefaultMaxSteps, mcp_direct.session "per_vu", mix
// weights 1, and a tool's (or mcp_direct's) server when there is exactly
// one mcp_servers entry. The client policies that are present (in client
// and in each policies[].client) get theirs too, with retry presets
// expanded (see Client.applyDefaults), and so do faults (see
// Fault.applyDefaults). Parse and Load call it; code that builds a Scenario
// in Go calls it before Validate. It is idempotent. Seed 0 stays 0: the
// runner picks a seed and records it.
func (s *Scenario) ApplyDefaults() {
	if s.Version == 0 {
		s.Version = DefaultVersion
	}
	for _, p := range s.Providers {
		if p == nil {
			continue
		}
		if p.API == "" {
			p.API = APIOpenAI
		}
		if p.API == APIAnthropic && p.MaxTokens == 0 {
			p.MaxTokens = DefaultAnthropicMaxTokens
		}
	}
	var onlyServer string
	if len(s.MCPServers) == 1 {
		onlyServer = slices.Collect(maps.Keys(s.MCPServers))[0]
	}
	for _, t := range s.Tools {
		if t != nil && t.Server == "" {
			t.Server = onlyServer
		}
	}
	s.applyMCPDefaults()
	if c := s.Conversation; c != nil && c.MaxSteps == 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if m := s.MCPDirect; m != nil {
		if m.Server == "" {
			m.Server = onlyServer
		}
		if m.Session == "" {
			m.Session = SessionPerVU
		}
		for i := range m.Mix {
			if m.Mix[i].Weight == 0 {
				m.Mix[i].Weight = DefaultWeight
			}
		}
	}
	if s.Load.Arrival == "" {
		s.Load.Arrival = ArrivalConstant
	}
	if s.Load.OnCap == "" {
		s.Load.OnCap = OnCapQueue
	}
	if s.Load.MaxInFlight == 0 {
		s.Load.MaxInFlight = DefaultMaxInFlight
	}
	s.Client.applyDefaults()
	for i := range s.Policies {
		// A policy's client replaces the scenario's whole, so it gets the
		// same defaults, timeout included.
		if c := s.Policies[i].Client; c != nil {
			c.applyDefaults()
		}
	}
	for i := range s.Faults {
		s.Faults[i].applyDefaults()
	}
}

// applyDefaults names f after its kind and target, makes it certain
// (probability 1), and fills the kind's own defaults: one chunk before a
// stream fault, JSON-RPC code -32603. Fields of other kinds stay zero, so
// that Validate can say they do not apply.
func (f *Fault) applyDefaults() {
	if f.Name == "" && f.Kind != "" && f.Target != "" {
		f.Name = f.Kind + "@" + f.Target
	}
	if f.Probability == nil {
		f.Probability = ptr(DefaultFaultProbability)
	}
	switch f.Kind {
	case FaultStreamStall, FaultStreamCut:
		if f.AfterChunks == 0 {
			f.AfterChunks = DefaultFaultAfterChunks
		}
	case FaultJSONRPCError:
		if f.Code == 0 {
			f.Code = DefaultFaultJSONRPCCode
		}
	}
}
