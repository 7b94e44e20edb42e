package plot

import (
	"math"
	"sort"

	gplot "gonum.org/v1/plot"

	"github.com/mcpload/mcpload/record"
)

// outcomeOrder is the order failure classes are listed in.
var outcomeOrder = []string{
	record.Outcome429, record.OutcomeTimeout, record.Outcome5xx, record.OutcomeConnection,
	record.OutcomeProtocol, record.OutcomeToolError, record.Outcome4xx, record.OutcomeBreakerOpen,
	record.OutcomeRedirect, record.OutcomeBadUsage, record.OutcomeCanceled, record.OutcomeLocal,
}

// attemptOutcomes draws failed HTTP attempts per second by outcome class.
// Attempts tell more than conversations: a retry that succeeds hides its
// failed attempts from the conversation counts.
func attemptOutcomes(r *run) *figure {
	if r.ts == nil || r.axis.n == 0 {
		return nil
	}
	classes := failureClasses(r.ts.AttemptOutcomes)
	if len(classes) == 0 {
		return nil
	}
	t := r.axis
	xs := t.xs()
	p := newPlot("", "time since start (s)", "attempts/s")
	t.setX(p)
	g := newLegend()
	all := make([]uint64, t.n)
	var failed, sent uint64
	for class, v := range r.ts.AttemptOutcomes {
		for i := range min(len(v), t.n) {
			all[i] += v[i]
		}
		sent += total(v)
		if class != record.OutcomeOK {
			failed += total(v)
		}
	}
	allRate := t.rate(all)
	var ymax float64
	for _, class := range classes {
		ymax = math.Max(ymax, maxOf(t.rate(r.ts.AttemptOutcomes[class])))
	}
	// All attempts give the failures a scale, unless they would flatten
	// them against the axis.
	if maxOf(allRate) <= 10*ymax {
		g.add("all attempts sent", addArea(p, xs, make([]float64, len(xs)), allRate, rgb(0xE8, 0xE8, 0xE8)))
		ymax = maxOf(allRate)
	}
	// Over the grey area, under the lines.
	addFaults(r.faults, p)
	for _, class := range classes {
		ys := t.rate(r.ts.AttemptOutcomes[class])
		g.add(outcomeLabel(class), addLine(p, xs, ys, lineStyle(outcomeColor(class), 1.6)))
	}
	legendFaults(g, r.faults)
	p.Y.Min, p.Y.Max = 0, math.Max(ymax*1.08, 1)
	return &figure{
		name:  "attempt-outcomes",
		title: "Failed attempts per second by outcome",
		caption: "HTTP attempts (model calls, tool calls, MCP requests) that failed, by class, in the second they were sent: " +
			formatCount(failed) + " of " + formatCount(sent) + " attempts. Retries that later succeed hide these failures from the " +
			r.unit.plural + ".",
		panels: []*gplot.Plot{p},
		legend: g,
	}
}

// failureClasses lists the failure classes that occurred, known ones in
// outcomeOrder, others after them by name.
func failureClasses(m map[string][]uint64) []string {
	var out []string
	seen := map[string]bool{record.OutcomeOK: true}
	for _, c := range outcomeOrder {
		seen[c] = true
		if total(m[c]) > 0 {
			out = append(out, c)
		}
	}
	var rest []string
	for c, v := range m {
		if !seen[c] && total(v) > 0 {
			rest = append(rest, c)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// outcomeLabel is how the legend names an outcome class.
func outcomeLabel(class string) string {
	switch class {
	case record.Outcome429:
		return "429 rate limited"
	case record.Outcome5xx:
		return "5xx server error"
	case record.Outcome4xx:
		return "4xx client error"
	case record.OutcomeToolError:
		return "tool error"
	case record.OutcomeBreakerOpen:
		return "breaker open"
	case record.OutcomeConnection:
		return "connection error"
	case record.OutcomeProtocol:
		return "protocol error"
	case record.OutcomeRedirect:
		return "redirect not followed"
	case record.OutcomeBadUsage:
		return "implausible usage"
	case record.OutcomeLocal:
		return "local (mcpload's own limit)"
	}
	return class
}

// formatCount writes n with thin thousands separators.
func formatCount(n uint64) string {
	s := itoa(int(n))
	if len(s) <= 4 {
		return s
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
