package markdown

import (
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// markdownClaims writes the Claims table of report.md.
func markdownClaims(b *strings.Builder, cs []summary.Claim) {
	if len(cs) == 0 {
		return
	}
	tally := map[string]int{}
	for _, c := range cs {
		tally[c.Verdict]++
	}
	fmt.Fprintf(b, "Vendor claims, judged on 95%% intervals: %d hold, %d refuted, %d inconclusive.\n\n", tally[summary.ClaimHolds], tally[summary.ClaimRefuted], tally[summary.ClaimInconclusive])
	b.WriteString("| | claim | verdict | expect | measured | 95% interval | n |\n| :---: | --- | --- | --- | ---: | ---: | ---: |\n")
	for _, c := range cs {
		mark := map[string]string{summary.ClaimHolds: "✅", summary.ClaimRefuted: "❌"}[c.Verdict]
		if mark == "" {
			mark = "❔"
		}
		name := Text(c.Name)
		if c.Source != "" {
			name += " (" + Text(c.Source) + ")"
		}
		measured, rng := c.Measured, c.Range
		if measured == "" {
			measured, rng = "—", "—"
		}
		verdict := c.Verdict
		if c.Note != "" {
			verdict += " (" + Text(c.Note) + ")"
		}
		fmt.Fprintf(b, "| %s | %s | %s | `%s` | %s | %s | %d |\n", mark, name, verdict, Code(c.Expect), Text(measured), Text(rng), c.Interval.N)
	}
	b.WriteString("\n")
}
