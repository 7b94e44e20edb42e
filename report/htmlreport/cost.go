package htmlreport

import (
	"fmt"
	"strings"

	"github.com/mcpload/mcpload/report/cost"
)

// costSection prices the run: per model, the totals, and each projection
// the summary carries (baseline, monthly, payback, what-if), only when
// present.
func costSection(k *cost.Cost, unit string) *section {
	sec := &section{ID: "cost", Title: "Cost"}
	if k == nil || len(k.ByModel) == 0 {
		sec.Intro = "Nothing was priced: the run made no model attempts, or no catalog priced it."
		return sec
	}
	single := unit[:len(unit)-1]
	sec.Intro = fmt.Sprintf("Priced from the tokens each model attempt reported, retries and fallbacks included, on the %s catalog.", k.Catalog)
	total := usd(k.TotalUSD)
	if !k.Complete {
		total += " (priced models only)"
	}
	sec.Facts = []fact{
		{Label: "Total", Value: total},
		{Label: "Per " + single, Value: usd(k.PerConversationUSD) + " started, " + usd(k.PerSuccessfulConversationUSD) + " successful"},
		{Label: "Retry overhead", Value: usd(k.RetryOverheadUSD) + " on failed attempts"},
	}
	if k.CacheSavingsUSD != nil {
		sec.Facts = append(sec.Facts, fact{Label: "Response cache saved", Value: "about " + usd(*k.CacheSavingsUSD)})
	}
	if b := k.Baseline; b != nil {
		v := fmt.Sprintf("%s on the %s catalog: these prices save %s (%s)", usd(b.TotalUSD), b.Catalog, usd(b.SavingUSD), pct(b.SavingPercent))
		if b.SavingUSD < 0 {
			v = fmt.Sprintf("%s on the %s catalog: these prices cost %s more (%s)", usd(b.TotalUSD), b.Catalog, usd(-b.SavingUSD), pct(-b.SavingPercent))
		}
		if !b.Complete {
			v += "; over the models both catalogs price"
		}
		sec.Facts = append(sec.Facts, fact{Label: "Baseline", Value: v})
	}
	if m := k.Monthly; m != nil {
		v := fmt.Sprintf("%s a month at %s (the run × %s)", usd(m.USD), m.Basis, scale(m.Scale))
		if m.Baseline != nil {
			v += fmt.Sprintf("; %s on the baseline", usd(*m.Baseline))
		}
		sec.Facts = append(sec.Facts, fact{Label: "Monthly projection", Value: v})
	}
	if p := k.Payback; p != nil {
		months := "never: there is no saving"
		if p.PaybackMonths != nil {
			months = fmt.Sprintf("%.1f months", *p.PaybackMonths)
		}
		roi := "n/a: switching costs nothing"
		if p.ROI12Percent != nil {
			roi = pct(*p.ROI12Percent)
		}
		sec.Facts = append(sec.Facts,
			fact{Label: "Switching cost", Value: fmt.Sprintf("%s (%s h × %s/h)", usd(p.ImplementationUSD), scale(p.ImplementationHours), usd(p.HourlyRateUSD))},
			fact{Label: "Saving", Value: fmt.Sprintf("%s a month, %s a year", usd(p.MonthlySavingUSD), usd(p.AnnualSavingUSD))},
			fact{Label: "Payback", Value: months},
			fact{Label: "12-month ROI", Value: roi},
		)
	}

	byModel := &table{Title: "By model", Cols: cols("provider/model", "#attempts", "#prompt", "#cached", "#completion", "#USD", "#on failed attempts", "catalog entry")}
	for _, m := range k.ByModel {
		byModel.add(cell{Text: m.Model, Code: true}, cell{Text: count(m.Attempts)}, cell{Text: count(m.Prompt)}, cell{Text: count(m.Cached)},
			cell{Text: count(m.Completion)}, cell{Text: optUSD(m.USD), Sub: unpriced(m.USD)}, cell{Text: usd(m.RetryUSD)},
			cell{Text: m.CatalogEntry, Code: m.CatalogEntry != "", Sub: m.CatalogProvider})
	}
	sec.Tables = append(sec.Tables, byModel)

	if len(k.WhatIf) > 0 {
		heads := []string{"model", "provider", "#input $/MTok", "#cached $/MTok", "#output $/MTok", "#this run"}
		monthly := false
		for _, w := range k.WhatIf {
			monthly = monthly || w.MonthlyUSD != nil
		}
		if monthly {
			heads = append(heads, "#a month")
		}
		t := &table{Title: "What if", Intro: "The same measured usage priced on every model of the catalog, cheapest first.", Cols: cols(heads...)}
		mine := map[string]bool{}
		for _, m := range k.ByModel {
			_, model, _ := strings.Cut(m.Model, "/")
			mine[model] = true
		}
		for _, w := range k.WhatIf {
			cached := dash
			if w.CachedInputPerMTok != nil {
				cached = perMTok(*w.CachedInputPerMTok)
			}
			name := cell{Text: w.Model, Code: true}
			if mine[w.Model] {
				name.Sub = "used in this run"
			}
			row := []cell{name, {Text: orDash(w.Provider)}, {Text: perMTok(w.InputPerMTok)},
				{Text: cached}, {Text: perMTok(w.OutputPerMTok)}, {Text: usd(w.USD)}}
			if monthly {
				row = append(row, cell{Text: optUSD(w.MonthlyUSD)})
			}
			t.add(row...)
		}
		sec.Tables = append(sec.Tables, t)
	}
	sec.Notes = append(append(sec.Notes, k.Notes...), k.Assumptions...)
	return sec
}

func unpriced(v *float64) string {
	if v == nil {
		return "not in the catalog"
	}
	return ""
}

// scale formats a multiplier without noise: 1,234 or 0.5.
func scale(v float64) string {
	if v >= 100 {
		return count(int64(v + 0.5))
	}
	return fmt.Sprintf("%.3g", v)
}

// perMTok formats a rate in USD per million tokens: cents, and tenths of
// a cent below ten cents.
func perMTok(v float64) string {
	if v > 0 && v < 0.1 {
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
