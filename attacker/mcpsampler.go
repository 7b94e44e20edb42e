package attacker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpload/mcpload/attacker/llm"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// mcpCapabilities builds what the client of MCP server name declares and
// answers (mcp_servers.NAME.client). Sampling that names a provider gets
// a providerSampler of its own: one chat request per sample, recorded as
// a model attempt of the tool call the server sampled during.
func mcpCapabilities(sc *scenarios.Scenario, name string, cfg jobConfig, timeout time.Duration, rd *secrets.Redactor) (*mcp.Capabilities, error) {
	s := sc.MCPServers[name]
	if s == nil || s.Client == nil {
		return mcp.NewCapabilities(nil, nil)
	}
	var sampler mcp.Sampler
	if sm := s.Client.Sampling; sm != nil && sm.Provider != "" {
		ps, err := newProviderSampler(sc, sm.Provider, cfg, timeout, rd)
		if err != nil {
			return nil, fmt.Errorf("mcp server %q: sampling: %w", name, err)
		}
		sampler = ps
	}
	caps, err := mcp.NewCapabilities(s.Client, sampler)
	if err != nil {
		return nil, fmt.Errorf("mcp server %q: client: %w", name, err)
	}
	return caps, nil
}

// providerSampler answers MCP sampling/createMessage with one chat
// request to a provider of the scenario, without tools.
type providerSampler struct {
	att   *llm.Attempt
	model string
}

func newProviderSampler(sc *scenarios.Scenario, provider string, cfg jobConfig, timeout time.Duration, rd *secrets.Redactor) (*providerSampler, error) {
	p, base, key, err := resolveProvider(sc, provider, cfg)
	if err != nil {
		return nil, err
	}
	rd.Add(key) // set-up is single-threaded
	ep, err := llm.NewEndpoint(provider, p, base, key, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("provider %q: %w", provider, err)
	}
	return &providerSampler{model: p.Model, att: llm.NewAttempt(cfg.HTTPClient, ep, rd, attemptOptions(sc, timeout, cfg.AllowRemote))}, nil
}

// samplingParams is what a sample needs of CreateMessageRequest's params:
// the messages (content one block or, since 2025-11-25, a list) and the
// system prompt.
type samplingParams struct {
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	SystemPrompt string `json:"systemPrompt"`
}

// Sample implements mcp.Sampler. The model attempt is recorded with the
// call the server sampled during, when the sink is the run's.
func (s *providerSampler) Sample(ctx context.Context, params json.RawMessage, seq uint64, step int, sink mcp.Sink) (json.RawMessage, error) {
	var p samplingParams
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, fmt.Errorf("decoding params: %w", err)
	}
	var msgs []openaichat.Message
	if p.SystemPrompt != "" {
		msgs = append(msgs, openaichat.Message{Role: "system", Content: openaichat.Str(p.SystemPrompt)})
	}
	for _, m := range p.Messages {
		role := m.Role
		if role != "assistant" {
			role = "user"
		}
		msgs = append(msgs, openaichat.Message{Role: role, Content: openaichat.Str(samplingText(m.Content))})
	}
	if len(msgs) == 0 {
		return nil, errors.New("no messages to sample")
	}
	rs, _ := sink.(Sink)
	r := s.att.Do(ctx, seq, step, msgs, rs)
	if r.Outcome != record.OutcomeOK {
		return nil, fmt.Errorf("provider answered %s: %s", r.Outcome, r.Err)
	}
	return json.Marshal(map[string]any{
		"role": "assistant", "content": map[string]any{"type": "text", "text": r.Msg.Text()},
		"model": s.model, "stopReason": scenarios.SamplingEndTurn,
	})
}

// samplingText is the text of a sampling message's content: one block, or
// a list of them; blocks that are not text are left out.
func samplingText(content json.RawMessage) string {
	type block struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	var one block
	if json.Unmarshal(content, &one) == nil && one.Type != "" {
		return one.Text
	}
	var many []block
	_ = json.Unmarshal(content, &many)
	text := ""
	for _, b := range many {
		if b.Type == "text" {
			if text != "" {
				text += "\n"
			}
			text += b.Text
		}
	}
	return text
}
