package scenarios

import (
	"slices"
	"strings"
)

// Bounds of the client policies.
const (
	MaxRetryAttempts = 100
	MaxHedges        = 5
	// MaxFollowRedirects bounds client.follow_redirects: a redirect loop
	// costs an attempt per hop.
	MaxFollowRedirects = 10
)

// attemptOutcomes are the outcome classes a retry or a breaker can act on.
func attemptOutcomes() []string {
	return []string{OnTimeout, On429, On5xx, On4xx, OnConnection, OnProtocol, OnRedirect, OnBadUsage}
}

// fallbackOutcomes are those a fallback step can act on: a failed attempt's,
// or a refusal by the breaker or the retry budget.
func fallbackOutcomes() []string {
	return append(attemptOutcomes(), OnBreakerOpen, OnBudgetExhausted)
}

// present reports whether path was written in the YAML, as opposed to
// filled in by a default (or built in Go).
func (v *validator) present(path string) bool {
	_, ok := v.nodes[path]
	return ok
}

// client checks one client: the scenario's, or a policy's (path says
// which).
func (v *validator) client(s *Scenario, path string, c *Client, primary string) {
	v.recordHeaders(field(path, "record_headers"), c.RecordHeaders, 0)
	if c.Timeout <= 0 {
		v.errorf(field(path, "timeout"), "must be greater than 0")
	}
	if c.FollowRedirects < 0 || c.FollowRedirects > MaxFollowRedirects {
		v.errorf(field(path, "follow_redirects"), "must be from 0 to %d (0 follows none), got %d", MaxFollowRedirects, c.FollowRedirects)
	}
	if c.ConversationTimeout < 0 {
		v.errorf(field(path, "conversation_timeout"), "must not be negative (0 means none)")
	}
	for _, t := range []struct {
		name string
		d    Duration
	}{{"ttft", c.Stream.TTFT}, {"idle", c.Stream.Idle}, {"total", c.Stream.Total}} {
		if t.d < 0 {
			v.errorf(field(path, "stream."+t.name), "must not be negative (0 means none)")
		}
	}
	v.clientLimits(field(path, "limits"), &c.Limits)
	v.clientHTTP(path, c)
	if c.Retry != nil {
		v.retry(field(path, "retry"), c.Retry)
	}
	if c.Budget != nil {
		v.budget(field(path, "budget"), c.Budget)
	}
	if s.Kind() == KindMCPDirect {
		// These act on the model provider, which an MCP-direct scenario
		// does not call.
		const why = "does not apply to an mcp_direct scenario, which calls no model provider"
		if c.Breaker != nil {
			v.errorf(field(path, "breaker"), "%s", why)
		}
		if len(c.Fallback) > 0 {
			v.errorf(field(path, "fallback"), "%s", why)
		}
		if c.Cache != nil {
			v.errorf(field(path, "cache"), "%s", why)
		}
	} else {
		if c.Breaker != nil {
			v.breaker(field(path, "breaker"), c.Breaker)
		}
		v.fallback(s, field(path, "fallback"), c.Fallback, primary)
		if c.Cache != nil {
			v.cache(field(path, "cache"), c.Cache)
		}
	}
	if c.Hedge != nil {
		v.hedge(field(path, "hedge"), c.Hedge)
	}
}

