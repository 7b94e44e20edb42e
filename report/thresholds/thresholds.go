// Package thresholds judges a run against its scenario's thresholds, the
// CI gates: each expression is measured on the summary and passes or
// fails, and a metric that cannot be measured fails. Judge gives a run's
// verdict against what its policy expects.
package thresholds

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

// Evaluate checks each threshold expression against s, in order.
//
// A metric with no value (no ok conversations for a latency, no key that
// matches a filter, no cost section yet) fails, with a note that says why:
// a gate that cannot be measured never passes silently.
//
// When a latency metric matches several keys (step.model without a filter
// takes every model key; {provider=p} takes every model of p), nothing is
// merged: the threshold must hold for each key. For < and <= the value is
// the largest over the keys, for > and >= the smallest, and for == and !=
// the first key that breaks it (else the first key), so that the value
// reported is the one that decides.
func Evaluate(s *summary.Summary, exprs []string) []summary.Threshold {
	out := make([]summary.Threshold, 0, len(exprs))
	for _, e := range exprs {
		out = append(out, evaluate(s, e))
	}
	return out
}

func evaluate(s *summary.Summary, expr string) summary.Threshold {
	t := summary.Threshold{Expr: expr}
	th, err := scenarios.ParseThreshold(expr)
	if err != nil {
		t.Note = "invalid expression: " + err.Error()
		return t
	}
	t.Limit = th.LimitText
	v, note, ok := measure(s, th)
	t.Note = note
	if !ok {
		t.Note = "no value: " + note
		return t
	}
	t.Value = v
	t.Measured = th.Format(v)
	t.Pass = th.Holds(v)
	return t
}

// measure finds the value of th's metric in s. note explains a missing
// value, or which key decided a latency over several.
func measure(s *summary.Summary, th *scenarios.ThresholdExpr) (v float64, note string, ok bool) {
	c := s.Conversations
	offered := c.Started + c.Dropped
	switch th.Metric {
	case "conversation":
		return stat(s.LatencyMS.Conversation, th.Stat, "no ok conversations were recorded")
	case "service":
		return stat(s.LatencyMS.Service, th.Stat, "no ok conversations were recorded")
	case "step.model", "step.tool", "attempt.model", "attempt.tool", "ttft.model", "step.mcp", "attempt.mcp",
		"first_tool_call.model", "tool_args_complete.model", "inter_token.model", "tpot.model":
		return keyed(s, th)
	case "output_tokens_per_s":
		return outputRate(s, th)
	case "success_rate":
		if offered == 0 {
			return 0, "no conversations were offered", false
		}
		return c.SuccessRate, "", true
	case "error_rate":
		if offered == 0 {
			return 0, "no conversations were offered", false
		}
		return summary.Round3(100 * float64(c.Failed+c.Dropped) / float64(offered)), "", true
	case "goodput":
		return goodput(s)
	case "started":
		return float64(c.Started), "", true
	case "ok":
		return float64(c.OK), "", true
	case "failed":
		return float64(c.Failed), "", true
	case "dropped":
		return float64(c.Dropped), "", true
	case "retries":
		return float64(s.Attempts.Retries), "", true
	case "fallbacks":
		return float64(s.Attempts.Fallbacks), "", true
	case "invalid_tool_args":
		return float64(s.InvalidToolArgs), "", true
	case "tokens.prompt":
		return float64(s.Tokens.Prompt), "", true
	case "tokens.completion":
		return float64(s.Tokens.Completion), "", true
	case "tokens.cached":
		return float64(s.Tokens.Cached), "", true
	case "retry_amplification":
		if s.Attempts.Steps == 0 && s.Attempts.Amplification == 0 {
			return 0, "no steps were recorded", false
		}
		return s.Attempts.Amplification, "", true
	case "rate.target":
		return s.Rate.Target, "", true
	case "rate.achieved":
		return s.Rate.Achieved, "", true
	case "rate.throughput":
		return s.Rate.Throughput, "", true
	case "cost.total_usd", "cost.per_conversation_usd", "cost.per_successful_conversation_usd":
		return costMetric(s, th.Metric)
	case "availability.model":
		a, note, ok := Availability(s, th.Filters)
		if !ok {
			return 0, note, false
		}
		return summary.Round3(100 * float64(a.Answered) / float64(a.Total())), note, true
	case "cost.saving":
		if s.Cost == nil || s.Cost.Baseline == nil {
			return 0, "the scenario names no baseline catalog (cost.baseline) to compare the run's prices with", false
		}
		return s.Cost.Baseline.SavingPercent, "", true
	}
	return 0, fmt.Sprintf("%s is not measured by this version", th.Metric), false
}

