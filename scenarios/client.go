package scenarios

// Client is how mcpload's HTTP client behaves toward providers and MCP
// servers: timeouts, then the resilience policies, composed in this order
// from the outside in: cache, fallback, circuit breaker, retry (with its
// budget), hedge, attempt. A zero policy field means the policy is off.
type Client struct {
	// Timeout bounds one HTTP attempt, from sending to the end of the body.
	// 0 or absent means DefaultTimeout (30s).
	Timeout Duration `yaml:"timeout"`
	// ConversationTimeout bounds a whole conversation, retries and fallbacks
	// included. 0 means none.
	ConversationTimeout Duration `yaml:"conversation_timeout,omitempty"`
	// Stream bounds streamed responses, which a timeout that stops at the
	// response headers does not.
	Stream StreamTimeouts `yaml:"stream,omitempty"`
	// FollowRedirects is how many redirects (3xx with a Location) one
	// request may follow, up to MaxFollowRedirects. 0, the default,
	// follows none: a 3xx is then the attempt's outcome, redirect. Each
	// hop is an attempt, is refused off loopback without --allow-remote,
	// and loses the key headers when it changes host (docs/secrets.md).
	FollowRedirects int `yaml:"follow_redirects,omitempty"`
	// Limits bound what a target can make the run hold (limits.go).
	Limits ClientLimits `yaml:"limits,omitempty"`

	Retry    *Retry         `yaml:"retry,omitempty"`
	Budget   *Budget        `yaml:"budget,omitempty"`
	Breaker  *Breaker       `yaml:"breaker,omitempty"`
	Fallback []FallbackStep `yaml:"fallback,omitempty"`
	Hedge    *Hedge         `yaml:"hedge,omitempty"`
	Cache    *Cache         `yaml:"cache,omitempty"`

	// HTTP, MaxConnsPerHost and KeepAlive shape the connections
	// (client_http.go, docs/http2.md).
	HTTP            string `yaml:"http,omitempty"`
	MaxConnsPerHost int    `yaml:"max_conns_per_host,omitempty"`
	KeepAlive       *bool  `yaml:"keep_alive,omitempty"`

	// RecordHeaders names response headers whose values every model
	// attempt records, besides the built-ins: request ids, rate limits and
	// gateways' retry headers (gateway.go, docs/gateways.md).
	RecordHeaders []string `yaml:"record_headers,omitempty"`
}

// StreamTimeouts are the timers of a streamed response. Each that fires
// ends the attempt with outcome timeout, which retry and fallback may act on.
type StreamTimeouts struct {
	// TTFT bounds the time from sending to the first content or tool-call delta.
	TTFT Duration `yaml:"ttft,omitempty"`
	// Idle bounds the gap between two chunks.
	Idle Duration `yaml:"idle,omitempty"`
	// Total bounds the whole stream, from sending to [DONE].
	Total Duration `yaml:"total,omitempty"`
}

// Retry retries failed attempts of one step.
type Retry struct {
	// Preset names a ready-made policy; fields set beside it override it.
	// "article": the seed article's client (3 attempts; waits of 1, 2, 4 s
	// after timeouts and connection errors; per-attempt timeouts of 1x,
	// 1.5x and 2x client.timeout; 60 s x attempt on a 429; 5xx not
	// retried; Retry-After ignored). "naive": 3 attempts, no wait.
	// "seed" is an older name of "article", still accepted. ApplyDefaults
	// expands the preset into the fields below and keeps Preset, under
	// its current name, so a resolved scenario shows both.
	Preset string `yaml:"preset,omitempty"`
	// MaxAttempts counts the first attempt: 1 means no retry.
	MaxAttempts int `yaml:"max_attempts,omitempty"`
	// Backoff is "constant", "exponential" or "decorrelated" (AWS's
	// decorrelated jitter: min(max, random(initial, 3 x previous))).
	Backoff string `yaml:"backoff,omitempty"`
	// Initial is the first wait; Max caps every wait; Multiplier grows
	// exponential waits (default 2).
	Initial    Duration `yaml:"initial,omitempty"`
	Max        Duration `yaml:"max,omitempty"`
	Multiplier float64  `yaml:"multiplier,omitempty"`
	// Jitter is "none", "full" (random(0, wait)) or "equal"
	// (wait/2 + random(0, wait/2)).
	Jitter string `yaml:"jitter,omitempty"`
	// On lists the outcome classes retried: timeout, 429, 5xx, connection,
	// protocol, 4xx. Default: timeout, 429, 5xx, connection.
	On []string `yaml:"on,omitempty"`
	// RetryAfter honours the server's Retry-After (seconds or HTTP-date),
	// retry-after-ms and x-should-retry. Default true; the wait is still
	// capped by Max when Max is set.
	RetryAfter *bool `yaml:"retry_after,omitempty"`
	// ProgressiveTimeout multiplies client.timeout by 1 + this x (attempt-1)
	// for each attempt (the seed uses 0.5).
	ProgressiveTimeout float64 `yaml:"progressive_timeout,omitempty"`
	// RateLimitWait, when set, is the wait after a 429, times the attempt
	// number (the seed's 60 s x attempt), instead of the backoff.
	RateLimitWait Duration `yaml:"rate_limit_wait,omitempty"`
}

// Outcome classes that retry.on, breaker.on and fallback[].on list. They are
// the attempt outcome classes of the run folder (record.Outcome*), plus two
// that only a fallback step reacts to: the breaker refused the request, or
// the retry budget refused a retry.
const (
	OnTimeout         = "timeout"
	On429             = "429"
	On5xx             = "5xx"
	On4xx             = "4xx"
	OnConnection      = "connection"
	OnProtocol        = "protocol"
	OnBreakerOpen     = "breaker_open"
	OnBudgetExhausted = "budget_exhausted"
	OnRedirect        = "redirect"
	OnBadUsage        = "bad_usage"
)

