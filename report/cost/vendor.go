package cost

import (
	"strings"

	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/scenarios"
)

// providerVendors maps each provider of sc to the vendor whose prices
// apply to it (pricing.Vendor: its host's, else its dialect's). A run
// folder without a scenario prices by model name alone.
func providerVendors(sc *scenarios.Scenario) map[string]string {
	if sc == nil {
		return nil
	}
	out := make(map[string]string, len(sc.Providers))
	for name, p := range sc.Providers {
		if p != nil {
			out[name] = pricing.Vendor(p.API, p.BaseURL)
		}
	}
	return out
}

// lookupKey prices the model of an attempt key's PROVIDER/MODEL on cat,
// as its provider's vendor sells it, and returns the model too.
func lookupKey(cat *pricing.Catalog, key string, vendors map[string]string) (pricing.Price, string, bool) {
	provider, model, _ := strings.Cut(key, "/")
	p, ok := cat.LookupFor(model, vendors[provider])
	return p, model, ok
}
