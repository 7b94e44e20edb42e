package capacity

import (
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// secondsPerMonth is 30 days: the month of a monthly cost.
const secondsPerMonth = 30 * 24 * 3600

// SLO is the part of a scenario a capacity search judges probes on.
type SLO struct {
	// Exprs are the scenario's threshold expressions.
	Exprs []string
	// Latencies are the latency limits among them, upper bounds only
	// (< and <=), for the plot's SLO lines.
	Latencies []Limit
	// Bound is the largest latency the SLO lets a conversation take: the
	// largest latency limit, else the client's conversation timeout or
	// timeout. The over-saturation watch measures the backlog against it.
	Bound time.Duration
}

// Limit is one latency limit of an SLO.
type Limit struct {
	Expr string
	MS   float64
}

// SLOOf reads the SLO of sc, a validated scenario.
func SLOOf(sc *scenarios.Scenario) SLO {
	var s SLO
	var largest float64
	for _, t := range sc.Thresholds {
		s.Exprs = append(s.Exprs, t.Expr)
		e, err := scenarios.ParseThreshold(t.Expr)
		if err != nil || e.Kind != scenarios.MetricLatency || (e.Op != "<" && e.Op != "<=") {
			continue
		}
		if e.Stat == "count" {
			continue
		}
		s.Latencies = append(s.Latencies, Limit{Expr: t.Expr, MS: e.Limit})
		largest = max(largest, e.Limit)
	}
	s.Bound = time.Duration(largest * float64(time.Millisecond))
	if s.Bound == 0 {
		s.Bound = sc.Client.ConversationTimeout.D()
		if s.Bound == 0 {
			s.Bound = sc.Client.Timeout.D()
		}
	}
	return s
}

// At sums up the probes of r at its rate: means over the probes there,
// Little's law for the concurrency, and the monthly cost at the rate.
// It is nil when no probe passed.
func At(r *Result) *record.CapacityAt {
	var n float64
	var a record.CapacityAt
	var meanMS, cost float64
	priced := true
	for _, p := range r.Probes {
		if p.Rate != r.Rate || !p.Pass {
			continue
		}
		n++
		meanMS += p.MeanMS
		a.MeasuredInFlight += p.MeanInFlight
		a.GoodputPerS += p.GoodputPerS
		a.TokensPerS += p.TokensPerS
		if p.CostPerConversationUSD == nil {
			priced = false
		} else {
			cost += *p.CostPerConversationUSD
		}
	}
	if n == 0 || r.Rate <= 0 {
		return nil
	}
	meanMS /= n
	a.MeasuredInFlight /= n
	a.GoodputPerS /= n
	a.TokensPerS /= n
	a.Concurrency = r.Rate * meanMS / 1000
	if priced {
		per := cost / n
		month := per * r.Rate * secondsPerMonth
		a.CostPerConversationUSD, a.MonthlyCostUSD = &per, &month
	}
	return &a
}