// Retry presets.
const (
	// RetryPresetArticle replays the client of the article mcpload was
	// seeded from.
	RetryPresetArticle = "article"
	// RetryPresetSeed is RetryPresetArticle's older name, an alias: "seed"
	// also names the RNG seed, which it has nothing to do with.
	RetryPresetSeed  = "seed"
	RetryPresetNaive = "naive"
)

// Backoff and jitter kinds.
const (
	BackoffConstant     = "constant"
	BackoffExponential  = "exponential"
	BackoffDecorrelated = "decorrelated"
	JitterNone          = "none"
	JitterFull          = "full"
	JitterEqual         = "equal"
)

// Budget caps retries at a ratio of requests, so that retries cannot
// multiply load on a failing provider (Finagle's and gRPC's retry budget;
// Envoy and Google SRE cap retries the same way).
type Budget struct {
	// Ratio is retries allowed per request: 0.1 lets 10% of requests retry.
	Ratio float64 `yaml:"ratio"`
	// MinRetries is a floor of retries always allowed per second, so that a
	// quiet client can still retry.
	MinRetries float64 `yaml:"min_retries_per_second,omitempty"`
	// Window is the period over which requests and retries are counted.
	Window Duration `yaml:"window,omitempty"`
}

// Breaker is a circuit breaker per provider.
type Breaker struct {
	// FailureRate opens the breaker when failures / requests in Window
	// reach it (0.5 = 50%), once at least MinRequests were made.
	FailureRate float64  `yaml:"failure_rate"`
	Window      Duration `yaml:"window,omitempty"`
	MinRequests int      `yaml:"min_requests,omitempty"`
	// Cooldown is how long the breaker stays open before it lets probes
	// through (half-open).
	Cooldown Duration `yaml:"cooldown,omitempty"`
	// Probes is how many half-open requests must succeed to close it.
	Probes int `yaml:"probes,omitempty"`
	// On lists the outcomes that count as failures. Default: timeout, 429,
	// 5xx, connection.
	On []string `yaml:"on,omitempty"`
}

// FallbackStep is one step of the fallback chain: when the provider before
// it fails with one of On (after its retries), the step goes to Provider.
type FallbackStep struct {
	Provider string `yaml:"provider"`
	// On lists the outcomes that trigger this step, plus "breaker_open" and
	// "budget_exhausted". Default: timeout, 429, 5xx, connection,
	// breaker_open, budget_exhausted.
	On []string `yaml:"on,omitempty"`
}

// Hedge sends a second attempt when the first has not answered after Delay,
// and takes whichever answers first.
type Hedge struct {
	Delay     Duration `yaml:"delay"`
	MaxHedges int      `yaml:"max_hedges,omitempty"`
}

// Cache answers identical model requests from memory for TTL, as the seed's
// client does.
type Cache struct {
	TTL        Duration `yaml:"ttl"`
	MaxEntries int      `yaml:"max_entries,omitempty"`
}

// Policy is one named run of a comparison: a client policy, a provider,
// a price sheet, claims, or several of these. Everything else (load, faults, the conversation, the seed) is
// the scenario's, so the runs differ only in what the policy sets.
type Policy struct {
	Name string `yaml:"name"`
	// Description says what the policy is, for the comparison table.
	Description string `yaml:"description,omitempty"`
	// Provider, when set, plays the model in this run in place of
	// conversation.provider: the same conversation through another
	// provider, model or API (openai, anthropic, gemini), so that their
	// metrics come out side by side.
	Provider string `yaml:"provider,omitempty"`
	// Client, when set, replaces the scenario's client whole for this
	// run; absent, the run keeps the scenario's client.
	Client *Client `yaml:"client,omitempty"`
	// Cost, when set, replaces the scenario's cost: section for this run:
	// a relay's run priced on the relay's price sheet, the incumbent's on
	// list prices.
	Cost *Cost `yaml:"cost,omitempty"`
	// Claims, when set, replace the scenario's claims for this run: a
	// relay's claims judged on the relay's run only.
	Claims []Claim `yaml:"claims,omitempty"`
	// Thresholds, when set (not empty), replace the scenario's thresholds
	// for this run, as cost and claims do.
	Thresholds []Threshold `yaml:"thresholds,omitempty"`
	// Expect is the verdict the policy's run should get: "pass" (the
	// default) or "fail", for a baseline meant to lose. `mcpload run`
	// exits 3 only when a policy misses its expectation.
	Expect string `yaml:"expect,omitempty"`
}

// Policy expectations (Policy.Expect).
const (
	ExpectPass = "pass"
	ExpectFail = "fail"
)

// ForPolicy returns the scenario that policy p's run carries out: s with
// p's provider and client, and no policies. s is not changed.
func (s *Scenario) ForPolicy(p *Policy) *Scenario {
	ps := *s
	ps.Policies = nil
	if p.Client != nil {
		ps.Client = *p.Client
	}
	if p.Cost != nil {
		ps.Cost = p.Cost
	}
	if p.Claims != nil {
		ps.Claims = p.Claims
	}
	if p.Thresholds != nil {
		ps.Thresholds = p.Thresholds
	}
	if p.Provider != "" && s.Conversation != nil {
		conv := *s.Conversation
		conv.Provider = p.Provider
		ps.Conversation = &conv
	}
	return &ps
}