// goodput is the share of offered conversations that succeeded within the
// client's timeout, from the resilience analysis. A summary without it (one
// decoded from summary.json of a run with no resilience section) falls back
// to the share of offered conversations that succeeded, the same figure
// without the timeout.
func goodput(s *summary.Summary) (float64, string, bool) {
	switch {
	case s.Resilience != nil:
		return s.Resilience.Goodput.Share, "", true
	case s.Analyzed() != nil:
		return s.Analyzed().Goodput.Share, "", true
	case s.Conversations.Started+s.Conversations.Dropped > 0:
		return s.Conversations.SuccessRate, "no goodput analysis: the success rate stands in", true
	}
	return 0, "no conversations were offered", false
}

// costMetric reads a cost metric from the cost section. The per-conversation
// figures are recomputed from the total so that a summary decoded from an
// older summary.json, which held only total_usd, still judges.
func costMetric(s *summary.Summary, metric string) (float64, string, bool) {
	if s.Cost == nil {
		return 0, "the run has no cost section (no pricing catalog priced it)", false
	}
	note := ""
	if !s.Cost.Complete && len(s.Cost.ByModel) > 0 {
		note = "covers priced models only: " + strings.Join(s.Cost.Notes, "; ")
	}
	c := s.Conversations
	switch metric {
	case "cost.per_conversation_usd":
		if c.Started == 0 {
			return 0, "no conversations were started", false
		}
		return s.Cost.TotalUSD / float64(c.Started), note, true
	case "cost.per_successful_conversation_usd":
		if c.OK == 0 {
			return 0, "no conversation succeeded", false
		}
		return s.Cost.TotalUSD / float64(c.OK), note, true
	}
	return s.Cost.TotalUSD, note, true
}

// stat reads one statistic of st, or says why it cannot.
func stat(st *summary.Stats, name, missing string) (float64, string, bool) {
	if st == nil {
		return 0, missing, false
	}
	if v, ok := st.Value(name); ok {
		return v, "", true
	}
	return 0, fmt.Sprintf("unknown statistic %q", name), false
}

// keyed evaluates a per-key latency level over the keys that match th's
// metric and filters (see Evaluate for the rule).
func keyed(s *summary.Summary, th *scenarios.ThresholdExpr) (float64, string, bool) {
	level, kind, _ := strings.Cut(th.Metric, ".")
	var m map[string]*summary.Stats
	switch level {
	case "step":
		m = s.LatencyMS.Step
	case "attempt":
		m = s.LatencyMS.Attempt
	case "ttft":
		m = s.LatencyMS.TTFT
	case "first_tool_call":
		m = s.LatencyMS.FirstToolCall
	case "tool_args_complete":
		m = s.LatencyMS.ToolArgsComplete
	case "inter_token":
		m = s.LatencyMS.InterToken
	case "tpot":
		m = s.LatencyMS.TPOT
	}
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != nil && KeyMatches(k, kind, th.Filters) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		what := th.Metric
		if len(th.Filters) > 0 {
			what += FilterText(th.Filters)
		}
		return 0, fmt.Sprintf("no ok %s latencies match %s", level, what), false
	}
	return deciding(th, keys, func(k string) float64 {
		v, _, _ := stat(m[k], th.Stat, "")
		return v
	})
}

