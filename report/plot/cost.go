package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	gplot "gonum.org/v1/plot"
)

// cost draws what each model cost, as bars: the attempts that succeeded,
// and stacked on them the retry overhead, the attempts that failed and
// were paid for anyway.
func cost(r *run) *figure {
	c := r.s.Cost
	if c == nil {
		return nil
	}
	var names []string
	var parts [][]float64
	var labels, unpriced []string
	for _, m := range c.ByModel {
		if m.USD == nil {
			unpriced = append(unpriced, m.Model)
			continue
		}
		if *m.USD <= 0 {
			continue
		}
		retry := math.Min(math.Max(m.RetryUSD, 0), *m.USD)
		names = append(names, m.Model)
		parts = append(parts, []float64{*m.USD - retry, retry})
		labels = append(labels, formatUSD(*m.USD))
	}
	if len(names) == 0 {
		return nil
	}
	b := hbars{
		names:  names,
		parts:  parts,
		labels: labels,
		color: func(_, k int) color.Color {
			if k == 1 {
				return colFailed
			}
			return colBlue
		},
	}
	p := newBarPlot("", "cost of the run (USD)", b)
	g := newLegend()
	g.add("successful attempts", swatch{fill: colBlue})
	if c.RetryOverheadUSD > 0 {
		g.add("retry overhead", swatch{fill: colFailed})
	}
	note := "catalog " + c.Catalog + ", total " + formatUSD(c.TotalUSD)
	if len(unpriced) > 0 {
		note += "; no price for " + strings.Join(unpriced, ", ")
	}
	return &figure{
		name:  "cost",
		title: "Cost per model",
		caption: "What the run's measured tokens cost per provider/model at the catalog's prices, retries and fallbacks " +
			"included; the retry overhead is what attempts that failed cost.",
		height: px(math.Min(150+42*float64(len(names)), 600)),
		panels: []*gplot.Plot{p},
		legend: g,
		note:   note,
	}
}

// formatUSD writes an amount with three significant digits below a
// dollar and cents above.
func formatUSD(v float64) string {
	switch {
	case v == 0:
		return "$0"
	case math.Abs(v) >= 100:
		return "$" + strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1:
		return "$" + strconv.FormatFloat(v, 'f', 2, 64)
	}
	prec := 2 - int(math.Floor(math.Log10(math.Abs(v))))
	return "$" + strconv.FormatFloat(v, 'f', prec, 64)
}
