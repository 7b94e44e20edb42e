package summary

import (
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// Gateway response headers the summary reads from attempts.jsonl, as the
// attacker records them (lower case). docs/gateways.md cites where each
// name is documented.
const (
	hdrLiteLLMRetries   = "x-litellm-attempted-retries"
	hdrLiteLLMFallbacks = "x-litellm-attempted-fallbacks"
	hdrLiteLLMAPIBase   = "x-litellm-model-api-base"
	hdrLiteLLMModelID   = "x-litellm-model-id"
	hdrPortkeyRetries   = "x-portkey-retry-attempt-count"
	hdrPortkeyOption    = "x-portkey-last-used-option-index"
	hdrPortkeyProvider  = "x-portkey-provider"
)

// Bounds of the gateway summary: the headers are a target's to choose.
const (
	// maxGatewayCount caps the retries or fallbacks one answer may claim.
	maxGatewayCount = 100
	// maxUpstreams bounds the upstreams listed per provider; the rest are
	// summed under otherUpstream.
	maxUpstreams  = 32
	otherUpstream = "_other"
)

// Gateway is what AI gateways reported of the work they did behind the
// client: the retries and fallbacks they made, and the load that reached
// each upstream. Only model attempts whose answers carried a gateway's
// headers count.
type Gateway struct {
	// ClientAttempts counts the attempts whose answers carried a gateway's
	// retry headers.
	ClientAttempts uint64 `json:"client_attempts"`
	// Retries and Fallbacks sum what the gateways reported; UpstreamCalls
	// is ClientAttempts + Retries + Fallbacks, the calls the upstreams took.
	Retries       uint64 `json:"retries"`
	Fallbacks     uint64 `json:"fallbacks"`
	UpstreamCalls uint64 `json:"upstream_calls"`
	// Amplification is UpstreamCalls / ClientAttempts.
	Amplification float64 `json:"amplification"`
	// RetriesUnknown counts the answers whose retry count was Portkey's
	// -1: it retried until its configured attempts ran out, or gave up
	// without retrying, and does not say which. Each counts one upstream
	// call, so UpstreamCalls is then a lower bound.
	RetriesUnknown uint64 `json:"retries_unknown"`
	// ByProvider splits the figures by the scenario's provider.
	ByProvider map[string]*GatewayProvider `json:"by_provider"`
}

// GatewayProvider is Gateway for one provider of the scenario.
type GatewayProvider struct {
	// Style is the gateway that answered: litellm or portkey.
	Style          string  `json:"style"`
	ClientAttempts uint64  `json:"client_attempts"`
	Retries        uint64  `json:"retries"`
	Fallbacks      uint64  `json:"fallbacks"`
	UpstreamCalls  uint64  `json:"upstream_calls"`
	Amplification  float64 `json:"amplification"`
	RetriesUnknown uint64  `json:"retries_unknown"`
	// Unreported counts the provider's model attempts without a gateway's
	// headers: failures before any answer, mostly.
	Unreported uint64 `json:"unreported"`
	// ByUpstream is the load each upstream took, by the name the gateway
	// gave it (LiteLLM's model api base, Portkey's option index).
	ByUpstream map[string]*GatewayUpstream `json:"by_upstream,omitempty"`
}

// GatewayUpstream is one upstream's share. The headers name the upstream
// that gave the answer only: the retries are counted to it.
type GatewayUpstream struct {
	Answered      uint64 `json:"answered"`
	UpstreamCalls uint64 `json:"upstream_calls"`
}

// gatewayCounts accumulates Gateway over attempts.jsonl: by provider, and
// the attempts without a gateway's headers, which may come before the
// first with them.
type gatewayCounts struct {
	by         map[string]*GatewayProvider
	unreported map[string]uint64
}

func (g *gatewayCounts) add(at *record.Attempt) {
	if at.Kind != record.StepModel {
		return
	}
	prov, _, _ := strings.Cut(strings.TrimPrefix(at.Key, record.StepModel+":"), "/")
	style, retries, fallbacks, upstream, unknown := gatewayReport(at.Headers)
	if style == "" {
		if _, ok := g.unreported[prov]; ok || len(g.unreported) < maxUpstreams {
			if g.unreported == nil {
				g.unreported = map[string]uint64{}
			}
			g.unreported[prov]++
		}
		return
	}
	p := g.by[prov]
	if p == nil {
		if len(g.by) >= maxUpstreams {
			return // the scenario's providers are few; this bounds a forged key
		}
		if g.by == nil {
			g.by = map[string]*GatewayProvider{}
		}
		p = &GatewayProvider{Style: style}
		g.by[prov] = p
	}
	calls := 1 + retries + fallbacks
	p.ClientAttempts++
	if unknown {
		p.RetriesUnknown++
	}
	p.Retries += retries
	p.Fallbacks += fallbacks
	p.UpstreamCalls += calls
	if upstream == "" {
		return
	}
	if p.ByUpstream == nil {
		p.ByUpstream = map[string]*GatewayUpstream{}
	}
	u := p.ByUpstream[upstream]
	if u == nil {
		if len(p.ByUpstream) >= maxUpstreams {
			upstream = otherUpstream
			u = p.ByUpstream[upstream]
		}
		if u == nil {
			u = &GatewayUpstream{}
			p.ByUpstream[upstream] = u
		}
	}
	u.Answered++
	u.UpstreamCalls += calls
}

// gatewayReport reads a gateway's headers: its style ("" when h has none),
// the retries and fallbacks it reported, the upstream that answered, and
// whether the retry count was unknown (negative).
func gatewayReport(h map[string]string) (style string, retries, fallbacks uint64, upstream string, unknown bool) {
	if v, ok := h[hdrLiteLLMRetries]; ok {
		upstream = h[hdrLiteLLMAPIBase]
		if upstream == "" {
			upstream = h[hdrLiteLLMModelID]
		}
		retries, unknown = gatewayCount(v)
		fallbacks, _ = gatewayCount(h[hdrLiteLLMFallbacks])
		return "litellm", retries, fallbacks, upstream, unknown
	}
	if v, ok := h[hdrPortkeyRetries]; ok {
		upstream = h[hdrPortkeyOption]
		if upstream == "" {
			upstream = h[hdrPortkeyProvider]
		}
		retries, unknown = gatewayCount(v)
		return "portkey", retries, 0, upstream, unknown
	}
	return "", 0, 0, "", false
}

// gatewayCount parses a count header, capped at maxGatewayCount. A
// negative value is unknown (Portkey's -1, see Gateway.RetriesUnknown)
// and counts 0, as does one that does not parse.
func gatewayCount(v string) (n uint64, unknown bool) {
	i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, false
	}
	if i < 0 {
		return 0, true
	}
	return uint64(min(i, maxGatewayCount)), false
}

// summary returns the Gateway of the counts, nil when no answer carried a
// gateway's headers.
func (g *gatewayCounts) summary() *Gateway {
	if g == nil || len(g.by) == 0 {
		return nil
	}
	s := &Gateway{ByProvider: g.by}
	for name, p := range g.by {
		p.Unreported = g.unreported[name]
		p.Amplification = ratio(p.UpstreamCalls, p.ClientAttempts)
		s.ClientAttempts += p.ClientAttempts
		s.Retries += p.Retries
		s.Fallbacks += p.Fallbacks
		s.UpstreamCalls += p.UpstreamCalls
		s.RetriesUnknown += p.RetriesUnknown
	}
	s.Amplification = ratio(s.UpstreamCalls, s.ClientAttempts)
	return s
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return Round3(float64(a) / float64(b))
}
