package scenarios

import (
	"slices"
	"time"
)

// Defaults of the client policies, filled in by ApplyDefaults for a policy
// that is present (a policy that is absent stays off).
const (
	DefaultRetryMaxAttempts   = 3
	DefaultRetryInitial       = 500 * time.Millisecond
	DefaultRetryMax           = 30 * time.Second
	DefaultRetryMultiplier    = 2.0
	DefaultBudgetMinRetries   = 1.0
	DefaultBudgetWindow       = 10 * time.Second
	DefaultBreakerWindow      = 10 * time.Second
	DefaultBreakerMinRequests = 20
	DefaultBreakerCooldown    = 5 * time.Second
	DefaultBreakerProbes      = 3
	DefaultMaxHedges          = 1
	DefaultCacheMaxEntries    = 10000
)

// The seed article's retry policy, which the "article" preset replays.
const (
	seedRetryInitial       = time.Second
	seedRetryMax           = 4 * time.Second
	seedProgressiveTimeout = 0.5
	seedRateLimitWait      = 60 * time.Second
)

// RetryPresets lists the names Retry.Preset accepts, aliases left out.
func RetryPresets() []string { return []string{RetryPresetArticle, RetryPresetNaive} }

// RetryPreset returns the explicit policy a preset stands for, and false for
// an unknown name. "" is no preset: the defaults of a retry section. The
// alias "seed" returns the "article" policy, named "article".
func RetryPreset(name string) (Retry, bool) {
	r := Retry{
		MaxAttempts: DefaultRetryMaxAttempts,
		Backoff:     BackoffExponential,
		Initial:     Duration(DefaultRetryInitial),
		Max:         Duration(DefaultRetryMax),
		Multiplier:  DefaultRetryMultiplier,
		Jitter:      JitterFull,
		On:          defaultRetryOn(),
		RetryAfter:  ptr(true),
	}
	switch name {
	case "":
	case RetryPresetArticle, RetryPresetSeed:
		// The seed article's client, as it was: it waited 1, 2, 4 s with no
		// jitter, stretched each attempt's timeout, did not retry 5xx, and
		// slept a minute per attempt on a 429 whatever the server said.
		r.Preset = RetryPresetArticle
		r.Initial = Duration(seedRetryInitial)
		r.Max = Duration(seedRetryMax)
		r.Jitter = JitterNone
		r.On = []string{OnTimeout, OnConnection, On429}
		r.RetryAfter = ptr(false)
		r.ProgressiveTimeout = seedProgressiveTimeout
		r.RateLimitWait = Duration(seedRateLimitWait)
	case RetryPresetNaive:
		// Retry at once, whatever failed: the retry storm to compare with.
		r.Preset = name
		r.Backoff = BackoffConstant
		r.Initial = 0
		r.Jitter = JitterNone
		r.RetryAfter = ptr(false)
	default:
		return Retry{}, false
	}
	return r, true
}

func defaultRetryOn() []string { return []string{OnTimeout, On429, On5xx, OnConnection} }

func defaultBreakerOn() []string { return defaultRetryOn() }

// DefaultFallbackOn is what a fallback step reacts to when it lists nothing.
func DefaultFallbackOn() []string {
	return []string{OnTimeout, On429, On5xx, OnConnection, OnBreakerOpen, OnBudgetExhausted}
}

func ptr[T any](v T) *T { return &v }

// applyDefaults fills in c's timeout and the defaults of each policy that is
// present. Zero means "the default" throughout, so it is idempotent.
func (c *Client) applyDefaults() {
	if c.Timeout == 0 {
		c.Timeout = Duration(DefaultTimeout)
	}
	c.Limits.applyDefaults()
	if c.Retry != nil {
		c.Retry.applyDefaults()
	}
	if c.Budget != nil {
		*c.Budget = c.Budget.WithDefaults()
	}
	if c.Breaker != nil {
		*c.Breaker = c.Breaker.WithDefaults()
	}
	for i := range c.Fallback {
		if c.Fallback[i].On == nil {
			c.Fallback[i].On = DefaultFallbackOn()
		}
	}
	if h := c.Hedge; h != nil && h.MaxHedges == 0 {
		h.MaxHedges = DefaultMaxHedges
	}
	if ca := c.Cache; ca != nil && ca.MaxEntries == 0 {
		ca.MaxEntries = DefaultCacheMaxEntries
	}
}

// WithDefaults returns b with its zero fields defaulted, as ApplyDefaults
// leaves it.
func (b Budget) WithDefaults() Budget {
	if b.MinRetries == 0 {
		b.MinRetries = DefaultBudgetMinRetries
	}
	if b.Window == 0 {
		b.Window = Duration(DefaultBudgetWindow)
	}
	return b
}

// WithDefaults returns b with its zero fields defaulted, as ApplyDefaults
// leaves it. FailureRate has no default: it is required.
func (b Breaker) WithDefaults() Breaker {
	if b.Window == 0 {
		b.Window = Duration(DefaultBreakerWindow)
	}
	if b.MinRequests == 0 {
		b.MinRequests = DefaultBreakerMinRequests
	}
	if b.Cooldown == 0 {
		b.Cooldown = Duration(DefaultBreakerCooldown)
	}
	if b.Probes == 0 {
		b.Probes = DefaultBreakerProbes
	}
	if b.On == nil {
		b.On = defaultBreakerOn()
	}
	return b
}

// WithDefaults returns r with its preset expanded and its zero fields
// defaulted, as ApplyDefaults leaves it: for code that builds a Retry in Go
// without going through Parse.
func (r Retry) WithDefaults() Retry {
	r.applyDefaults()
	return r
}

// applyDefaults expands r's preset, if any, into explicit fields: a field
// set beside the preset wins over the preset's value, and Preset stays, so
// that the resolved scenario shows where the values came from. Without a
// preset the retry defaults fill the fields left out. An unknown preset is
// left for Validate to report, with the plain defaults under it so that it
// is the only error.
func (r *Retry) applyDefaults() {
	base, ok := RetryPreset(r.Preset)
	if !ok {
		base, _ = RetryPreset("")
	} else if r.Preset != "" {
		// The resolved scenario writes the preset's current name.
		r.Preset = base.Preset
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = base.MaxAttempts
	}
	if r.Backoff == "" {
		r.Backoff = base.Backoff
	}
	if r.Initial == 0 {
		r.Initial = base.Initial
	}
	if r.Max == 0 {
		r.Max = base.Max
	}
	if r.Multiplier == 0 {
		r.Multiplier = base.Multiplier
	}
	if r.Jitter == "" {
		r.Jitter = base.Jitter
	}
	if r.On == nil {
		r.On = slices.Clone(base.On)
	}
	if r.RetryAfter == nil {
		r.RetryAfter = ptr(*base.RetryAfter)
	}
	if r.ProgressiveTimeout == 0 {
		r.ProgressiveTimeout = base.ProgressiveTimeout
	}
	if r.RateLimitWait == 0 {
		r.RateLimitWait = base.RateLimitWait
	}
}
