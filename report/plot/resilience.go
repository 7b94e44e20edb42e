package plot

import (
	"image/color"
	"math"
	"sort"
	"strings"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// resilience draws how the client's policies acted, in up to three
// panels over the same time axis: attempts sent to each provider (where
// a retry storm or a fallback shows), retries by cause, fallbacks, hedges
// and budget refusals per second, and each provider's breaker state. It
// is drawn when the run had policy events, breakers or faults.
func resilience(r *run) *figure {
	if r.ts == nil || r.axis.n == 0 {
		return nil
	}
	ts := r.ts
	var retries uint64
	for _, v := range ts.Retries {
		retries += total(v)
	}
	events := retries + total(ts.Fallbacks) + total(ts.Hedges) + total(ts.BudgetExhausted)
	if events == 0 && len(ts.Breaker) == 0 && len(r.faults) == 0 {
		return nil
	}
	t := r.axis
	xs := t.xs()
	g := newLegend()
	var panels []*gplot.Plot
	var weights []float64

	// Load offered to each provider.
	providers := providerTargets(ts.Offered)
	if len(providers) > 0 {
		p := newPlot("attempts sent per provider", "", "attempts/s")
		t.setX(p)
		addFaults(r.faults, p)
		var ymax float64
		for i, target := range providers {
			ys := t.rate(ts.Offered[target])
			ymax = math.Max(ymax, maxOf(ys))
			name := strings.TrimPrefix(target, scenarios.TargetProvider)
			g.add("sent to "+name, addLine(p, xs, ys, lineStyle(providerColor(i), 1.5)))
			if rps := rateLimit(r.sc, name); rps > 0 {
				// The mock's rate limit, in requests per second.
				g.add(name+" limit ("+formatNumber(rps*60)+" rpm)", addLine(p, []float64{0, float64(t.n)}, []float64{rps, rps}, dashed(providerColor(i), 1.2)))
				ymax = math.Max(ymax, rps)
			}
		}
		p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
		panels, weights = append(panels, p), append(weights, 1)
	}

	// Policy events.
	if events > 0 {
		p := newPlot("client policy events", "", "events/s")
		t.setX(p)
		addFaults(r.faults, p)
		var ymax float64
		line := func(label string, v []uint64, style draw.LineStyle) {
			if total(v) == 0 {
				return
			}
			ys := t.rate(v)
			ymax = math.Max(ymax, maxOf(ys))
			g.add(label, addLine(p, xs, ys, style))
		}
		for _, reason := range sortedKeys(ts.Retries) {
			line("retry after "+reason, ts.Retries[reason], lineStyle(outcomeColor(reason), 1.5))
		}
		line("fallback", ts.Fallbacks, lineStyle(colTarget, 1.5))
		line("hedge", ts.Hedges, dashed(colTarget, 1.3))
		line("retry refused by budget", ts.BudgetExhausted, dotted(colTarget, 1.6))
		p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
		panels, weights = append(panels, p), append(weights, 1)
	}

	// Breaker states.
	if len(ts.Breaker) > 0 {
		names := sortedKeys(ts.Breaker)
		p := newPlot("circuit breaker state", "", "")
		t.setX(p)
		addFaults(r.faults, p)
		p.Add(breakerBands{names: names, states: ts.Breaker, axis: t})
		p.NominalY(names...)
		p.Y.Min, p.Y.Max = -0.5, float64(len(names))-0.5
		p.Y.Padding = 0
		seen := map[string]bool{}
		for _, states := range ts.Breaker {
			for _, st := range states {
				seen[st] = true
			}
		}
		for _, st := range []string{record.BreakerClosed, record.BreakerHalfOpen, record.BreakerOpen} {
			if seen[st] {
				g.add("breaker "+strings.ReplaceAll(st, "_", "-"), swatch{fill: breakerColor(st)})
			}
		}
		panels, weights = append(panels, p), append(weights, math.Min(0.25+0.12*float64(len(names)), 0.6))
	}
	if len(panels) == 0 {
		return nil
	}
	legendFaults(g, r.faults)
	panels[len(panels)-1].X.Label.Text = "time since start (s)"

	var h float64 = 70
	for _, w := range weights {
		h += 200 * w
	}
	return &figure{
		name:  "resilience",
		title: "Client policies at work",
		caption: "Attempts sent to each provider per second (retries and fallbacks add to it), the client's policy events " +
			"per second, and each provider's circuit breaker state (the most severe state of each second). " +
			"Shaded: the fault windows.",
		height:  px(math.Max(h, 450)),
		panels:  panels,
		weights: weights,
		legend:  g,
	}
}

// rateLimit is the mock's request limit on provider, per second; 0 when
// it has none.
func rateLimit(sc *scenarios.Scenario, provider string) float64 {
	if sc == nil {
		return 0
	}
	p := sc.Providers[provider]
	if p == nil || !p.IsMock() || p.Mock.Limits == nil {
		return 0
	}
	return float64(p.Mock.Limits.RPM) / 60
}

// providerTargets lists the "provider:NAME" keys of an offered-load map
// that had any load, sorted.
func providerTargets(offered map[string][]uint64) []string {
	var out []string
	for k, v := range offered {
		if strings.HasPrefix(k, scenarios.TargetProvider) && total(v) > 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// breakerColor colours a breaker state.
func breakerColor(state string) color.Color {
	switch state {
	case record.BreakerOpen:
		return colFailed
	case record.BreakerHalfOpen:
		return colOrange
	default:
		return lighter(colOK, 0.55)
	}
}

// breakerBands draws one band per provider, coloured by its breaker
// state second by second; row i is names[i].
type breakerBands struct {
	names  []string
	states map[string][]string
	axis   timeAxis
}

// Plot implements gonum's Plotter.
func (b breakerBands) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for row, name := range b.names {
		states := b.states[name]
		y0, y1 := trY(float64(row)-0.32), trY(float64(row)+0.32)
		for i := 0; i < len(states); {
			j := i
			for j < len(states) && states[j] == states[i] {
				j++
			}
			x0, x1 := trX(float64(i)), trX(float64(j))
			c.FillPolygon(breakerColor(states[i]), []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			i = j
		}
	}
}
