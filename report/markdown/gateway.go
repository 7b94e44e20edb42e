package markdown

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// markdownGateway writes the gateway section of report.md.
func markdownGateway(b *strings.Builder, g *summary.Gateway) {
	if g == nil {
		return
	}
	fmt.Fprintf(b, "\n#### Behind the gateway\n\n%d client attempts became %d upstream calls (%d retries and %d fallbacks the gateway made): amplification %.2f.",
		g.ClientAttempts, g.UpstreamCalls, g.Retries, g.Fallbacks, g.Amplification)
	if g.RetriesUnknown > 0 {
		fmt.Fprintf(b, " At least: %d answers carried Portkey's retry count -1 (retries ran out, or none was tried), each counted as one call.", g.RetriesUnknown)
	}
	b.WriteString("\n\n")
	b.WriteString("| provider | gateway | upstream | answered | upstream calls |\n| --- | --- | --- | ---: | ---: |\n")
	for _, name := range slices.Sorted(maps.Keys(g.ByProvider)) {
		p := g.ByProvider[name]
		fmt.Fprintf(b, "| %s | %s | (all) | %d | %d |\n", Text(name), p.Style, p.ClientAttempts, p.UpstreamCalls)
		for _, u := range slices.Sorted(maps.Keys(p.ByUpstream)) {
			fmt.Fprintf(b, "| %s | %s | %s | %d | %d |\n", Text(name), p.Style, Text(u), p.ByUpstream[u].Answered, p.ByUpstream[u].UpstreamCalls)
		}
	}
}
