package mockprovider

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/mcpload/mcpload/scenarios"
)

// Response headers of the gateways the mock plays (providers.NAME.mock.gateway),
// as LiteLLM's proxy and Portkey's gateway name them (docs/gateways.md).
const (
	hdrLiteLLMRetries   = "X-Litellm-Attempted-Retries"
	hdrLiteLLMFallbacks = "X-Litellm-Attempted-Fallbacks"
	hdrLiteLLMAPIBase   = "X-Litellm-Model-Api-Base"
	hdrLiteLLMModelID   = "X-Litellm-Model-Id"
	hdrLiteLLMCallID    = "X-Litellm-Call-Id"
	hdrPortkeyRetries   = "X-Portkey-Retry-Attempt-Count"
	hdrPortkeyOption    = "X-Portkey-Last-Used-Option-Index"
	hdrPortkeyTraceID   = "X-Portkey-Trace-Id"
	hdrPortkeyProvider  = "X-Portkey-Provider"
)

// Request-id headers of the dialects: OpenAI's x-request-id and Anthropic's
// request-id. Gemini sends none; its answers carry a responseId instead.
const (
	hdrOpenAIRequestID = "X-Request-Id"
	hdrAnthropicReqID  = "Request-Id"
)

// requestIDLen is the length of a request id after its "req_" prefix.
const requestIDLen = 24

// defaultUpstream names the one upstream of a gateway that lists none.
const defaultUpstream = "upstream-0"

// gatewayCounts is what the mock counted of one provider's requests: those
// it answered (after decoding), and, when it plays a gateway, the retries
// it reported and the calls each upstream took. They are what a run's
// summary is checked against.
type gatewayCounts struct {
	requests  atomic.Uint64
	retries   atomic.Uint64
	upstreams []atomic.Uint64 // calls per upstream: 1 + its retries per answer
}

// GatewayCounts is the admin API's view of one provider's counts (GET
// /admin/gateway).
type GatewayCounts struct {
	// Requests counts the requests the provider answered.
	Requests uint64 `json:"requests"`
	// Style is the gateway the mock plays, "" for none; the rest is only
	// counted then.
	Style string `json:"style,omitempty"`
	// Retries sums the retries reported; UpstreamCalls is Requests plus
	// Retries, by upstream in ByUpstream.
	Retries       uint64            `json:"retries,omitempty"`
	UpstreamCalls uint64            `json:"upstream_calls,omitempty"`
	ByUpstream    map[string]uint64 `json:"by_upstream,omitempty"`
}

// requestIDHeader is d's request-id header, or "".
func requestIDHeader(d dialect) string {
	switch d.(type) {
	case openAI:
		return hdrOpenAIRequestID
	case anthropicDialect:
		return hdrAnthropicReqID
	}
	return ""
}

// requestID returns a new request id: "req_" and 24 alphanumerics, unique
// within the server. It draws from no request's RNG, so that a request's
// latency and fault draws stay as they were.
func (s *Server) requestID() string {
	var b [len("req_") + requestIDLen]byte
	copy(b[:], "req_")
	x := mix(uint64(s.seed), s.reqSeq.Add(1))
	for i := len("req_"); i < len(b); i++ {
		if (i-len("req_"))%10 == 0 {
			x = mix(x, uint64(i)) // 62^10 < 2^64: ten characters per draw
		}
		b[i] = alnum[x%62]
		x /= 62
	}
	return string(b[:])
}

// answerHeaders writes the headers every answer of p carries, errors
// included: the dialect's request id and, when p plays a gateway, the
// gateway's headers. It counts the request.
func (s *Server) answerHeaders(h http.Header, d dialect, p *provider, rng *rand.Rand) {
	p.counts.requests.Add(1)
	if name := requestIDHeader(d); name != "" {
		h[name] = []string{s.requestID()}
	}
	g := p.mock.Gateway
	if g == nil {
		return
	}
	retries := 0
	for retries < g.Retries.Max && rng.Float64() < g.Retries.Probability {
		retries++
	}
	u := 0
	if len(g.Upstreams) > 1 {
		u = rng.IntN(len(g.Upstreams))
	}
	p.counts.retries.Add(uint64(retries))
	p.counts.upstreams[u].Add(uint64(1 + retries))
	name := defaultUpstream
	if len(g.Upstreams) > 0 {
		name = g.Upstreams[u]
	}
	switch g.Style {
	case scenarios.GatewayLiteLLM:
		h[hdrLiteLLMRetries] = []string{strconv.Itoa(retries)}
		h[hdrLiteLLMFallbacks] = []string{"0"}
		h[hdrLiteLLMAPIBase] = []string{name}
		h[hdrLiteLLMModelID] = []string{"deployment-" + strconv.Itoa(u)}
		h[hdrLiteLLMCallID] = []string{randomID(rng, "", 32)}
	case scenarios.GatewayPortkey:
		h[hdrPortkeyRetries] = []string{strconv.Itoa(retries)}
		h[hdrPortkeyOption] = []string{"config.targets[" + strconv.Itoa(u) + "]"}
		h[hdrPortkeyTraceID] = []string{randomID(rng, "", 32)}
		h[hdrPortkeyProvider] = []string{name}
	}
}

// newGatewayCounts sizes p's counts for its gateway's upstreams.
func newGatewayCounts(m scenarios.ProviderMock) *gatewayCounts {
	n := 1
	if g := m.Gateway; g != nil && len(g.Upstreams) > 1 {
		n = len(g.Upstreams)
	}
	return &gatewayCounts{upstreams: make([]atomic.Uint64, n)}
}

// GatewayCounts returns what the mock counted per provider (see
// GatewayCounts the type).
func (s *Server) GatewayCounts() map[string]GatewayCounts {
	out := make(map[string]GatewayCounts, len(s.providers))
	for name, p := range s.providers {
		c := GatewayCounts{Requests: p.counts.requests.Load()}
		if g := p.mock.Gateway; g != nil {
			c.Style = g.Style
			c.Retries = p.counts.retries.Load()
			c.ByUpstream = make(map[string]uint64, len(p.counts.upstreams))
			for i := range p.counts.upstreams {
				u := defaultUpstream
				if len(g.Upstreams) > 0 {
					u = g.Upstreams[i]
				}
				n := p.counts.upstreams[i].Load()
				c.ByUpstream[u] += n
				c.UpstreamCalls += n
			}
		}
		out[name] = c
	}
	return out
}

// handleAdminGateway answers GET /admin/gateway: GatewayCounts by provider.
func (s *Server) handleAdminGateway(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		adminError(w, http.StatusMethodNotAllowed, "use GET on "+r.URL.Path, nil)
		return
	}
	writeJSON(w, http.StatusOK, s.GatewayCounts())
}
