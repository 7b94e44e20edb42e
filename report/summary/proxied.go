package summary

import (
	"maps"
	"slices"

	"github.com/mcpload/mcpload/scenarios"
)

// Proxied is a target the mock's fault proxy stood in front of: the
// fault timeline and mock.limits applied to it, and what they let through
// reached the upstream.
type Proxied struct {
	// Target is "provider:NAME" or "mcp_server:NAME".
	Target string `json:"target"`
	// Upstream is where the proxy forwarded, without a password; a query
	// (it may hold a key) shows as "…".
	Upstream string `json:"upstream"`
}

// proxiedTargets lists sc's proxied targets, providers first, by name.
func proxiedTargets(sc *scenarios.Scenario) []Proxied {
	if sc == nil {
		return nil
	}
	var out []Proxied
	for _, name := range slices.Sorted(maps.Keys(sc.Providers)) {
		if p := sc.Providers[name]; p != nil && p.IsProxied() {
			out = append(out, Proxied{Target: scenarios.TargetProvider + name, Upstream: scenarios.RedactURL(p.Upstream)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(sc.MCPServers)) {
		if m := sc.MCPServers[name]; m != nil && m.IsProxied() {
			out = append(out, Proxied{Target: "mcp_server:" + name, Upstream: scenarios.RedactURL(m.Upstream)})
		}
	}
	return out
}