func (v *validator) retry(path string, r *Retry) {
	if r.Preset != "" {
		if _, ok := RetryPreset(r.Preset); !ok {
			v.errorf(field(path, "preset"), "unknown retry preset %q; presets: %s", r.Preset, strings.Join(RetryPresets(), ", "))
		}
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > MaxRetryAttempts {
		v.errorf(field(path, "max_attempts"), "must be from 1 to %d (it counts the first attempt; 1 means no retry), got %d", MaxRetryAttempts, r.MaxAttempts)
	}
	switch r.Backoff {
	case BackoffConstant, BackoffExponential, BackoffDecorrelated:
	default:
		v.errorf(field(path, "backoff"), "expected %q, %q or %q, got %q", BackoffConstant, BackoffExponential, BackoffDecorrelated, r.Backoff)
	}
	switch r.Jitter {
	case JitterNone, JitterFull, JitterEqual:
	default:
		v.errorf(field(path, "jitter"), "expected %q, %q or %q, got %q", JitterNone, JitterFull, JitterEqual, r.Jitter)
	}
	switch {
	case r.Initial < 0:
		v.errorf(field(path, "initial"), "must not be negative")
	case r.Max < 0:
		v.errorf(field(path, "max"), "must not be negative")
	case r.Max > 0 && r.Initial > r.Max:
		mp := field(path, "max")
		if v.present(mp) || v.nodes == nil {
			v.errorf(mp, "max %s is less than initial %s", r.Max.D(), r.Initial.D())
		} else {
			from := "the default"
			if _, ok := RetryPreset(r.Preset); ok && r.Preset != "" {
				from = "preset " + r.Preset + "'s"
			}
			v.errorf(field(path, "initial"), "initial %s is more than max %s (%s); lower initial or set max", r.Initial.D(), r.Max.D(), from)
		}
	}
	if !(r.Multiplier >= 1) || !finite(r.Multiplier) {
		v.errorf(field(path, "multiplier"), "must be at least 1 (waits must not shrink), got %v", r.Multiplier)
	}
	v.outcomes(field(path, "on"), r.On, attemptOutcomes())
	if !(r.ProgressiveTimeout >= 0) || !finite(r.ProgressiveTimeout) {
		v.errorf(field(path, "progressive_timeout"), "must not be negative (0 keeps client.timeout for every attempt), got %v", r.ProgressiveTimeout)
	}
	if r.RateLimitWait < 0 {
		v.errorf(field(path, "rate_limit_wait"), "must not be negative")
	}
}

func (v *validator) budget(path string, b *Budget) {
	rp := field(path, "ratio")
	switch {
	case b.Ratio == 0 && !v.present(rp):
		v.errorf(rp, "missing; give the share of requests that may be retried, such as 0.1 (10%%)")
	case !(b.Ratio > 0 && b.Ratio <= 1):
		v.errorf(rp, "must be more than 0 and at most 1 (0.1 lets retries add 10%% to requests), got %v", b.Ratio)
	}
	if !(b.MinRetries >= 0) || !finite(b.MinRetries) {
		v.errorf(field(path, "min_retries_per_second"), "must not be negative, got %v", b.MinRetries)
	}
	if b.Window <= 0 {
		v.errorf(field(path, "window"), "must be greater than 0")
	}
}

func (v *validator) breaker(path string, b *Breaker) {
	fp := field(path, "failure_rate")
	switch {
	case b.FailureRate == 0 && !v.present(fp):
		v.errorf(fp, "missing; give the failure rate that opens the breaker, such as 0.5 (50%%)")
	case !(b.FailureRate > 0 && b.FailureRate <= 1):
		v.errorf(fp, "must be more than 0 and at most 1 (0.5 opens the breaker at 50%% failures), got %v", b.FailureRate)
	}
	if b.Window <= 0 {
		v.errorf(field(path, "window"), "must be greater than 0")
	}
	if b.MinRequests < 1 {
		v.errorf(field(path, "min_requests"), "must be at least 1, got %d", b.MinRequests)
	}
	if b.Cooldown <= 0 {
		v.errorf(field(path, "cooldown"), "must be greater than 0")
	}
	if b.Probes < 1 {
		v.errorf(field(path, "probes"), "must be at least 1, got %d", b.Probes)
	}
	v.outcomes(field(path, "on"), b.On, attemptOutcomes())
}

// fallback checks client.fallback at path, whose run's model is played by
// primary ("" for MCP-direct).
func (v *validator) fallback(s *Scenario, path string, steps []FallbackStep, primary string) {
	first := map[string]int{}
	for i, st := range steps {
		sp := index(path, i)
		pp := field(sp, "provider")
		switch {
		case st.Provider == "":
			v.errorf(pp, "missing; name the providers entry to fall back to (defined: %s)", names(s.Providers))
		case s.Providers[st.Provider] == nil:
			v.errorf(pp, "provider %q is not defined in providers (defined: %s)", st.Provider, names(s.Providers))
		case st.Provider == primary:
			v.errorf(pp, "provider %q plays the model already; a fallback step goes to another provider", st.Provider)
		default:
			if j, dup := first[st.Provider]; dup {
				v.errorf(pp, "provider %q is already %s", st.Provider, index(path, j))
			} else {
				first[st.Provider] = i
			}
		}
		v.outcomes(field(sp, "on"), st.On, fallbackOutcomes())
	}
}

func (v *validator) hedge(path string, h *Hedge) {
	dp := field(path, "delay")
	switch {
	case h.Delay == 0 && !v.present(dp):
		v.errorf(dp, "missing; give how long to wait before hedging, such as the p95 latency")
	case h.Delay <= 0:
		v.errorf(dp, "must be greater than 0")
	}
	if h.MaxHedges < 1 || h.MaxHedges > MaxHedges {
		v.errorf(field(path, "max_hedges"), "must be from 1 to %d, got %d", MaxHedges, h.MaxHedges)
	}
}

func (v *validator) cache(path string, c *Cache) {
	tp := field(path, "ttl")
	switch {
	case c.TTL == 0 && !v.present(tp):
		v.errorf(tp, "missing; give how long an answer is kept, such as 5m")
	case c.TTL <= 0:
		v.errorf(tp, "must be greater than 0")
	}
	if c.MaxEntries < 1 {
		v.errorf(field(path, "max_entries"), "must be at least 1, got %d", c.MaxEntries)
	}
}

// outcomes checks an "on" list: known classes, each once.
func (v *validator) outcomes(path string, on []string, allowed []string) {
	for i, o := range on {
		p := index(path, i)
		switch {
		case !slices.Contains(allowed, o):
			v.errorf(p, "%s", unknownValue("outcome", o, allowed))
		case slices.Index(on, o) < i:
			v.errorf(p, "%q is listed twice", o)
		}
	}
}

func (v *validator) policies(s *Scenario) {
	if len(s.Policies) == 0 {
		if n, ok := v.nodes["policies"]; ok && !isNull(n) {
			v.errorf("policies", "an empty list; list at least one policy to compare, or leave policies out")
		}
		return
	}
	first := map[string]int{}
	for i := range s.Policies {
		p := &s.Policies[i]
		pp := index("policies", i)
		np := field(pp, "name")
		switch {
		case p.Name == "":
			v.errorf(np, "missing; every policy needs a name (letters, digits, '.', '_', '-'), which names its run folder")
		case !entryName.MatchString(p.Name):
			v.errorf(np, "%q cannot name a run folder: use up to 64 letters, digits, '.', '_' or '-'", p.Name)
		default:
			// Folder names: "Seed" and "seed" are one folder on macOS.
			key := strings.ToLower(p.Name)
			if j, dup := first[key]; dup {
				v.errorf(np, "policy %q is named twice (also policies[%d]); names become folder names, and case does not tell them apart", p.Name, j)
			} else {
				first[key] = i
			}
		}
		if p.Provider == "" && p.Client == nil && p.Cost == nil && p.Claims == nil {
			v.errorf(pp, "policy %q sets none of provider, client, cost and claims, so its run would repeat the scenario's; set one or more", p.Name)
		}
		v.costSection(field(pp, "cost"), p.Cost)
		v.claimList(field(pp, "claims"), p.Claims)
		primary := conversationProvider(s)
		if p.Provider != "" {
			primary = p.Provider
			v.policyProvider(s, i, p)
		}
		if p.Client != nil {
			v.client(s, field(pp, "client"), p.Client, primary)
		}
		v.policyGates(s, i, p)
	}
}

// policyGates checks policies[i]'s thresholds, judged on the policy's own
// run, and its expect.
func (v *validator) policyGates(s *Scenario, i int, p *Policy) {
	pp := index("policies", i)
	ps := s.ForPolicy(p)
	v.thresholdList(ps, field(pp, "thresholds"), p.Thresholds)
	switch p.Expect {
	case "", ExpectPass:
	case ExpectFail:
		if len(ps.Thresholds) == 0 {
			v.errorf(field(pp, "expect"), "expect: fail needs thresholds to fail: the policy has none (set thresholds on the policy or the scenario)")
		}
	default:
		v.errorf(field(pp, "expect"), "%s", unknownValue("expectation", p.Expect, []string{ExpectPass, ExpectFail}))
	}
}

// policyProvider checks policies[i].provider: a providers entry, in a
// conversation scenario, and not a fallback step of the client it runs
// with.
func (v *validator) policyProvider(s *Scenario, i int, p *Policy) {
	path := field(index("policies", i), "provider")
	switch {
	case s.Conversation == nil:
		v.errorf(path, "an mcp_direct scenario has no model to play; leave provider out")
	case s.Providers[p.Provider] == nil:
		v.errorf(path, "provider %q is not defined in providers (defined: %s)", p.Provider, names(s.Providers))
	case p.Client == nil:
		for j, st := range s.Client.Fallback {
			if st.Provider == p.Provider {
				v.errorf(path, "provider %q is client.fallback[%d] of the scenario's client, which this policy keeps; give the policy a client of its own, or another provider", p.Provider, j)
			}
		}
	}
}

// conversationProvider is the provider that plays the model, "" for an
// MCP-direct scenario.
func conversationProvider(s *Scenario) string {
	if s.Conversation == nil {
		return ""
	}
	return s.Conversation.Provider
}
