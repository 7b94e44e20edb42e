package cost

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/scenarios"
)

// MaxWhatIfRows bounds the what-if rows kept in summary.json: a LiteLLM
// catalog lists over a thousand models. `mcpload cost` prints them all.
const MaxWhatIfRows = 50

// Project prices the run in dir on o.Catalog (see PriceRun) and adds what
// o asks for: the baseline comparison, the monthly projection, the payback
// of switching and the what-if rows. The same arithmetic serves
// summary.json, report.md and `mcpload cost`.
func Project(dir string, in Measured, o Options) (*Cost, error) {
	cat := o.Catalog
	if cat == nil {
		cat = pricing.Default()
	}
	c, err := PriceRun(dir, in, cat)
	if err != nil {
		return nil, err
	}
	var scale float64
	if o.Baseline != nil {
		c.Baseline = c.baseline(o.Baseline)
	}
	if o.Monthly != nil {
		scale = c.project(in, *o.Monthly)
	}
	if o.Switch != nil {
		c.Payback = c.payback(*o.Switch, scale)
	}
	rows := WhatIf(cat, c.Usage(), scale)
	if len(rows) > MaxWhatIfRows {
		c.Notes = append(c.Notes, fmt.Sprintf("what_if lists the %d cheapest of the %s catalog's %d models; `mcpload cost DIR` lists them all", MaxWhatIfRows, cat.Name, len(rows)))
		rows = rows[:MaxWhatIfRows]
	}
	c.WhatIf = rows
	return c, nil
}

// Usage is the run's whole measured model usage, over every model.
func (c *Cost) Usage() pricing.Usage {
	var u pricing.Usage
	for _, m := range c.ByModel {
		u = u.Add(m.Usage)
	}
	return u
}

// baseline prices the run's usage on cat, model by model. The saving
// compares only the models both catalogs price, so that a model missing
// from one side does not pass for a saving; Complete says whether that was
// every model with usage. It returns nil, with a note, when no model is
// priced on both sides.
func (c *Cost) baseline(cat *pricing.Catalog) *Baseline {
	b := &Baseline{Catalog: cat.Name, Complete: true}
	note := func(format string, args ...any) {
		b.Complete = false
		c.Notes = append(c.Notes, fmt.Sprintf(format, args...))
	}
	var runBoth, baseBoth float64
	for _, m := range c.ByModel {
		if m.Prompt+m.Completion == 0 {
			continue
		}
		p, model, ok := lookupKey(cat, m.Model, c.vendors)
		if !ok {
			note("%s is not in the baseline %s catalog: the saving leaves it out", model, cat.Name)
			continue
		}
		usd := p.Cost(m.Usage)
		b.TotalUSD += usd
		if m.USD == nil {
			note("%s has no price in the run's %s catalog: the saving leaves it out", model, c.Catalog)
			continue
		}
		runBoth += *m.USD
		baseBoth += usd
	}
	if baseBoth <= 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("no saving over the %s catalog: no usage is priced in both catalogs", cat.Name))
		return nil
	}
	b.SavingUSD = baseBoth - runBoth
	b.SavingPercent = round3(100 * (1 - runBoth/baseBoth))
	return b
}

// project scales the run to the monthly volume m and returns the scale, 0
// when the run measured nothing to scale (then a note says so).
func (c *Cost) project(in Measured, m scenarios.Monthly) float64 {
	var per float64
	var basis, unit string
	switch {
	case m.Conversations > 0:
		per, unit = float64(in.Started), "conversations"
		basis = FormatCount(float64(m.Conversations)) + " conversations/month"
	case m.Tokens > 0:
		u := c.Usage()
		per, unit = float64(u.Prompt+u.Completion), "model tokens"
		basis = FormatCount(float64(m.Tokens)) + " tokens/month"
	default:
		return 0
	}
	if per == 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("no monthly projection to %s: the run measured no %s to scale", basis, unit))
		return 0
	}
	scale := float64(m.Conversations+m.Tokens) / per
	c.Monthly = &Monthly{Basis: basis, Scale: scale, USD: roundUSD(c.TotalUSD * scale)}
	if c.Baseline != nil {
		v := roundUSD(c.Baseline.TotalUSD * scale)
		c.Monthly.Baseline = &v
	}
	return scale
}

// payback is the seed calculator's arithmetic on the monthly saving over
// the baseline. It needs both a baseline and a monthly projection. ROI is
// left out (null) when switching costs nothing: any saving is then an
// infinite return, and the payback is immediate (0 months).
func (c *Cost) payback(sw scenarios.Switch, scale float64) *Payback {
	if c.Baseline == nil || c.Monthly == nil || scale <= 0 {
		c.Notes = append(c.Notes, "no payback: it needs cost.baseline (or a catalog other than list-prices) and cost.monthly")
		return nil
	}
	impl := sw.ImplementationHours * sw.HourlyRateUSD
	monthly := c.Baseline.SavingUSD * scale
	p := &Payback{
		ImplementationHours: sw.ImplementationHours,
		HourlyRateUSD:       sw.HourlyRateUSD,
		ImplementationUSD:   roundUSD(impl),
		MonthlySavingUSD:    roundUSD(monthly),
		AnnualSavingUSD:     roundUSD(12 * monthly),
	}
	if monthly > 0 {
		months := round3(impl / monthly)
		p.PaybackMonths = &months
	}
	if impl > 0 {
		roi := round3((12*monthly - impl) / impl * 100)
		p.ROI12Percent = &roi
	}
	return p
}

// WhatIf prices usage u on every model of cat, cheapest first (ties by
// name), with the monthly cost when scale, the monthly multiplier, is more
// than 0. A run that measured no tokens has no rows.
func WhatIf(cat *pricing.Catalog, u pricing.Usage, scale float64) []WhatIfRow {
	if u.Prompt+u.Completion == 0 {
		return nil
	}
	rows := make([]WhatIfRow, 0, len(cat.Models))
	for _, p := range cat.Models {
		if !p.Chat() {
			continue // an embedding or rerank model prices nothing a conversation does
		}
		r := WhatIfRow{Model: p.Model, Provider: p.Provider, InputPerMTok: p.Input, CachedInputPerMTok: p.CachedInput, OutputPerMTok: p.Output, USD: p.Cost(u)}
		if scale > 0 {
			m := roundUSD(r.USD * scale)
			r.MonthlyUSD = &m
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(a, b WhatIfRow) int {
		return cmp.Or(cmp.Compare(a.USD, b.USD), cmp.Compare(a.Model, b.Model))
	})
	return rows
}

// roundUSD rounds a projected amount to a millionth of a dollar: it keeps
// small projections and drops float noise such as 600.0000000000001.
func roundUSD(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// FormatCount writes a count the way scenarios write them: 500M, 2.5k,
// 1.2B; small counts as they are.
func FormatCount(v float64) string {
	for _, u := range []struct {
		mult   float64
		suffix string
	}{{1e12, "T"}, {1e9, "B"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.mult {
			return strconv.FormatFloat(v/u.mult, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
