package mcp

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcpload/mcpload/scenarios"
)

// Capabilities is what the client declares to a server (roots, sampling,
// elicitation: mcp_servers.NAME.client) and the answers it gives to the
// server's requests for them. Every answer but a provider's sample is
// built once, so that answering costs no encoding.
type Capabilities struct {
	// declared is the capabilities object of initialize and of the
	// 2026-07-28 lane's _meta.
	declared []byte
	// roots, sample and elicit are the scripted results; nil when the
	// capability is not declared.
	roots, sample, elicit []byte
	// sampler answers sampling instead of the script, when set.
	sampler Sampler
}

// Sampler answers sampling/createMessage with a model: the request's
// params (MCP's CreateMessageRequest params) become one chat request, and
// the answer a CreateMessageResult.
// The sample's own exchange is recorded to sink (when it is the run's) in
// step step of conversation seq, the call the server sampled during.
type Sampler interface {
	Sample(ctx context.Context, params json.RawMessage, seq uint64, step int, sink Sink) (json.RawMessage, error)
}

// noCapabilities declares nothing: every request but ping is refused.
var noCapabilities = &Capabilities{declared: []byte("{}")}

// NewCapabilities builds the client's capabilities from cc (nil declares
// none). sampler, when cc's sampling names a provider, answers sampling.
func NewCapabilities(cc *scenarios.MCPClientCaps, sampler Sampler) (*Capabilities, error) {
	if cc == nil {
		return noCapabilities, nil
	}
	c := &Capabilities{}
	declared := map[string]any{}
	if cc.Roots != nil {
		type root struct {
			URI  string `json:"uri"`
			Name string `json:"name,omitempty"`
		}
		roots := make([]root, len(cc.Roots))
		for i, r := range cc.Roots {
			roots[i] = root(r)
		}
		b, err := json.Marshal(map[string]any{"roots": roots})
		if err != nil {
			return nil, fmt.Errorf("roots: %w", err)
		}
		c.roots = b
		declared["roots"] = map[string]any{"listChanged": false}
	}
	if s := cc.Sampling; s != nil {
		text, model, stop := s.Text, s.Model, s.StopReason
		if text == "" {
			text = scenarios.DefaultSamplingText
		}
		if model == "" {
			model = scenarios.DefaultSamplingModel
		}
		if stop == "" {
			stop = scenarios.SamplingEndTurn
		}
		b, err := json.Marshal(map[string]any{
			"role": "assistant", "content": map[string]any{"type": "text", "text": text},
			"model": model, "stopReason": stop,
		})
		if err != nil {
			return nil, fmt.Errorf("sampling: %w", err)
		}
		c.sample = b
		if s.Provider != "" {
			if sampler == nil {
				return nil, fmt.Errorf("sampling: provider %s has no client", s.Provider)
			}
			c.sampler = sampler
		}
		declared["sampling"] = map[string]any{}
	}
	if e := cc.Elicitation; e != nil {
		action := e.Action
		if action == "" {
			action = scenarios.ElicitAccept
		}
		res := map[string]any{"action": action}
		if action == scenarios.ElicitAccept {
			content := e.Content
			if content == nil {
				content = map[string]any{}
			}
			res["content"] = content
		}
		b, err := json.Marshal(res)
		if err != nil {
			return nil, fmt.Errorf("elicitation: %w", err)
		}
		c.elicit = b
		declared["elicitation"] = map[string]any{}
	}
	b, err := json.Marshal(declared)
	if err != nil {
		return nil, fmt.Errorf("capabilities: %w", err)
	}
	c.declared = b
	return c, nil
}

// declares reports whether c declares any capability.
func (c *Capabilities) declares() bool {
	return c.roots != nil || c.sample != nil || c.elicit != nil
}

// SetCapabilities makes the client declare caps (nil: none) in every
// handshake, and in every request's _meta in the 2026-07-28 lane. It is
// set before the client's first request.
func (c *conn) SetCapabilities(caps *Capabilities) {
	if caps == nil {
		caps = noCapabilities
	}
	c.caps = caps
	c.meta = statelessMetaFor(caps.declared)
}

// statelessMetaFor is the inside of the _meta object of every request in
// the 2026-07-28 lane, declaring capabilities.
func statelessMetaFor(capabilities []byte) string {
	return `"io.modelcontextprotocol/protocolVersion":"` + ProtocolStateless +
		`","io.modelcontextprotocol/clientInfo":{"name":"` + mcpClientName + `","version":"` + mcpClientVersion +
		`"},"io.modelcontextprotocol/clientCapabilities":` + string(capabilities)
}
