package scenarios

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func ms(n int) Duration { return Duration(time.Duration(n) * time.Millisecond) }

func TestClientDefaults(t *testing.T) {
	s := mustParse(t, resilient)

	// The client says article, the policy the alias seed: both resolve
	// to article.
	seed := Retry{
		Preset: RetryPresetArticle, MaxAttempts: 3, Backoff: BackoffExponential,
		Initial: ms(1000), Max: ms(4000), Multiplier: 2, Jitter: JitterNone,
		On: []string{"timeout", "connection", "429"}, RetryAfter: ptr(false),
		ProgressiveTimeout: 0.5, RateLimitWait: ms(60000),
	}
	if got := s.Client.Retry; !reflect.DeepEqual(got, &seed) {
		t.Errorf("client.retry {preset: article} = %+v\nwant %+v", got, seed)
	}
	if got := s.Policies[0].Client.Retry; !reflect.DeepEqual(got, &seed) {
		t.Errorf("policies[0].client.retry = %+v\nwant %+v", got, seed)
	}

	// Fields beside a preset win; the preset fills the rest.
	naive := Retry{
		Preset: RetryPresetNaive, MaxAttempts: 5, Backoff: BackoffConstant,
		Initial: ms(10), Max: ms(30000), Multiplier: 2, Jitter: JitterNone,
		On: []string{"timeout"}, RetryAfter: ptr(false),
	}
	p1 := s.Policies[1].Client
	if !reflect.DeepEqual(p1.Retry, &naive) {
		t.Errorf("policies[1].client.retry = %+v\nwant %+v", p1.Retry, naive)
	}
	// A policy's client replaces the scenario's whole, so it has its own
	// default timeout, and none of the scenario's policies.
	if p1.Timeout.D() != 30*time.Second || p1.Budget != nil || p1.Breaker != nil || p1.Fallback != nil || p1.Hedge != nil || p1.Cache != nil {
		t.Errorf("policies[1].client = %+v, want timeout 30s and only a retry", p1)
	}

	p2 := s.Policies[2].Client
	checks := []struct {
		name      string
		got, want any
	}{
		{"retry", *p2.Retry, Retry{
			MaxAttempts: 3, Backoff: BackoffExponential, Initial: ms(500), Max: ms(30000), Multiplier: 2,
			Jitter: JitterFull, On: []string{"timeout", "429", "5xx", "connection"}, RetryAfter: ptr(true),
		}},
		{"budget", *p2.Budget, Budget{Ratio: 0.1, MinRetries: 1, Window: ms(10000)}},
		{"breaker", *p2.Breaker, Breaker{
			FailureRate: 0.5, Window: ms(10000), MinRequests: 20, Cooldown: ms(5000), Probes: 3,
			On: []string{"timeout", "429", "5xx", "connection"},
		}},
		{"fallback", p2.Fallback, []FallbackStep{{Provider: "secondary",
			On: []string{"timeout", "429", "5xx", "connection", "breaker_open", "budget_exhausted"}}}},
		{"hedge", *p2.Hedge, Hedge{Delay: ms(2000), MaxHedges: 1}},
		{"cache", *p2.Cache, Cache{TTL: ms(300000), MaxEntries: 10000}},
		{"timeouts", []Duration{p2.Timeout, p2.ConversationTimeout, p2.Stream.TTFT, p2.Stream.Idle, p2.Stream.Total},
			[]Duration{ms(10000), ms(60000), ms(5000), ms(2000), ms(60000)}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("policies[2].client.%s = %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
}

func TestRetryPresetOverrides(t *testing.T) {
	s := mustParse(t, edit(t, afterBase("  retry: {preset: seed, max_attempts: 4, jitter: full, retry_after: true, on: [timeout, 5xx], rate_limit_wait: 1s}\n")...))
	want := Retry{
		Preset: RetryPresetArticle, MaxAttempts: 4, Backoff: BackoffExponential,
		Initial: ms(1000), Max: ms(4000), Multiplier: 2, Jitter: JitterFull,
		On: []string{"timeout", "5xx"}, RetryAfter: ptr(true),
		ProgressiveTimeout: 0.5, RateLimitWait: ms(1000),
	}
	if !reflect.DeepEqual(s.Client.Retry, &want) {
		t.Errorf("retry = %+v\nwant %+v", s.Client.Retry, want)
	}
	// retry_after: false is kept, not mistaken for "absent".
	s = mustParse(t, edit(t, afterBase("  retry: {retry_after: false}\n")...))
	if r := s.Client.Retry; r.RetryAfter == nil || *r.RetryAfter || r.MaxAttempts != 3 {
		t.Errorf("retry {retry_after: false} = %+v", r)
	}
	// No retry section: no retries, and nothing else switched on.
	s = mustParse(t, base)
	if c := s.Client; c.Retry != nil || c.Budget != nil || c.Breaker != nil || c.Fallback != nil || c.Hedge != nil || c.Cache != nil {
		t.Errorf("client without policies = %+v", c)
	}
	// RetryPreset hands out copies: changing one does not change the next.
	r, _ := RetryPreset(RetryPresetSeed)
	r.On[0] = "4xx"
	if again, _ := RetryPreset(RetryPresetSeed); again.On[0] != OnTimeout {
		t.Errorf("RetryPreset shares its On slice")
	}
	if _, ok := RetryPreset("nope"); ok {
		t.Errorf("RetryPreset(nope) ok")
	}
}

func TestFaultDefaults(t *testing.T) {
	s := mustParse(t, resilient)
	type got struct {
		name        string
		probability float64
		afterChunks int
		code        int
	}
	wants := []got{
		{"latency@provider:primary", 1, 0, 0},
		{"rate_limit@model:claude-x", 0.25, 0, 0},
		{"jsonrpc_error@tool:get_weather", 1, 0, -32603},
		{"cut", 1, 1, 0},
		{"http_error@provider:primary", 0, 0, 0}, // probability 0 written is kept
	}
	for i, w := range wants {
		f := s.Faults[i]
		if g := (got{f.Name, *f.Probability, f.AfterChunks, f.Code}); g != w {
			t.Errorf("faults[%d] = %+v, want %+v", i, g, w)
		}
	}
	if f := s.Faults[0]; f.From.D() != 5*time.Second || f.For.D() != 10*time.Second || f.Latency != (Latency{Dist: DistFixed, Value: ms(45000)}) {
		t.Errorf("faults[0] = %+v", f)
	}
	if l := s.Providers["primary"].Mock.Limits; l == nil || *l != (Limits{RPM: 600, TPM: 100000}) {
		t.Errorf("limits = %+v", l)
	}
}

// ApplyDefaults twice is ApplyDefaults once, so a resolved scenario reads
// back the same.
func TestApplyDefaultsIdempotent(t *testing.T) {
	s := mustParse(t, resilient)
	before, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	s.ApplyDefaults()
	after, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("ApplyDefaults changed a defaulted scenario:\n%s\nvs\n%s", before, after)
	}
	// The resolved scenario keeps the preset beside its expansion.
	if !strings.Contains(string(before), "preset: article\n") || !strings.Contains(string(before), "rate_limit_wait: 1m0s") {
		t.Errorf("resolved retry does not show the preset and its values:\n%s", before)
	}
}

// TestForPolicy: a policy's run takes the policy's provider and client and
// nothing else, and the scenario it came from is left as it was.
func TestForPolicy(t *testing.T) {
	s := mustParse(t, resilient)
	s.Providers["other"] = &Provider{API: APIAnthropic, BaseURL: MockURL, Model: "claude-sonnet-4-5"}
	conv, client := s.Conversation.Provider, s.Client

	keep := s.ForPolicy(&Policy{Name: "k", Provider: "other"})
	if keep.Conversation.Provider != "other" || !reflect.DeepEqual(keep.Client, client) || keep.Policies != nil {
		t.Errorf("provider-only policy: provider %q, client changed %v, policies %v", keep.Conversation.Provider, !reflect.DeepEqual(keep.Client, client), keep.Policies)
	}
	if !reflect.DeepEqual(keep.Conversation.Turns, s.Conversation.Turns) || keep.Seed != s.Seed || !reflect.DeepEqual(keep.Load, s.Load) {
		t.Error("provider-only policy changed the conversation script, seed or load")
	}

	own := s.Policies[1]
	swap := s.ForPolicy(&own)
	if swap.Conversation.Provider != conv || !reflect.DeepEqual(swap.Client, *own.Client) {
		t.Errorf("client-only policy: provider %q, client %+v", swap.Conversation.Provider, swap.Client)
	}
	if s.Conversation.Provider != conv || !reflect.DeepEqual(s.Client, client) || len(s.Policies) == 0 {
		t.Error("ForPolicy changed the scenario it was given")
	}
}

// TestClientLimitsDefaults: client.limits left out, or in part, takes the
// defaults, in the scenario's client and in a policy's.
func TestClientLimitsDefaults(t *testing.T) {
	s := mustParse(t, resilient)
	want := ClientLimits{MaxToolCalls: 128, MaxResponseBytes: 32 << 20, MaxMCPInFlightPerConversation: 16, MaxMCPInFlight: 4096}
	if s.Client.Limits != want {
		t.Errorf("client.limits = %+v, want %+v", s.Client.Limits, want)
	}
	if got := s.Policies[0].Client.Limits; got != want {
		t.Errorf("policies[0].client.limits = %+v, want %+v", got, want)
	}
	s = mustParse(t, strings.Replace(resilient, "client:\n", "client:\n  limits: {max_tool_calls: 8}\n", 1))
	want.MaxToolCalls = 8
	if s.Client.Limits != want {
		t.Errorf("client.limits {max_tool_calls: 8} = %+v, want %+v", s.Client.Limits, want)
	}
}
