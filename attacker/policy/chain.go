package policy

import (
	"fmt"
	"net/http"

	"github.com/mcpload/mcpload/scenarios"
)

// Target is a provider that model requests can go to.
type Target struct {
	Provider string
	// Attempt sends one attempt to the provider: the innermost RoundTripper.
	Attempt http.RoundTripper
	// Rewrite turns a request built for the primary into the same request
	// for this provider. The primary's is not called.
	Rewrite func(*http.Request) (*http.Request, error)
}

// Chain is the composed client of one conversation provider, with the
// policies it was built from, for callers (and tests) that want to look at
// one.
type Chain struct {
	http.RoundTripper
	// Breakers, Retries and Budgets are per provider, by name; absent
	// when the policy is off.
	Breakers map[string]*Breaker
	Retries  map[string]*Retry
	Budgets  map[string]*Budget
	Cache    *Cache
}

// NewChain composes the policies of c around targets, the primary first:
// for each provider, Hedge inside Retry (with its Budget) inside Breaker,
// each built only when c has it; then Fallback down c.Fallback, whose
// providers targets must hold; then Cache, outermost. With no policy, the
// chain is the primary's Attempt itself.
func NewChain(c *scenarios.Client, primary Target, others ...Target) (*Chain, error) {
	ch := &Chain{Breakers: map[string]*Breaker{}, Retries: map[string]*Retry{}, Budgets: map[string]*Budget{}}
	byName := map[string]Target{}
	for _, t := range others {
		byName[t.Provider] = t
	}
	rt := ch.provider(c, primary)
	if len(c.Fallback) > 0 {
		steps := make([]FallbackStep, 0, len(c.Fallback))
		for i, fs := range c.Fallback {
			t, ok := byName[fs.Provider]
			if !ok || fs.Provider == primary.Provider {
				return nil, fmt.Errorf("client.fallback[%d]: provider %q is not a fallback target", i, fs.Provider)
			}
			if t.Rewrite == nil {
				return nil, fmt.Errorf("client.fallback[%d]: provider %q has no request rewrite", i, fs.Provider)
			}
			steps = append(steps, FallbackStep{
				Provider: fs.Provider,
				Next:     ch.provider(c, t),
				Rewrite:  t.Rewrite,
				On:       fs.On,
			})
		}
		rt = NewFallback(primary.Provider, rt, steps...)
	}
	if c.Cache != nil && c.Cache.TTL > 0 {
		ch.Cache = NewCache(rt, primary.Provider, *c.Cache)
		rt = ch.Cache
	}
	ch.RoundTripper = rt
	return ch, nil
}

// provider composes the per-provider policies around t's attempt.
func (ch *Chain) provider(c *scenarios.Client, t Target) http.RoundTripper {
	rt := t.Attempt
	if c.Hedge != nil && c.Hedge.Delay > 0 {
		rt = NewHedge(rt, t.Provider, *c.Hedge)
	}
	if c.Retry != nil {
		opts := []RetryOption{WithProvider(t.Provider)}
		if c.Budget != nil {
			b := NewBudget(*c.Budget)
			ch.Budgets[t.Provider] = b
			opts = append(opts, WithBudget(b))
		}
		r := NewRetry(rt, *c.Retry, opts...)
		ch.Retries[t.Provider] = r
		rt = r
	}
	if c.Breaker != nil {
		b := NewBreaker(rt, t.Provider, *c.Breaker)
		ch.Breakers[t.Provider] = b
		rt = b
	}
	return rt
}
