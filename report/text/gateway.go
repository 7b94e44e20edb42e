package text

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// printGateway writes the gateway lines of the terminal summary.
func printGateway(tw io.Writer, g *summary.Gateway) {
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
		if p.RetriesUnknown > 0 {
			line += fmt.Sprintf(" (at least: %d answers gave no retry count)", p.RetriesUnknown)
		}
		if len(ups) > 0 {
			line += "; " + strings.Join(ups, ", ")
		}
		fmt.Fprintf(tw, "Gateway %s\t[%s]\t%s\n", name, p.Style, line)
	}
}