// deciding returns, of the values of keys, the one that decides th (see
// Evaluate for the rule), and a note naming its key when there
// are several.
func deciding(th *scenarios.ThresholdExpr, keys []string, value func(string) float64) (float64, string, bool) {
	best, bestKey := 0.0, ""
	for i, k := range keys {
		v := value(k)
		var better bool
		switch th.Op {
		case "<", "<=":
			better = v > best
		case ">", ">=":
			better = v < best
		default: // == and !=: the first key that breaks it
			better = bestKey == "" || th.Holds(best) && !th.Holds(v)
		}
		if i == 0 || better {
			best, bestKey = v, k
		}
	}
	note := ""
	if len(keys) > 1 {
		note = fmt.Sprintf("%s of %d keys", bestKey, len(keys))
	}
	return best, note, true
}

// outputRate evaluates output_tokens_per_s over the streaming keys that
// match th's filters, with the rule of keyed: each key must hold, and the
// value reported is the one that decides.
func outputRate(s *summary.Summary, th *scenarios.ThresholdExpr) (float64, string, bool) {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(s.Streaming)) {
		if s.Streaming[k] != nil && KeyMatches(k, "model", th.Filters) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		what := th.Metric
		if len(th.Filters) > 0 {
			what += FilterText(th.Filters)
		}
		return 0, "no ok stream with two output events and two completion tokens matches " + what, false
	}
	return deciding(th, keys, func(k string) float64 { return s.Streaming[k].OutputTokensPerS })
}

// KeyMatches reports whether the histogram key k ("model:PROVIDER",
// "model:PROVIDER/MODEL", "tool:NAME") is of kind ("model", "tool") and
// passes every filter. A model filter matches attempt keys only: step keys
// name the provider alone.
func KeyMatches(k, kind string, filters []scenarios.TagFilter) bool {
	if kind == "mcp" {
		return mcpKeyMatches(k, filters)
	}
	rest, ok := strings.CutPrefix(k, kind+":")
	if !ok {
		return false
	}
	provider, model, _ := strings.Cut(rest, "/")
	for _, f := range filters {
		var got string
		switch f.Key {
		case "provider":
			got = provider
		case "model":
			got = model
		case "tool":
			got = rest
		}
		if got != f.Value {
			return false
		}
	}
	return true
}

// mcpKeyMatches reports whether k is the key of an MCP-direct operation
// (see record.ToolKey, ToolsListKey, ResourceKey, PromptKey, and the
// handshake's mcp:SERVER/initialize) that passes every filter of step.mcp
// or attempt.mcp: op, and the tool, uri or prompt it names.
func mcpKeyMatches(k string, filters []scenarios.TagFilter) bool {
	op, name := mcpKeyOp(k)
	if op == "" {
		return false
	}
	for _, f := range filters {
		want := ""
		switch f.Key {
		case "op":
			if op != f.Value {
				return false
			}
			continue
		case "tool":
			want = scenarios.MCPOpToolsCall
		case "uri":
			want = scenarios.MCPOpResourcesRead
		case "prompt":
			want = scenarios.MCPOpPromptsGet
		}
		if op != want || name != f.Value {
			return false
		}
	}
	return true
}

// mcpKeyOp splits an MCP-direct histogram key into its operation and the
// tool, resource, prompt or server it names; op is "" for other keys.
func mcpKeyOp(k string) (op, name string) {
	kind, rest, _ := strings.Cut(k, ":")
	switch kind {
	case record.StepTool:
		return scenarios.MCPOpToolsCall, rest
	case "resource":
		return scenarios.MCPOpResourcesRead, rest
	case "prompt":
		return scenarios.MCPOpPromptsGet, rest
	case "mcp":
		server, method, _ := strings.Cut(rest, "/")
		if method == "initialized" {
			return "", "" // a notification, not an operation
		}
		return method, server
	}
	return "", ""
}

// FilterText writes filters as an expression does: {provider=p,model=m}.
func FilterText(fs []scenarios.TagFilter) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Key + "=" + f.Value
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Failed returns the thresholds that did not pass.
func Failed(ts []summary.Threshold) []summary.Threshold {
	var out []summary.Threshold
	for _, t := range ts {
		if !t.Pass {
			out = append(out, t)
		}
	}
	return out
}
