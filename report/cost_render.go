package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// markdownWhatIfRows is how many what-if rows report.md shows; the rest
// are in summary.json and `mcpload cost`.
const markdownWhatIfRows = 8

// printCost writes the cost lines of the terminal summary to tw, a
// tabwriter of "name\t[fields]\tvalues" lines. A run without model usage
// has none.
func printCost(tw io.Writer, k *Cost) {
	if k == nil || len(k.ByModel) == 0 {
		return
	}
	partial := ""
	if !k.Complete {
		partial = " (priced models only)"
	}
	fmt.Fprintf(tw, "Cost\t[total, per conversation, per ok] (%s)\t%s, %s, %s%s\n", k.Catalog, USD(k.TotalUSD), USD(k.PerConversationUSD), USD(k.PerSuccessfulConversationUSD), partial)
	line := "Cost\t[retry overhead]\t" + USD(k.RetryOverheadUSD)
	if k.CacheSavingsUSD != nil {
		line = "Cost\t[retry overhead, cache savings]\t" + USD(k.RetryOverheadUSD) + ", ~" + USD(*k.CacheSavingsUSD)
	}
	fmt.Fprintln(tw, line)
	if b := k.Baseline; b != nil {
		fmt.Fprintf(tw, "Baseline\t[total, saving] (%s)\t%s, %s\n", b.Catalog, USD(b.TotalUSD), savingText(b))
	}
	if m := k.Monthly; m != nil {
		fmt.Fprintf(tw, "Monthly\t[%s]\t%s\n", m.Basis, monthlyText(m))
	}
	if p := k.Payback; p != nil {
		fmt.Fprintf(tw, "Payback\t[switch cost, saving/month, payback, 12-month ROI]\t%s, %s, %s, %s\n",
			USD(p.ImplementationUSD), USD(p.MonthlySavingUSD), p.MonthsText(), p.ROIText())
	}
}

// markdownCost writes the cost section of report.md: the figures, the
// notes, and the cheapest rows of the what-if table.
func markdownCost(b *strings.Builder, k *Cost) {
	if k == nil || len(k.ByModel) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### Cost (catalog `%s`)\n\n| | |\n| --- | ---: |\n", mdCode(k.Catalog))
	row := func(name, value string) { fmt.Fprintf(b, "| %s | %s |\n", name, mdText(value)) }
	total := USD(k.TotalUSD)
	if !k.Complete {
		total += " (priced models only)"
	}
	row("total", total)
	row("per conversation", USD(k.PerConversationUSD))
	row("per successful conversation", USD(k.PerSuccessfulConversationUSD))
	row("retry overhead", USD(k.RetryOverheadUSD))
	if k.CacheSavingsUSD != nil {
		row("cache savings", "~"+USD(*k.CacheSavingsUSD))
	}
	if bl := k.Baseline; bl != nil {
		row("baseline `"+mdCode(bl.Catalog)+"`", USD(bl.TotalUSD)+", saving "+savingText(bl))
	}
	if m := k.Monthly; m != nil {
		row("monthly at "+mdText(m.Basis), monthlyText(m))
	}
	if p := k.Payback; p != nil {
		row("switch cost", fmt.Sprintf("%s (%s h × %s/h)", USD(p.ImplementationUSD), strconv.FormatFloat(p.ImplementationHours, 'f', -1, 64), USD(p.HourlyRateUSD)))
		row("saving per month, per year", USD(p.MonthlySavingUSD)+", "+USD(p.AnnualSavingUSD))
		row("payback", p.MonthsText())
		row("12-month ROI", p.ROIText())
	}
	for _, m := range k.ByModel {
		if m.CatalogEntry != "" && m.CatalogEntry != modelOf(m.Model) {
			fmt.Fprintf(b, "\n- `%s` priced as `%s` (%s)", mdCode(m.Model), mdCode(m.CatalogEntry), mdText(m.CatalogProvider))
		}
	}
	for _, n := range k.Notes {
		fmt.Fprintf(b, "\n- %s", mdText(n))
	}
	if len(k.Notes) > 0 || slices.ContainsFunc(k.ByModel, func(m ModelCost) bool { return m.CatalogEntry != "" && m.CatalogEntry != modelOf(m.Model) }) {
		b.WriteString("\n")
	}
	if len(k.WhatIf) == 0 {
		return
	}
	shown := k.WhatIf[:min(len(k.WhatIf), markdownWhatIfRows)]
	if len(shown) < len(k.WhatIf) {
		fmt.Fprintf(b, "\nThe same usage on the %d cheapest models of `%s`:\n\n", len(shown), mdCode(k.Catalog))
	} else {
		fmt.Fprintf(b, "\nThe same usage on each model of `%s`, cheapest first:\n\n", mdCode(k.Catalog))
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
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |", mdText(r.Model), mdText(r.Provider), rate(r.InputPerMTok), rate(r.OutputPerMTok), USD(r.USD))
		if monthly {
			m := "—"
			if r.MonthlyUSD != nil {
				m = USD(*r.MonthlyUSD)
			}
			fmt.Fprintf(b, " %s |", m)
		}
		b.WriteString("\n")
	}
}

func savingText(b *CostBaseline) string {
	s := fmt.Sprintf("%.2f%%", b.SavingPercent)
	if !b.Complete {
		s += " (models priced in both catalogs)"
	}
	return s
}

func monthlyText(m *CostMonthly) string {
	s := USD(m.USD)
	if m.Baseline != nil {
		s += " (baseline " + USD(*m.Baseline) + ")"
	}
	return s
}

// MonthsText is the payback time for people: "1.2 months", "never (no
// saving)" or "immediate (switching costs nothing)".
func (p *Payback) MonthsText() string {
	switch {
	case p.PaybackMonths == nil:
		return "never (no saving)"
	case *p.PaybackMonths == 0:
		return "immediate (switching costs nothing)"
	}
	return fmt.Sprintf("%.1f months", *p.PaybackMonths)
}

// ROIText is the 12-month ROI for people: "920%", or why there is none.
func (p *Payback) ROIText() string {
	if p.ROI12Percent == nil {
		return "n/a (switching costs nothing)"
	}
	return strconv.FormatFloat(math.Round(*p.ROI12Percent), 'f', 0, 64) + "%"
}

// rate writes a $/MTok price without trailing zeros.
func rate(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// USD writes an amount for people: cents and thousands separators from
// $1 up ("$40,800.00"), three significant digits below ("$0.000123").
func USD(v float64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v == 0 {
		return "$0"
	}
	if v < 1 {
		decimals := min(2-int(math.Floor(math.Log10(v))), 12)
		s := strconv.FormatFloat(v, 'f', decimals, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
		return sign + "$" + s
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var g strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			g.WriteByte(',')
		}
		g.WriteRune(d)
	}
	return sign + "$" + g.String() + "." + frac
}

// modelOf is the model of an attempt key's PROVIDER/MODEL.
func modelOf(key string) string {
	_, model, _ := strings.Cut(key, "/")
	return model
}
