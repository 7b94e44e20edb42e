package pricing

import (
	"math"
	"testing"
)

// FuzzParse checks that a catalog, mcpload's YAML or LiteLLM's JSON,
// parses to prices that can be used or is refused: every accepted price is
// finite and not negative (a NaN or an infinity would spoil every cost and
// summary.json with it), and Lookup finds every model it lists.
func FuzzParse(f *testing.F) {
	f.Add(catalogYAML)
	f.Add(relayYAML)
	f.Add([]byte(`{"gpt-4.1": {"input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06, "cache_read_input_token_cost": 5e-07, "litellm_provider": "openai", "mode": "chat"}, "sample_spec": {"mode": "chat"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		if c == nil || len(c.Models) == 0 {
			t.Fatalf("no error and no models for %q", data)
		}
		for _, p := range c.Models {
			for _, v := range []float64{p.Input, p.Output} {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("model %q accepted with price %v from %q", p.Model, v, data)
				}
			}
			if p.CachedInput != nil && (math.IsNaN(*p.CachedInput) || math.IsInf(*p.CachedInput, 0) || *p.CachedInput < 0) {
				t.Fatalf("model %q accepted with cached price %v", p.Model, *p.CachedInput)
			}
			if _, ok := c.Lookup(p.Model); !ok {
				t.Fatalf("Lookup(%q) fails on its own catalog", p.Model)
			}
			if cost := p.Cost(Usage{Prompt: 1e6, Cached: 5e5, Completion: 1e6}); math.IsNaN(cost) || math.IsInf(cost, 0) || cost < 0 {
				t.Fatalf("model %q costs %v", p.Model, cost)
			}
		}
	})
}
