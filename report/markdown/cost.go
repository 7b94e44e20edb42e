package markdown

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/report/cost"
)

// markdownWhatIfRows is how many what-if rows report.md shows; the rest
// are in summary.json and `mcpload cost`.
const markdownWhatIfRows = 8

// markdownCost writes the cost section of report.md: the figures, the
// notes, and the cheapest rows of the what-if table.
func markdownCost(b *strings.Builder, k *cost.Cost) {
	if k == nil || len(k.ByModel) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Cost (catalog `%s`)\n\n| | |\n| --- | ---: |\n", Code(k.Catalog))
	row := func(name, value string) { fmt.Fprintf(b, "| %s | %s |\n", name, Text(value)) }
	total := cost.USD(k.TotalUSD)
	if !k.Complete {
		total += " (priced models only)"
	}
	row("total", total)
	row("per conversation", cost.USD(k.PerConversationUSD))
	row("per successful conversation", cost.USD(k.PerSuccessfulConversationUSD))
	row("retry overhead", cost.USD(k.RetryOverheadUSD))
	if k.CacheSavingsUSD != nil {
		row("cache savings", "~"+cost.USD(*k.CacheSavingsUSD))
	}
	if bl := k.Baseline; bl != nil {
		row("baseline `"+Code(bl.Catalog)+"`", cost.USD(bl.TotalUSD)+", saving "+bl.SavingText())
	}
	if m := k.Monthly; m != nil {
		row("monthly at "+Text(m.Basis), m.USDText())
	}
	if p := k.Payback; p != nil {
		row("switch cost", fmt.Sprintf("%s (%s h × %s/h)", cost.USD(p.ImplementationUSD), strconv.FormatFloat(p.ImplementationHours, 'f', -1, 64), cost.USD(p.HourlyRateUSD)))
		row("saving per month, per year", cost.USD(p.MonthlySavingUSD)+", "+cost.USD(p.AnnualSavingUSD))
		row("payback", p.MonthsText())
		row("12-month ROI", p.ROIText())
	}
	for _, m := range k.ByModel {
		if m.CatalogEntry != "" && m.CatalogEntry != modelOf(m.Model) {
			fmt.Fprintf(b, "\n- `%s` priced as `%s` (%s)", Code(m.Model), Code(m.CatalogEntry), Text(m.CatalogProvider))
		}
	}
	for _, n := range k.Notes {
		fmt.Fprintf(b, "\n- %s", Text(n))
	}
	if len(k.Notes) > 0 || slices.ContainsFunc(k.ByModel, func(m cost.ModelCost) bool { return m.CatalogEntry != "" && m.CatalogEntry != modelOf(m.Model) }) {
		b.WriteString("\n")
	}
	if len(k.WhatIf) == 0 {
		return
	}
	shown := k.WhatIf[:min(len(k.WhatIf), markdownWhatIfRows)]
	if len(shown) < len(k.WhatIf) {
		fmt.Fprintf(b, "\nThe same usage on the %d cheapest models of `%s`:\n\n", len(shown), Code(k.Catalog))
	} else {
		fmt.Fprintf(b, "\nThe same usage on each model of `%s`, cheapest first:\n\n", Code(k.Catalog))
	}
	monthly := k.Monthly != nil
	b.WriteString("| model | provider | input $/MTok | output $/MTok | run |")
	if monthly {
		b.WriteString(" monthly |")
	}
	b.WriteString("\n| --- | --- | ---: | ---: | ---: |")
	if monthly {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, r := range shown {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", Text(r.Model), Text(r.Provider), rate(r.InputPerMTok), rate(r.OutputPerMTok), cost.USD(r.USD))
		if monthly {
			m := "—"
			if r.MonthlyUSD != nil {
				m = cost.USD(*r.MonthlyUSD)
			}
			fmt.Fprintf(b, " %s |", m)
		}
		b.WriteString("\n")
	}
}

// rate writes a $/MTok price without trailing zeros.
func rate(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// modelOf is the model of an attempt key's PROVIDER/MODEL.
func modelOf(key string) string {
	_, model, _ := strings.Cut(key, "/")
	return model
}
