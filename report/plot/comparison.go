package plot

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	gplot "gonum.org/v1/plot"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/summary"
)

// comparisonPlots are the names of a comparison folder's plots.
var comparisonPlots = []string{"policies", "policy-success", "policy-load"}

// policy is one policy's run, as the comparison plots read it.
type policy struct {
	row compare.PolicyRow
	// ts is the policy's timeseries.json, nil when it has none.
	ts *summary.Timeseries
	// costUSD is the run's priced cost, nil when it was not priced.
	costUSD *float64
}

// Comparison draws the policies of a comparison folder side by side.
func Comparison(dir string, cmp *compare.Comparison) ([]File, error) {
	if cmp == nil || len(cmp.Policies) == 0 {
		return nil, errors.New("plots: no policies to compare")
	}
	ps := make([]policy, len(cmp.Policies))
	for i, row := range cmp.Policies {
		p, err := loadPolicy(dir, row)
		if err != nil {
			return nil, fmt.Errorf("plots: policy %q: %w", row.Name, err)
		}
		ps[i] = p
	}
	var figs []*figure
	for _, draw := range []func(*compare.Comparison, []policy) *figure{policyBars, policySuccess, policyLoad} {
		if f := draw(cmp, ps); f != nil {
			figs = append(figs, f)
		}
	}
	return saveAll(dir, figs, comparisonPlots)
}

// loadPolicy reads a policy's timeseries and cost. Its Dir is where the
// comparison wrote it; a folder moved since is found by the policy's name
// inside dir.
func loadPolicy(dir string, row compare.PolicyRow) (policy, error) {
	p := policy{row: row}
	pdir := row.Dir
	if _, err := os.Stat(filepath.Join(pdir, record.RunFile)); err != nil {
		pdir = filepath.Join(dir, row.Name)
	}
	ts, err := summary.ReadTimeseries(pdir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return p, err
	default:
		p.ts = ts
	}
	b, err := record.ReadRegular(filepath.Join(pdir, record.SummaryFile), record.MaxDocumentBytes)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return p, fmt.Errorf("read summary: %w", err)
	default:
		var s summary.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return p, fmt.Errorf("read summary: %w", err)
		}
		if s.Cost != nil {
			usd := s.Cost.TotalUSD
			p.costUSD = &usd
		}
	}
	return p, nil
}

// policyBars sets the policies' headline figures side by side, one small
// bar panel per figure: success, p99 latency, retry amplification, peak
// load on the failing provider, cost and recovery, as the run measured
// them.
func policyBars(cmp *compare.Comparison, ps []policy) *figure {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.row.Name
	}
	colorOf := func(i, _ int) color.Color { return seriesColor(i) }
	panel := func(title, xLabel string, values []float64, labels []string) *gplot.Plot {
		parts := make([][]float64, len(values))
		for i, v := range values {
			parts[i] = []float64{v}
		}
		return newBarPlot(title, xLabel, hbars{names: names, parts: parts, labels: labels, color: colorOf})
	}
	each := func(f func(p policy) (float64, string)) ([]float64, []string, bool) {
		vs, ls := make([]float64, len(ps)), make([]string, len(ps))
		any := false
		for i, p := range ps {
			vs[i], ls[i] = f(p)
			any = any || !math.IsNaN(vs[i])
		}
		return vs, ls, any
	}

	var panels []*gplot.Plot
	vs, ls, _ := each(func(p policy) (float64, string) {
		return p.row.SuccessRate, strconv.FormatFloat(p.row.SuccessRate, 'f', 1, 64) + "%"
	})
	success := panel("success", "ok / offered (%)", vs, ls)
	success.X.Max = math.Max(success.X.Max, 115)
	panels = append(panels, success)

	if vs, ls, ok := each(func(p policy) (float64, string) {
		if p.row.P99MS == nil {
			return math.NaN(), "no ok"
		}
		return *p.row.P99MS, formatNumber(math.Round(*p.row.P99MS)) + " ms"
	}); ok {
		panels = append(panels, panel("p99 latency (ok)", "intended start to answer (ms)", vs, ls))
	}

	vs, ls, _ = each(func(p policy) (float64, string) {
		return p.row.Amplification, strconv.FormatFloat(p.row.Amplification, 'f', 2, 64) + "×"
	})
	panels = append(panels, panel("retry amplification", "attempts per step", vs, ls))

	if vs, ls, ok := each(func(p policy) (float64, string) {
		if p.row.PeakFailingRPS == nil {
			return math.NaN(), "-"
		}
		return *p.row.PeakFailingRPS, formatNumber(*p.row.PeakFailingRPS) + "/s"
	}); ok {
		panels = append(panels, panel("peak load on the failing provider", "attempts/s", vs, ls))
	}

	if vs, ls, ok := each(func(p policy) (float64, string) {
		if p.costUSD == nil {
			return math.NaN(), "not priced"
		}
		return *p.costUSD, formatUSD(*p.costUSD)
	}); ok {
		panels = append(panels, panel("cost of the run", "USD", vs, ls))
	}

	if vs, ls, ok := each(func(p policy) (float64, string) {
		switch {
		case p.row.NeverRecovered:
			return math.NaN(), "never"
		case p.row.RecoveryS == nil:
			return math.NaN(), "-"
		}
		return *p.row.RecoveryS, strconv.FormatFloat(*p.row.RecoveryS, 'f', 1, 64) + " s"
	}); ok || anyNever(ps) {
		panels = append(panels, panel("recovery after the fault", "seconds after the window", vs, ls))
	}

	rows := (len(panels) + 1) / 2
	return &figure{
		name:  "policies",
		title: "Policies side by side: " + cmp.Scenario,
		caption: "Each policy's run of the same load and fault timeline: the share of offered conversations that succeeded, " +
			"the p99 latency of those that did, attempts per logical step, the most attempts sent in one second to a " +
			"provider under fault, what the run cost, and how long success took to come back after the fault.",
		height: px(70 + 40*float64(len(ps)+2)*float64(rows)),
		panels: panels,
		cols:   2,
	}
}

