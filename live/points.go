package live

import "github.com/mcpload/mcpload/record"

// metricKind is how a metric adds up.
type metricKind int

const (
	gaugeKind metricKind = iota
	counterKind
	histogramKind
)

// metric is one exported metric, the same for every exporter: Prometheus
// (metrics.go) names it Name, OTLP (otlp.go) names it Name without the
// _total and _seconds suffixes, with Unit. Labels are bounded: outcomes
// are the record.Outcome* classes, and the latency keys are the
// recorder's histogram keys, which it bounds itself. docs/live.md lists
// them, and deploy/grafana/mcpload.json charts them.
type metric struct {
	Name, Help, Unit string
	Kind             metricKind
	Labels           []string
}

// The metrics, in the order they are listed.
var (
	mInfo     = &metric{"mcpload_run_info", "The run being served (always 1): its folder, scenario and mcpload version.", "", gaugeKind, []string{"run", "scenario", "version"}}
	mFinished = &metric{"mcpload_run_finished", "Whether the run has ended (1) or goes on (0); once it has ended, the figures are summary.json's.", "", gaugeKind, nil}
	mElapsed  = &metric{"mcpload_run_elapsed_seconds", "Seconds since the run began.", "s", gaugeKind, nil}
	mPlanned  = &metric{"mcpload_run_planned_seconds", "The length of the arrival schedule.", "s", gaugeKind, nil}

	mStarted  = &metric{"mcpload_conversations_started_total", "Conversations started.", "", counterKind, nil}
	mConv     = &metric{"mcpload_conversations_total", "Conversations finished or dropped, by outcome: ok, the outcome that failed them, or dropped.", "", counterKind, []string{"outcome"}}
	mInFlight = &metric{"mcpload_in_flight", "Conversations running now.", "", gaugeKind, nil}
	mTarget   = &metric{"mcpload_target_rate", "Conversations per second the schedule asks for now (at the end: its mean).", "1/s", gaugeKind, nil}
	mRate     = &metric{"mcpload_achieved_rate", "Conversations started per second over the last interval (at the end: over the run).", "1/s", gaugeKind, nil}

	mSteps     = &metric{"mcpload_steps_total", "Logical steps (model turns, tool calls, MCP operations), each with its retries.", "", counterKind, nil}
	mAttempts  = &metric{"mcpload_attempts_total", "Exchanges with a target, by outcome.", "", counterKind, []string{"outcome"}}
	mRetries   = &metric{"mcpload_retries_total", "Retries scheduled by the client policy.", "", counterKind, nil}
	mFallbacks = &metric{"mcpload_fallbacks_total", "Steps moved to a fallback provider.", "", counterKind, nil}
	mHedges    = &metric{"mcpload_hedges_total", "Hedged attempts sent.", "", counterKind, nil}
	mBudget    = &metric{"mcpload_retry_budget_exhausted_total", "Retries the retry budget refused.", "", counterKind, nil}
	mOpens     = &metric{"mcpload_breaker_opens_total", "Moves of any circuit breaker to open.", "", counterKind, nil}
	mBreaker   = &metric{"mcpload_breaker_state", "1 for the state each provider's circuit breaker is in (closed, open, half_open), 0 for the others.", "", gaugeKind, []string{"provider", "state"}}

	mTokens = &metric{"mcpload_tokens_total", "Tokens the providers reported, by kind: prompt, completion, cached.", "", counterKind, []string{"kind"}}
	mCost   = &metric{"mcpload_cost_usd_total", "What the run cost so far on its price catalog, in USD.", "USD", counterKind, nil}

	mLatency = &metric{"mcpload_latency_seconds", "Latency per level (conversation from its intended start, service, step, attempt, ttft and the stream levels) and key, ok and failed apart.", "s", histogramKind, []string{"level", "key", "result"}}
	mLag     = &metric{"mcpload_schedule_lag_seconds", "How late arrivals started: actual start less intended start.", "s", histogramKind, nil}
	mFault   = &metric{"mcpload_fault_active", "1 while the scenario's fault window is open.", "", gaugeKind, []string{"fault"}}

	mCPU        = &metric{"mcpload_harness_cpu_cores", "Cores of CPU mcpload itself used over the last interval.", "", gaugeKind, nil}
	mGoroutines = &metric{"mcpload_harness_goroutines", "Goroutines alive in mcpload.", "", gaugeKind, nil}
	mHeap       = &metric{"mcpload_harness_heap_bytes", "mcpload's live heap and stacks.", "By", gaugeKind, nil}
)

// metrics lists every metric.
var metrics = []*metric{
	mInfo, mFinished, mElapsed, mPlanned, mStarted, mConv, mInFlight, mTarget, mRate,
	mSteps, mAttempts, mRetries, mFallbacks, mHedges, mBudget, mOpens, mBreaker,
	mTokens, mCost, mLatency, mLag, mFault, mCPU, mGoroutines, mHeap,
}

// point is one value of a metric: v for gauges and counters, d for
// histograms.
type point struct {
	m      *metric
	v      float64
	d      *Dist
	labels []string
}

// points hands emit every value of the frame f.
func points(f *Frame, emit func(point)) {
	val := func(m *metric, v float64, labels ...string) { emit(point{m: m, v: v, labels: labels}) }
	val(mInfo, 1, f.Run, f.Scenario, f.Version)
	val(mFinished, b2f(f.Final))
	val(mElapsed, f.ElapsedS)
	val(mPlanned, f.PlannedS)

	c := f.Conversations
	val(mStarted, float64(c.Started))
	val(mConv, float64(c.OK), record.OutcomeOK)
	val(mConv, float64(c.Dropped), record.OutcomeDropped)
	for outcome, n := range c.ByOutcome {
		if outcome != record.OutcomeOK && outcome != record.OutcomeDropped {
			val(mConv, float64(n), outcome)
		}
	}
	val(mInFlight, float64(f.InFlight))
	val(mTarget, f.TargetRate)
	val(mRate, f.Rate)

	a := f.Attempts
	val(mSteps, float64(a.Steps))
	for outcome, n := range a.ByOutcome {
		val(mAttempts, float64(n), outcome)
	}
	val(mRetries, float64(a.Retries))
	val(mFallbacks, float64(a.Fallbacks))
	val(mHedges, float64(a.Hedges))
	val(mBudget, float64(a.BudgetExhausted))
	val(mOpens, float64(a.BreakerOpens))
	for _, b := range f.Breakers {
		for _, s := range []string{record.BreakerClosed, record.BreakerOpen, record.BreakerHalfOpen} {
			val(mBreaker, b2f(b.State == s), b.Provider, s)
		}
	}

	val(mTokens, float64(f.Tokens.Prompt), "prompt")
	val(mTokens, float64(f.Tokens.Completion), "completion")
	val(mTokens, float64(f.Tokens.Cached), "cached")
	if f.CostUSD != nil {
		val(mCost, *f.CostUSD)
	}

	for _, d := range f.Latency {
		result := record.OutcomeOK
		if d.Failed {
			result = "failed"
		}
		emit(point{m: mLatency, d: d, labels: []string{d.Level, d.Key, result}})
	}
	if f.ScheduleLag != nil {
		emit(point{m: mLag, d: f.ScheduleLag})
	}
	for _, w := range f.Faults {
		val(mFault, b2f(w.Active), w.Name)
	}
	if h := f.Harness; h != nil {
		val(mCPU, h.CPUCores)
		val(mGoroutines, float64(h.Goroutines))
		val(mHeap, float64(h.HeapBytes))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
