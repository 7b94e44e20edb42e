// Package capacity renders a capacity search's folder: capacity.json, its
// report.md and report.html, and judges its gates, such as
// "capacity.rate >= 500".
package capacity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
)

// gateMetrics are the figures a gate can test, and where each is read.
var gateMetrics = map[string]func(c *record.Capacity) (float64, bool){
	"rate": func(c *record.Capacity) (float64, bool) { return c.Rate, c.Status != "incomplete" },
	"interval_low": func(c *record.Capacity) (float64, bool) {
		return c.Interval[0], c.Status != "incomplete"
	},
	"concurrency": func(c *record.Capacity) (float64, bool) {
		return at(c, func(a *record.CapacityAt) float64 { return a.Concurrency })
	},
	"goodput": func(c *record.Capacity) (float64, bool) {
		return at(c, func(a *record.CapacityAt) float64 { return a.GoodputPerS })
	},
	"tokens_per_s": func(c *record.Capacity) (float64, bool) {
		return at(c, func(a *record.CapacityAt) float64 { return a.TokensPerS })
	},
	"monthly_cost_usd": func(c *record.Capacity) (float64, bool) {
		if c.At == nil || c.At.MonthlyCostUSD == nil {
			return 0, false
		}
		return *c.At.MonthlyCostUSD, true
	},
}

func at(c *record.Capacity, f func(*record.CapacityAt) float64) (float64, bool) {
	if c.At == nil {
		return 0, false
	}
	return f(c.At), true
}

// GateMetrics lists the metrics a gate can name, after "capacity.".
func GateMetrics() []string {
	var names []string
	for n := range gateMetrics {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Gate is a parsed gate: capacity.METRIC OP LIMIT.
type Gate struct {
	Expr   string
	Metric string
	Op     string
	Limit  float64
}

// ParseGate parses a gate such as "capacity.rate >= 500" (a rate may be
// written 500/s, a cost $2000).
func ParseGate(expr string) (Gate, error) {
	g := Gate{Expr: strings.TrimSpace(expr)}
	rest, ok := strings.CutPrefix(g.Expr, "capacity.")
	if !ok {
		return g, fmt.Errorf("gate %q: expected capacity.METRIC OP LIMIT, such as capacity.rate >= 500", expr)
	}
	i := strings.IndexAny(rest, "<>=!")
	if i < 0 {
		return g, fmt.Errorf("gate %q: no operator; use one of <, <=, >, >=, ==, !=", expr)
	}
	g.Metric = strings.TrimSpace(rest[:i])
	if _, ok := gateMetrics[g.Metric]; !ok {
		return g, fmt.Errorf("gate %q: unknown metric capacity.%s; expected one of capacity.%s", expr, g.Metric, strings.Join(GateMetrics(), ", capacity."))
	}
	ops := rest[i:]
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(ops, op) {
			g.Op, ops = op, ops[len(op):]
			break
		}
	}
	if g.Op == "" {
		return g, fmt.Errorf("gate %q: unknown operator; use one of <, <=, >, >=, ==, !=", expr)
	}
	lim := strings.TrimSpace(ops)
	lim = strings.TrimSuffix(strings.TrimPrefix(lim, "$"), "/s")
	v, err := strconv.ParseFloat(lim, 64)
	if err != nil || v != v {
		return g, fmt.Errorf("gate %q: the limit %q is not a number", expr, strings.TrimSpace(ops))
	}
	g.Limit = v
	return g, nil
}

// Judge evaluates g on c. A metric the search did not measure fails, with
// a note.
func (g Gate) Judge(c *record.Capacity) record.CapacityGate {
	out := record.CapacityGate{Expr: g.Expr}
	v, ok := gateMetrics[g.Metric](c)
	if !ok {
		out.Note = "not measured: the search " + map[bool]string{true: "was not priced", false: "found no rate"}[g.Metric == "monthly_cost_usd" && c.At != nil]
		if c.Status == "incomplete" {
			out.Note = "not measured: the search is incomplete"
		}
		return out
	}
	out.Measured = v
	switch g.Op {
	case "<":
		out.Pass = v < g.Limit
	case "<=":
		out.Pass = v <= g.Limit
	case ">":
		out.Pass = v > g.Limit
	case ">=":
		out.Pass = v >= g.Limit
	case "==":
		out.Pass = v == g.Limit
	case "!=":
		out.Pass = v != g.Limit
	}
	return out
}