func anyNever(ps []policy) bool {
	for _, p := range ps {
		if p.row.NeverRecovered {
			return true
		}
	}
	return false
}

// policyLines draws one line per policy over time, with the fault windows
// of the first policy that has any shaded; ys gives a policy's points.
func policyLines(ps []policy, p *gplot.Plot, g *legend, ys func(t timeAxis, ts *summary.Timeseries) []float64) (timeAxis, bool) {
	n := 0
	var faults []faultSpan
	for _, pol := range ps {
		if pol.ts == nil {
			continue
		}
		n = max(n, len(pol.ts.T))
		if faults == nil {
			faults = faultSpans(pol.ts.Faults)
		}
	}
	if n == 0 {
		return timeAxis{}, false
	}
	t := newTimeAxis(n)
	t.setX(p)
	addFaults(faults, p)
	for i, pol := range ps {
		if pol.ts == nil {
			continue
		}
		// Later policies draw thinner, over the earlier ones, so that
		// policies that agree still all show.
		width := math.Max(3.4-0.8*float64(i), 1)
		g.add(pol.row.Name, addLine(p, t.xs(), ys(t, pol.ts), lineStyle(seriesColor(i), width)))
	}
	legendFaults(g, faults)
	return t, true
}

// policySuccess draws each policy's success ratio over time.
func policySuccess(cmp *compare.Comparison, ps []policy) *figure {
	p := newPlot("", "time since start (s)", "ok / offered (%)")
	g := newLegend()
	_, ok := policyLines(ps, p, g, func(t timeAxis, ts *summary.Timeseries) []float64 {
		r := t.ratio(ts.Conversations.OK, ts.Conversations.Offered)
		for i := range r {
			r[i] *= 100
		}
		return r
	})
	if !ok {
		return nil
	}
	p.Y.Min, p.Y.Max = 0, 105
	return &figure{
		name:  "policy-success",
		title: "Success ratio over time by policy",
		caption: "The share of the conversations due to start in each second that succeeded, per policy. " +
			"Shaded: the fault windows.",
		panels: []*gplot.Plot{p},
		legend: g,
	}
}

// policyLoad draws the attempts each policy sent to the failing
// providers per second: where naive retries multiply the load on a
// provider that is already down, and a breaker takes it away.
func policyLoad(cmp *compare.Comparison, ps []policy) *figure {
	if len(cmp.FailingTargets) == 0 {
		return nil
	}
	p := newPlot("", "time since start (s)", "attempts/s")
	g := newLegend()
	var ymax float64
	_, ok := policyLines(ps, p, g, func(t timeAxis, ts *summary.Timeseries) []float64 {
		sum := make([]uint64, len(ts.T))
		for _, target := range cmp.FailingTargets {
			for i, v := range ts.Offered[target] {
				if i < len(sum) {
					sum[i] += v
				}
			}
		}
		ys := t.rate(sum)
		ymax = math.Max(ymax, maxOf(ys))
		return ys
	})
	if !ok {
		return nil
	}
	p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
	return &figure{
		name:  "policy-load",
		title: "Load on the failing provider by policy",
		caption: "Attempts sent per second to " + joinTargets(cmp.FailingTargets) + ", retries and hedges included, per policy. " +
			"Shaded: the fault windows.",
		panels: []*gplot.Plot{p},
		legend: g,
	}
}

// joinTargets lists targets for a caption.
func joinTargets(ts []string) string {
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += ", "
		}
		out += t
	}
	return out
}
