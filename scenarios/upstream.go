package scenarios

import (
	"maps"
	"net/url"
	"slices"
)

// IsProxied reports whether the mock stands in front of the provider as a
// fault proxy: base_url: mock with an upstream. Requests go to the mock,
// which applies the fault timeline and mock.limits and forwards the rest
// to Upstream, the provider's real base URL up to its version.
func (p *Provider) IsProxied() bool { return p.IsMock() && p.Upstream != "" }

// IsProxied reports whether the mock stands in front of the MCP server as a
// fault proxy: url: mock with an upstream, the server's real endpoint URL.
func (m *MCPServer) IsProxied() bool { return m.IsMock() && m.Upstream != "" }

// upstreams checks the upstream: fields, and the mock: sections that an
// upstream or a real URL leaves without effect: a knob that does nothing
// would let a user believe it did.
func (v *validator) upstreams(s *Scenario) {
	for _, name := range slices.Sorted(maps.Keys(s.Providers)) {
		if p := s.Providers[name]; p != nil {
			v.providerUpstream(mapKey("providers", name), p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.MCPServers)) {
		if m := s.MCPServers[name]; m != nil && m.Upstream != "" {
			path := mapKey("mcp_servers", name)
			switch {
			case !m.IsMock():
				v.errorf(field(path, "upstream"), "only applies with url: mock, which puts the mock's fault proxy in front of the upstream; this server is %s", mcpWhere(m))
			case !m.Mock.IsZero():
				v.errorf(field(path, "mock"), "does not apply with upstream: the upstream serves the tools; the fault timeline still applies")
			}
			v.upstreamURL(field(path, "upstream"), m.Upstream)
		}
	}
}

func (v *validator) providerUpstream(path string, p *Provider) {
	mp := field(path, "mock")
	if !p.IsMock() {
		if p.Upstream != "" {
			v.errorf(field(path, "upstream"), "only applies with base_url: mock, which puts the mock's fault proxy in front of the upstream; base_url is %s", RedactURL(p.BaseURL))
		}
		if p.Mock != (ProviderMock{}) && checkURL(p.BaseURL) == "" {
			v.errorf(mp, "only applies to base_url: mock; the provider at %s answers as it answers (to put rate limits or faults in front of it, set base_url: mock and upstream: %s)", RedactURL(p.BaseURL), RedactURL(p.BaseURL))
		}
		return
	}
	if p.Upstream == "" {
		return
	}
	v.upstreamURL(field(path, "upstream"), p.Upstream)
	for _, k := range []struct {
		name string
		l    Latency
	}{{"latency", p.Mock.Latency}, {"ttft", p.Mock.TTFT}, {"token_gap", p.Mock.TokenGap}} {
		if !k.l.IsZero() {
			v.errorf(field(mp, k.name), "does not apply with upstream: the upstream answers, at its own pace; add delay with a latency fault")
		}
	}
}

// upstreamURL checks an upstream: a real http(s) URL, not "mock".
func (v *validator) upstreamURL(path, raw string) {
	if raw == MockURL {
		v.errorf(path, `the upstream is the real endpoint the mock forwards to: an http(s) URL, not "mock"`)
		return
	}
	if msg := checkURL(raw); msg != "" {
		v.errorf(path, "%s", msg)
	}
}

// faultReaches reports an error at path when the fault's target, which
// exists, is served by nothing that carries out faults: a provider or MCP
// server on a real URL that the mock neither serves nor proxies. Such a
// fault would never fire, and a rehearsal would report a healthy target.
func (v *validator) faultReaches(s *Scenario, path, prefix, name string) {
	const fix = "so the fault would never fire; to rehearse it against that endpoint, set %s: mock and upstream: %s (the mock's fault proxy)"
	switch prefix {
	case TargetProvider:
		if p := s.Providers[name]; p != nil && !p.IsMock() {
			v.errorf(path, "provider %q is at %s, which mcpload neither mocks nor proxies, "+fix, name, RedactURL(p.BaseURL), "base_url", RedactURL(p.BaseURL))
		}
	case TargetModel:
		var real []string
		for _, pn := range slices.Sorted(maps.Keys(s.Providers)) {
			p := s.Providers[pn]
			if p == nil || p.Model != name {
				continue
			}
			if p.IsMock() {
				return
			}
			real = append(real, pn)
		}
		if len(real) > 0 {
			v.errorf(path, "model %q is asked only of providers that mcpload neither mocks nor proxies (%s), so the fault would never fire; to rehearse it against them, give them base_url: mock and upstream: their base URL (the mock's fault proxy)", name, listOrNone(real))
		}
	case TargetTool:
		i := slices.IndexFunc(s.Tools, func(t *Tool) bool { return t != nil && t.Name == name })
		if i < 0 {
			return
		}
		m := s.MCPServers[s.Tools[i].Server]
		if m == nil || m.IsMock() {
			return
		}
		if m.IsStdio() {
			v.errorf(path, "tool %q runs on MCP server %q, a child process over stdio, which mcpload neither mocks nor proxies, so the fault would never fire (the fault proxy speaks HTTP)", name, s.Tools[i].Server)
			return
		}
		v.errorf(path, "tool %q runs on MCP server %q at %s, which mcpload neither mocks nor proxies, "+fix, name, s.Tools[i].Server, RedactURL(m.URL), "url", RedactURL(m.URL))
	}
}

// mcpWhere says where a server that is not the mock is.
func mcpWhere(m *MCPServer) string {
	if m.IsStdio() {
		return "a child process over stdio"
	}
	return "at " + RedactURL(m.URL)
}

// RedactURL is raw for people to read, in messages and results: without
// a password, and without its query, which may hold a key.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redact(raw)
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.Redacted()
}
