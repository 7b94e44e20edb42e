package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// thresholdScope is what a scenario's runs can measure: the providers,
// models, tools and MCP operations whose histogram keys the attacker
// records. It is the one place that knows which threshold metrics and
// filters a scenario can produce, so that a gate that could never match
// fails validate instead of the run it was meant to judge.
type thresholdScope struct {
	direct bool
	// providers maps each provider that plays in a run (conversation,
	// policy, fallback) to whether it streams.
	providers map[string]bool
	models    map[string]bool
	// tools are the tools a run can call: a conversation's tools, or the
	// tools/call entries of an MCP-direct mix.
	tools map[string]bool
	// ops, uris and prompts are an MCP-direct mix's.
	ops, uris, prompts map[string]bool
	baseline           bool
}

// scopeOf returns what the runs of s can measure: s's own run, or, with
// policies, any policy's run.
func scopeOf(s *Scenario) *thresholdScope {
	sc := &thresholdScope{
		direct:    s.MCPDirect != nil,
		providers: map[string]bool{}, models: map[string]bool{}, tools: map[string]bool{},
		ops: map[string]bool{}, uris: map[string]bool{}, prompts: map[string]bool{},
	}
	if len(s.Policies) == 0 {
		sc.add(s)
		return sc
	}
	for i := range s.Policies {
		sc.add(s.ForPolicy(&s.Policies[i]))
	}
	return sc
}

// add puts what the run of s (a scenario without policies) measures into
// sc.
func (sc *thresholdScope) add(s *Scenario) {
	if s.Cost != nil && s.Cost.Baseline != "" {
		sc.baseline = true
	}
	if d := s.MCPDirect; d != nil {
		for _, op := range d.Mix {
			sc.ops[op.OpName()] = true
			switch op.OpName() {
			case MCPOpToolsCall:
				sc.tools[op.Tool] = true
			case MCPOpResourcesRead:
				sc.uris[op.URI] = true
			case MCPOpPromptsGet:
				sc.prompts[op.Prompt] = true
			}
		}
		return
	}
	for _, t := range s.Tools {
		if t != nil && t.Name != "" {
			sc.tools[t.Name] = true
		}
	}
	playing := []string{conversationProvider(s)}
	for _, f := range s.Client.Fallback {
		playing = append(playing, f.Provider)
	}
	for _, name := range playing {
		if p := s.Providers[name]; p != nil {
			sc.providers[name] = sc.providers[name] || p.Stream
			sc.models[p.Model] = true
		}
	}
}

// streamMetrics are measured on streamed answers only.
var streamMetrics = []string{"ttft.model", "first_tool_call.model", "tool_args_complete.model", "inter_token.model", "tpot.model", "output_tokens_per_s"}

// modelMetrics are measured on the model's answers: an MCP-direct
// scenario, which has no model, never produces them.
var modelMetrics = append([]string{"step.model", "attempt.model", "availability.model", "tokens.prompt", "tokens.completion", "tokens.cached", "invalid_tool_args"}, streamMetrics...)

// check returns why t can never be measured in sc, and the offset in
// t.Text of the part at fault; "" when it can, or when sc is nil (not
// known).
func (sc *thresholdScope) check(t *ThresholdExpr) (int, string) {
	if sc == nil {
		return 0, ""
	}
	switch {
	case sc.direct && slices.Contains(modelMetrics, t.Metric):
		return 0, fmt.Sprintf("%s is measured on a model's answers, and an mcp_direct scenario has no model; gate its operations with step.mcp{op=...}.p95 or step.tool{tool=...}.p95", t.Metric)
	case !sc.direct && strings.HasSuffix(t.Metric, ".mcp"):
		return 0, fmt.Sprintf("%s measures the operations of an mcp_direct scenario; a conversation's tool calls are step.tool", t.Metric)
	case strings.HasSuffix(t.Metric, ".tool") && len(sc.tools) == 0:
		if sc.direct {
			return 0, fmt.Sprintf("%s measures tools/call, and mcp_direct.mix has no tools/call; use step.mcp{op=...}", t.Metric)
		}
		return 0, fmt.Sprintf("%s measures tool calls, and the scenario defines no tools", t.Metric)
	case slices.Contains(streamMetrics, t.Metric) && !slices.Contains(slices.Collect(maps.Values(sc.providers)), true):
		return 0, fmt.Sprintf("%s is measured on streamed answers, and no provider that plays in this scenario streams (set stream: true on it)", t.Metric)
	case t.Metric == "cost.saving" && !sc.baseline:
		return 0, "cost.saving compares with a baseline catalog, and no cost section names one (cost.baseline)"
	}
	ops := ""
	for _, f := range t.Filters {
		if f.Key == "op" {
			ops = f.Value
		}
	}
	for _, f := range t.Filters {
		at := filterOffset(t.Text, f.Key)
		var known map[string]bool
		what := f.Key
		switch f.Key {
		case "provider":
			known = map[string]bool{}
			for name := range sc.providers {
				known[name] = true
			}
		case "model":
			known = sc.models
		case "tool":
			known = sc.tools
		case "op":
			known, what = maps.Clone(sc.ops), "operation"
			if t.Metric == "attempt.mcp" {
				known["initialize"] = true // each session's handshake
			}
		case "uri":
			known, what = sc.uris, "resource uri"
		case "prompt":
			known = sc.prompts
		}
		if !known[f.Value] {
			msg := unknownValue(what, f.Value, slices.Sorted(maps.Keys(known)))
			head := fmt.Sprintf("unknown %s %q", what, f.Value)
			return at, head + " in this scenario's runs" + strings.TrimPrefix(msg, head)
		}
		if f.Key == "provider" && slices.Contains(streamMetrics, t.Metric) && !sc.providers[f.Value] {
			// Known, but it answers whole.
			return at, fmt.Sprintf("provider %q does not stream, so it has no %s (set stream: true on it)", f.Value, t.Metric)
		}
		if op := opOfFilter(f.Key); op != "" && ops != "" && ops != op {
			return at, fmt.Sprintf("a %s filter matches %s only, and this one also filters op=%s", f.Key, op, ops)
		}
	}
	return 0, ""
}

// opOfFilter is the MCP operation a name filter of step.mcp implies.
func opOfFilter(key string) string {
	switch key {
	case "tool":
		return MCPOpToolsCall
	case "uri":
		return MCPOpResourcesRead
	case "prompt":
		return MCPOpPromptsGet
	}
	return ""
}

// filterOffset is where the value of the filter key starts in text, for
// error columns; 0 when it cannot be found.
func filterOffset(text, key string) int {
	open := strings.IndexByte(text, '{')
	if open < 0 {
		return 0
	}
	for i := open; i < len(text); {
		j := strings.Index(text[i:], key)
		if j < 0 {
			return 0
		}
		i += j + len(key)
		rest := strings.TrimLeft(text[i:], " \t")
		if prev := text[i-len(key)-1]; (prev == '{' || prev == ',' || prev == ' ' || prev == '\t') && strings.HasPrefix(rest, "=") {
			k := len(text) - len(rest) + 1
			for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
				k++
			}
			return k
		}
	}
	return 0
}
