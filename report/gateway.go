package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
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

// gatewayCounts accumulates Gateway over attempts.jsonl.
type gatewayCounts map[string]*GatewayProvider

func (g gatewayCounts) add(at *record.Attempt) {
	if at.Kind != record.StepModel {
		return
	}
	prov, _, _ := strings.Cut(strings.TrimPrefix(at.Key, record.StepModel+":"), "/")
	style, retries, fallbacks, upstream := gatewayReport(at.Headers)
	p := g[prov]
	if style == "" {
		if p != nil {
			p.Unreported++
		}
		return
	}
	if p == nil {
		if len(g) >= maxUpstreams {
			return // the scenario's providers are few; this bounds a forged key
		}
		p = &GatewayProvider{Style: style}
		g[prov] = p
	}
	calls := 1 + retries + fallbacks
	p.ClientAttempts++
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
// the retries and fallbacks it reported, and the upstream that answered.
func gatewayReport(h map[string]string) (style string, retries, fallbacks uint64, upstream string) {
	if v, ok := h[hdrLiteLLMRetries]; ok {
		upstream = h[hdrLiteLLMAPIBase]
		if upstream == "" {
			upstream = h[hdrLiteLLMModelID]
		}
		return "litellm", gatewayCount(v), gatewayCount(h[hdrLiteLLMFallbacks]), upstream
	}
	if v, ok := h[hdrPortkeyRetries]; ok {
		upstream = h[hdrPortkeyOption]
		if upstream == "" {
			upstream = h[hdrPortkeyProvider]
		}
		return "portkey", gatewayCount(v), 0, upstream
	}
	return "", 0, 0, ""
}

// gatewayCount parses a count header: a negative value (Portkey sends -1
// when it made no retry) or one that does not parse is 0, and a count is
// capped at maxGatewayCount.
func gatewayCount(v string) uint64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return uint64(min(n, maxGatewayCount))
}

// summary returns the Gateway of the counts, nil when no answer carried a
// gateway's headers.
func (g gatewayCounts) summary() *Gateway {
	if len(g) == 0 {
		return nil
	}
	s := &Gateway{ByProvider: map[string]*GatewayProvider(g)}
	for _, p := range g {
		p.Amplification = ratio(p.UpstreamCalls, p.ClientAttempts)
		s.ClientAttempts += p.ClientAttempts
		s.Retries += p.Retries
		s.Fallbacks += p.Fallbacks
		s.UpstreamCalls += p.UpstreamCalls
	}
	s.Amplification = ratio(s.UpstreamCalls, s.ClientAttempts)
	return s
}

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return round3(float64(a) / float64(b))
}

// printGateway writes the gateway lines of the terminal summary.
func printGateway(tw io.Writer, g *Gateway) {
	if g == nil {
		return
	}
	fmt.Fprintf(tw, "Gateway\t[client attempts, retries behind, upstream calls, amplification]\t%d, %d, %d, %.2f\n", g.ClientAttempts, g.Retries, g.UpstreamCalls, g.Amplification)
	for _, name := range slices.Sorted(maps.Keys(g.ByProvider)) {
		p := g.ByProvider[name]
		var ups []string
		for _, u := range slices.Sorted(maps.Keys(p.ByUpstream)) {
			ups = append(ups, fmt.Sprintf("%s %d", u, p.ByUpstream[u].UpstreamCalls))
		}
		line := fmt.Sprintf("%d retries, %d upstream calls, %.2f", p.Retries, p.UpstreamCalls, p.Amplification)
		if len(ups) > 0 {
			line += "; " + strings.Join(ups, ", ")
		}
		fmt.Fprintf(tw, "Gateway %s\t[%s]\t%s\n", name, p.Style, line)
	}
}

// markdownGateway writes the gateway section of report.md.
func markdownGateway(b *strings.Builder, g *Gateway) {
	if g == nil {
		return
	}
	fmt.Fprintf(b, "\n#### Behind the gateway\n\n%d client attempts became %d upstream calls (%d retries and %d fallbacks the gateway made): amplification %.2f.\n\n",
		g.ClientAttempts, g.UpstreamCalls, g.Retries, g.Fallbacks, g.Amplification)
	b.WriteString("| provider | gateway | upstream | answered | upstream calls |\n| --- | --- | --- | ---: | ---: |\n")
	for _, name := range slices.Sorted(maps.Keys(g.ByProvider)) {
		p := g.ByProvider[name]
		fmt.Fprintf(b, "| %s | %s | (all) | %d | %d |\n", mdText(name), p.Style, p.ClientAttempts, p.UpstreamCalls)
		for _, u := range slices.Sorted(maps.Keys(p.ByUpstream)) {
			fmt.Fprintf(b, "| %s | %s | %s | %d | %d |\n", mdText(name), p.Style, mdText(u), p.ByUpstream[u].Answered, p.ByUpstream[u].UpstreamCalls)
		}
	}
}
