package scenarios

import (
	"strings"
	"testing"
	"time"
)

// afterBase appends body after base's last line (38), so that the body's
// first line is line 39. Lines starting with two spaces continue client.
func afterBase(body string, more ...string) []string {
	return append([]string{"  timeout: 5s\n", "  timeout: 5s\n" + body}, more...)
}

// secondProvider adds provider q (model m2) on line 9, moving every later
// line down by one: afterBase's body then starts on line 40.
var secondProvider = []string{"mcp_servers:", "  q: {base_url: mock, model: m2}\nmcp_servers:"}

func TestClientValidationErrors(t *testing.T) {
	// mcpDirect swaps the 10-line conversation for a 2-line mcp_direct, so
	// afterBase's body starts on line 31.
	mcpDirect := []string{conversationBlock, "mcp_direct:\n  mix: [{tool: search_docs}]\n"}
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"retry max_attempts low", afterBase("  retry: {max_attempts: -1}\n"),
			[]want{{"39:25", "client.retry.max_attempts", "must be from 1 to 100 (it counts the first attempt; 1 means no retry), got -1"}}},
		{"retry max_attempts high", afterBase("  retry: {max_attempts: 101}\n"),
			[]want{{"39:25", "client.retry.max_attempts", "must be from 1 to 100"}}},
		{"retry backoff", afterBase("  retry: {backoff: linear}\n"),
			[]want{{"39:20", "client.retry.backoff", `expected "constant", "exponential" or "decorrelated", got "linear"`}}},
		{"retry jitter", afterBase("  retry: {jitter: half}\n"),
			[]want{{"39:19", "client.retry.jitter", `expected "none", "full" or "equal", got "half"`}}},
		{"retry initial > max", afterBase("  retry: {initial: 2s, max: 1s}\n"),
			[]want{{"39:29", "client.retry.max", "max 1s is less than initial 2s"}}},
		{"retry initial > default max", afterBase("  retry: {initial: 1m}\n"),
			[]want{{"39:20", "client.retry.initial", "initial 1m0s is more than max 30s (the default); lower initial or set max"}}},
		{"retry initial > preset max", afterBase("  retry: {preset: seed, initial: 5s}\n"),
			[]want{{"39:34", "client.retry.initial", "initial 5s is more than max 4s (preset article's); lower initial or set max"}}},
		{"retry multiplier", afterBase("  retry: {multiplier: 0.5}\n"),
			[]want{{"39:23", "client.retry.multiplier", "must be at least 1 (waits must not shrink), got 0.5"}}},
		{"retry on", afterBase("  retry: {on: [timeout, 503, timeout]}\n"),
			[]want{
				{"39:25", "client.retry.on[1]", `unknown outcome "503"; did you mean "5xx"?`},
				{"39:30", "client.retry.on[2]", `"timeout" is listed twice`},
			}},
		{"retry on breaker_open", afterBase("  retry: {on: [breaker_open]}\n"),
			[]want{{"39:16", "client.retry.on[0]", `unknown outcome "breaker_open"; expected one of: timeout, 429, 5xx, 4xx, connection, protocol, redirect, bad_usage`}}},
		{"follow_redirects negative", afterBase("  follow_redirects: -1\n"),
			[]want{{"39:21", "client.follow_redirects", "must be from 0 to 10 (0 follows none), got -1"}}},
		{"follow_redirects high", afterBase("  follow_redirects: 11\n"),
			[]want{{"39:21", "client.follow_redirects", "must be from 0 to 10 (0 follows none), got 11"}}},
		{"retry preset", afterBase("  retry: {preset: aggressive}\n"),
			[]want{{"39:19", "client.retry.preset", `unknown retry preset "aggressive"; presets: article, naive`}}},
		{"retry progressive_timeout", afterBase("  retry: {progressive_timeout: -0.5}\n"),
			[]want{{"39:32", "client.retry.progressive_timeout", "must not be negative"}}},
		{"limits", afterBase("  limits:\n    max_tool_calls: -1\n    max_response_bytes: 2147483648\n    max_mcp_in_flight_per_conversation: -5\n    max_mcp_in_flight: 2000000\n"),
			[]want{
				{"40:21", "client.limits.max_tool_calls", "must be from 1 to 4096, got -1"},
				{"41:25", "client.limits.max_response_bytes", "must be from 1 to 1073741824, got 2147483648"},
				{"42:41", "client.limits.max_mcp_in_flight_per_conversation", "must be from 1 to 1048576, got -5"},
				{"43:24", "client.limits.max_mcp_in_flight", "must be from 1 to 1048576, got 2000000"},
			}},
		{"limits in a policy", afterBase("policies:\n  - {name: a, client: {limits: {max_tool_calls: 5000}}}\n"),
			[]want{{"40:49", "policies[0].client.limits.max_tool_calls", "must be from 1 to 4096, got 5000"}}},
		{"budget ratio missing", afterBase("  budget: {window: 5s}\n"),
			[]want{{"39:11", "client.budget.ratio", "missing; give the share of requests that may be retried"}}},
		{"budget ratio high", afterBase("  budget: {ratio: 1.5}\n"),
			[]want{{"39:19", "client.budget.ratio", "must be more than 0 and at most 1 (0.1 lets retries add 10% to requests), got 1.5"}}},
		{"budget ratio 0", afterBase("  budget: {ratio: 0}\n"),
			[]want{{"39:19", "client.budget.ratio", "must be more than 0 and at most 1"}}},
		{"budget min_retries_per_second", afterBase("  budget: {ratio: 0.1, min_retries_per_second: -1}\n"),
			[]want{{"39:48", "client.budget.min_retries_per_second", "must not be negative, got -1"}}},
		{"breaker failure_rate missing", afterBase("  breaker: {cooldown: 1s}\n"),
			[]want{{"39:12", "client.breaker.failure_rate", "missing; give the failure rate that opens the breaker"}}},
		{"breaker fields", afterBase("  breaker: {failure_rate: 2, min_requests: -1, probes: -2, on: [breaker_open]}\n"),
			[]want{
				{"39:27", "client.breaker.failure_rate", "must be more than 0 and at most 1 (0.5 opens the breaker at 50% failures), got 2"},
				{"39:44", "client.breaker.min_requests", "must be at least 1, got -1"},
				{"39:56", "client.breaker.probes", "must be at least 1, got -2"},
				{"39:65", "client.breaker.on[0]", `unknown outcome "breaker_open"`},
			}},
		{"fallback", afterBase("  fallback:\n    - {on: [timeout]}\n    - {provider: nope}\n    - {provider: p}\n    - {provider: q, on: [budget_exhausted, 5xxx]}\n    - {provider: q}\n", secondProvider...),
			[]want{
				{"41:7", "client.fallback[0].provider", "missing; name the providers entry to fall back to (defined: p, q)"},
				{"42:18", "client.fallback[1].provider", `provider "nope" is not defined in providers (defined: p, q)`},
				{"43:18", "client.fallback[2].provider", `provider "p" plays the model already; a fallback step goes to another provider`},
				{"44:44", "client.fallback[3].on[1]", `unknown outcome "5xxx"; did you mean "5xx"?`},
				{"45:18", "client.fallback[4].provider", `provider "q" is already client.fallback[3]`},
			}},
		{"hedge delay missing", afterBase("  hedge: {max_hedges: 6}\n"),
			[]want{
				{"39:10", "client.hedge.delay", "missing; give how long to wait before hedging"},
				{"39:23", "client.hedge.max_hedges", "must be from 1 to 5, got 6"},
			}},
		{"hedge delay 0", afterBase("  hedge: {delay: 0s}\n"),
			[]want{{"39:18", "client.hedge.delay", "must be greater than 0"}}},
		{"cache ttl missing", afterBase("  cache: {max_entries: -1}\n"),
			[]want{
				{"39:10", "client.cache.ttl", "missing; give how long an answer is kept"},
				{"39:24", "client.cache.max_entries", "must be at least 1, got -1"},
			}},
		{"cache ttl 0", afterBase("  cache: {ttl: 0s}\n"),
			[]want{{"39:16", "client.cache.ttl", "must be greater than 0"}}},
		{"mcp_direct", append(mcpDirect, afterBase("  breaker: {failure_rate: 0.5}\n  fallback: [{provider: p}]\n  cache: {ttl: 1m}\n  hedge: {delay: 1s}\npolicies:\n  - {name: a, client: {fallback: [{provider: p}]}}\n")...),
			[]want{
				{"31:12", "client.breaker", "does not apply to an mcp_direct scenario, which calls no model provider"},
				{"32:13", "client.fallback", "does not apply to an mcp_direct scenario"},
				{"33:10", "client.cache", "does not apply to an mcp_direct scenario"},
				{"36:34", "policies[0].client.fallback", "does not apply to an mcp_direct scenario"},
			}},
		{"policies empty", afterBase("policies: []\n"),
			[]want{{"39:11", "policies", "an empty list; list at least one policy to compare, or leave policies out"}}},
		{"policies", afterBase("policies:\n  - client: {timeout: 1s}\n  - name: a/b\n  - name: Seed\n  - name: seed\n    client:\n      retry: {backoff: linear}\n"),
			[]want{
				{"40:5", "policies[0].name", "missing; every policy needs a name"},
				{"41:5", "policies[1]", `policy "a/b" sets none of provider, client, cost and claims`},
				{"41:11", "policies[1].name", `"a/b" cannot name a run folder`},
				{"42:5", "policies[2]", `policy "Seed" sets none of provider, client, cost and claims`},
				{"43:11", "policies[3].name", `policy "seed" is named twice (also policies[2]); names become folder names, and case does not tell them apart`},
				{"45:24", "policies[3].client.retry.backoff", `expected "constant", "exponential" or "decorrelated", got "linear"`},
			}},
		{"policy fallback", afterBase("policies:\n  - name: a\n    client:\n      fallback: [{provider: p}]\n", secondProvider...),
			[]want{{"43:29", "policies[0].client.fallback[0].provider", `provider "p" plays the model already`}}},
		{"policy provider", afterBase("policies:\n  - {name: a, provider: nope}\n  - {name: b, provider: q, client: {fallback: [{provider: q}]}}\n  - {name: c, provider: q, client: {fallback: [{provider: p}]}}\n", secondProvider...),
			[]want{
				{"41:25", "policies[0].provider", `provider "nope" is not defined in providers (defined: p, q)`},
				{"42:59", "policies[1].client.fallback[0].provider", `provider "q" plays the model already`},
			}},
		{"policy provider is the kept client's fallback", afterBase("  fallback: [{provider: q}]\npolicies:\n  - {name: a, provider: q}\n", secondProvider...),
			[]want{{"42:25", "policies[0].provider", `provider "q" is client.fallback[0] of the scenario's client, which this policy keeps`}}},
		{"policy cost and claims", afterBase("policies:\n  - name: a\n    cost: {monthly: {conversations: 1M, tokens: 1M}}\n    claims: [{name: fast, expect: conversation.max < 1s}]\n"),
			[]want{
				{"41:21", "policies[0].cost.monthly", "give conversations or tokens, not both"},
				{"42:35", "policies[0].claims[0].expect", "a claim about latency tests one of"},
			}},
		{"policy provider in mcp_direct", append(mcpDirect, afterBase("policies:\n  - {name: a, provider: p}\n")...),
			[]want{{"32:25", "policies[0].provider", "an mcp_direct scenario has no model to play"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

// What YAML cannot say (negative durations, zeros that the defaults
// replace) can still be built in Go, and Validate catches it.
func TestClientValidateInGo(t *testing.T) {
	s := mustParse(t, resilient)
	c := s.Policies[2].Client
	c.ConversationTimeout = Duration(-time.Second)
	c.Stream.Idle = Duration(-time.Second)
	c.Budget.Window = 0
	c.Breaker.Cooldown = 0
	c.Breaker.Window = 0
	c.Retry.RateLimitWait = Duration(-time.Second)
	c.Retry.Initial = Duration(-time.Second)
	s.Faults[0].From = Duration(-time.Second)
	s.Faults[1].RetryAfter = Duration(-time.Second)
	s.Client.Timeout = 0
	got := s.Validate()
	if got == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, w := range []string{
		"client.timeout: must be greater than 0",
		"policies[2].client.conversation_timeout: must not be negative (0 means none)",
		"policies[2].client.stream.idle: must not be negative (0 means none)",
		"policies[2].client.retry.initial: must not be negative",
		"policies[2].client.retry.rate_limit_wait: must not be negative",
		"policies[2].client.budget.window: must be greater than 0",
		"policies[2].client.breaker.window: must be greater than 0",
		"policies[2].client.breaker.cooldown: must be greater than 0",
		"faults[0].from: must not be negative",
		"faults[1].retry_after: must not be negative",
	} {
		if !strings.Contains(got.Error(), "t.yaml: "+w+"\n") && !strings.HasSuffix(got.Error(), "t.yaml: "+w) {
			t.Errorf("Validate() errors:\n%v\nwant a line %q", got, w)
		}
	}
	if n := len(got.(Errors)); n != 10 {
		t.Errorf("Validate() gave %d errors, want 10:\n%v", n, got)
	}
}
