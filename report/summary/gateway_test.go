package summary

import (
	"fmt"
	"testing"

	"github.com/mcpload/mcpload/record"
)

// TestGatewayCountsBounded feeds the summary headers a target chose:
// Portkey's -1, counts past the cap or not numbers, and more upstreams
// than are listed.
func TestGatewayCountsBounded(t *testing.T) {
	g := &gatewayCounts{}
	at := func(h map[string]string) {
		g.add(&record.Attempt{Kind: record.StepModel, Key: "model:gw/m", Headers: h})
	}
	at(nil) // no answer, before any with headers: unreported
	at(map[string]string{hdrPortkeyRetries: "-1", hdrPortkeyOption: "config.targets[0]"})
	at(map[string]string{hdrPortkeyRetries: "99999", hdrPortkeyOption: "config.targets[0]"})
	at(map[string]string{hdrPortkeyRetries: "two"})
	at(nil) // no answer: unreported
	for i := range 40 {
		at(map[string]string{hdrLiteLLMRetries: "1", hdrLiteLLMFallbacks: "1", hdrLiteLLMAPIBase: fmt.Sprintf("https://u%d.example", i)})
	}
	s := g.summary()
	p := s.ByProvider["gw"]
	if p.RetriesUnknown != 1 || p.Unreported != 2 || p.ClientAttempts != 43 {
		t.Errorf("provider %+v: want 1 unknown, 2 unreported, 43 reported", p)
	}
	// 1 + (1+100) + 1 for Portkey's three, 40 x 3 for LiteLLM's.
	if p.Retries != 100+40 || p.Fallbacks != 40 || p.UpstreamCalls != 103+120 {
		t.Errorf("retries %d, fallbacks %d, upstream calls %d", p.Retries, p.Fallbacks, p.UpstreamCalls)
	}
	if len(p.ByUpstream) != maxUpstreams+1 || p.ByUpstream[otherUpstream] == nil {
		t.Errorf("%d upstreams listed, want %d and %s", len(p.ByUpstream), maxUpstreams, otherUpstream)
	}
	var sum uint64
	for _, u := range p.ByUpstream {
		sum += u.UpstreamCalls
	}
	if sum != 102+120 { // the count that did not parse named no upstream
		t.Errorf("upstreams sum to %d calls", sum)
	}
	if (&gatewayCounts{}).summary() != nil {
		t.Error("a run without a gateway has a gateway section")
	}
}
