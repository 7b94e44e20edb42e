package htmlreport

import (
	"fmt"
	"maps"
	"slices"

	"github.com/mcpload/mcpload/report/summary"
)

// gatewaySection shows what AI gateways reported of the work they did
// behind the client: retries, and the calls each upstream took.
func gatewaySection(g *summary.Gateway) *section {
	sec := &section{ID: "gateway", Title: "Behind the gateway"}
	sec.Intro = fmt.Sprintf("%d client attempts became %d upstream calls: the gateway made %d retries and %d fallbacks the client did not see (amplification %.2f).",
		g.ClientAttempts, g.UpstreamCalls, g.Retries, g.Fallbacks, g.Amplification)
	if g.RetriesUnknown > 0 {
		sec.Notes = append(sec.Notes, fmt.Sprintf("%d answers carried Portkey's retry count -1 (its retries ran out, or it tried none): each is counted as one call, so the upstream calls are a lower bound.", g.RetriesUnknown))
	}
	t := &table{Title: "By upstream", Cols: cols("provider", "gateway", "upstream", "#answered", "#upstream calls")}
	for _, name := range slices.Sorted(maps.Keys(g.ByProvider)) {
		p := g.ByProvider[name]
		t.add(cell{Text: name, Code: true}, cell{Text: p.Style}, cell{Text: "(all)"}, cell{Text: count(p.ClientAttempts)}, cell{Text: count(p.UpstreamCalls)})
		for _, u := range slices.Sorted(maps.Keys(p.ByUpstream)) {
			t.add(cell{Text: name, Code: true}, cell{Text: p.Style}, cell{Text: u, Code: true}, cell{Text: count(p.ByUpstream[u].Answered)}, cell{Text: count(p.ByUpstream[u].UpstreamCalls)})
		}
	}
	sec.Tables = append(sec.Tables, t)
	return sec
}
