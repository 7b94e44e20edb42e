package scenarios

import (
	"net/textproto"
	"slices"
	"strings"
)

// Bounds of record_headers: what the attempts lines may carry per attempt.
const (
	// MaxRecordHeaders bounds the names of client.record_headers and of
	// each provider's record_headers together.
	MaxRecordHeaders = 16
	// MaxHeaderNameLen bounds one name.
	MaxHeaderNameLen = 64
)

// Styles of a mock gateway (providers.NAME.mock.gateway.style): whose
// response headers it sends.
const (
	GatewayLiteLLM = "litellm"
	GatewayPortkey = "portkey"
)

// Bounds of a mock gateway.
const (
	MaxGatewayRetries   = 10
	MaxGatewayUpstreams = 16
)

// MockGateway makes the mock answer as an AI gateway in front of upstream
// providers does: each answer carries the gateway's response headers,
// saying how many times the gateway retried behind the client and which
// upstream answered. The retries are drawn, not made: the mock counts
// them (admin API GET /admin/gateway) so that a run's summary can be
// checked against what the gateway reported.
type MockGateway struct {
	// Style is whose headers: "litellm" (x-litellm-attempted-retries,
	// x-litellm-model-api-base, ...) or "portkey"
	// (x-portkey-retry-attempt-count, x-portkey-last-used-option-index, ...).
	Style string `yaml:"style"`
	// Retries draws each answer's hidden retries.
	Retries GatewayRetries `yaml:"retries,omitempty"`
	// Upstreams names the upstreams the gateway picks from, one per answer
	// (uniformly); its retries go to the same upstream. Default: one,
	// "upstream-0".
	Upstreams []string `yaml:"upstreams,omitempty"`
}

// GatewayRetries is how many retries a mock gateway reports: each of up to
// Max retries happens with Probability, and the first that does not ends
// the draw.
type GatewayRetries struct {
	Probability float64 `yaml:"probability,omitempty"`
	Max         int     `yaml:"max,omitempty"`
}

// GatewayStyles lists the styles of a mock gateway.
func GatewayStyles() []string { return []string{GatewayLiteLLM, GatewayPortkey} }

// RecordHeaderNames returns the names whose values the attempts of
// provider p record besides the built-ins: client.record_headers, then the
// provider's own, each once, in canonical form.
func (s *Scenario) RecordHeaderNames(p *Provider) []string {
	var out []string
	add := func(names []string) {
		for _, n := range names {
			c := textproto.CanonicalMIMEHeaderKey(n)
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	add(s.Client.RecordHeaders)
	if p != nil {
		add(p.RecordHeaders)
	}
	return out
}

// secretHeaders are the response headers record_headers may not name:
// they carry credentials or sessions, which never reach results.
var secretHeaders = []string{"Authorization", "Proxy-Authorization", "Set-Cookie", "Cookie", "X-Api-Key", "Api-Key", "X-Goog-Api-Key"}

// recordHeaders checks a record_headers list at path; others counts the
// names already listed elsewhere (client.record_headers), for the bound.
func (v *validator) recordHeaders(path string, names []string, others int) {
	if len(names)+others > MaxRecordHeaders {
		v.errorf(path, "lists %d headers (with client.record_headers: %d); at most %d are recorded", len(names), len(names)+others, MaxRecordHeaders)
	}
	for i, n := range names {
		switch {
		case n == "" || len(n) > MaxHeaderNameLen || !isToken(n):
			v.errorf(index(path, i), "%q is not a header name: use an HTTP token of up to %d characters, such as x-request-id", n, MaxHeaderNameLen)
		case slices.Contains(secretHeaders, textproto.CanonicalMIMEHeaderKey(n)):
			v.errorf(index(path, i), "%s carries credentials or a session and is never recorded", n)
		}
	}
}

// mockGateway checks providers.NAME.mock.gateway at path.
func (v *validator) mockGateway(path string, p *Provider) {
	g := p.Mock.Gateway
	if g == nil {
		return
	}
	if p.Upstream != "" {
		// The fault proxy forwards the upstream's answers as they are.
		v.errorf(path, "the mock plays a gateway in front of its own answers, not with upstream; a real gateway's headers are read from its answers")
	}
	if !slices.Contains(GatewayStyles(), g.Style) {
		v.errorf(field(path, "style"), "unsupported style %q; expected one of %s", g.Style, strings.Join(GatewayStyles(), ", "))
	}
	if r := g.Retries; !(r.Probability >= 0 && r.Probability <= 1) {
		v.errorf(field(path, "retries.probability"), "must be from 0 to 1, got %g", r.Probability)
	}
	if r := g.Retries; r.Max < 0 || r.Max > MaxGatewayRetries {
		v.errorf(field(path, "retries.max"), "must be from 0 to %d, got %d", MaxGatewayRetries, r.Max)
	}
	if len(g.Upstreams) > MaxGatewayUpstreams {
		v.errorf(field(path, "upstreams"), "lists %d upstreams; at most %d", len(g.Upstreams), MaxGatewayUpstreams)
	}
	for i, u := range g.Upstreams {
		if u == "" || len(u) > 200 || strings.ContainsAny(u, "\r\n") {
			v.errorf(index(field(path, "upstreams"), i), "must be a name or URL of 1 to 200 characters on one line")
		}
	}
}
