package live

import (
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mcpload/mcpload/record"
)

// The exported metrics. Every name starts with mcpload_; docs/live.md
// lists them, and deploy/grafana/mcpload.json charts them. Labels are
// bounded: outcomes are the record.Outcome* classes, and the latency keys
// are the recorder's histogram keys, which it bounds itself.
var (
	descInfo     = newDesc("mcpload_run_info", "The run being served (always 1): its folder, scenario and mcpload version.", "run", "scenario", "version")
	descFinished = newDesc("mcpload_run_finished", "Whether the run has ended (1) or goes on (0); once it has ended, the figures are summary.json's.")
	descElapsed  = newDesc("mcpload_run_elapsed_seconds", "Seconds since the run began.")
	descPlanned  = newDesc("mcpload_run_planned_seconds", "The length of the arrival schedule.")

	descStarted  = newDesc("mcpload_conversations_started_total", "Conversations started.")
	descConv     = newDesc("mcpload_conversations_total", "Conversations finished or dropped, by outcome: ok, the outcome that failed them, or dropped.", "outcome")
	descInFlight = newDesc("mcpload_in_flight", "Conversations running now.")
	descTarget   = newDesc("mcpload_target_rate", "Conversations per second the schedule asks for now (at the end: its mean).")
	descRate     = newDesc("mcpload_achieved_rate", "Conversations started per second over the last interval (at the end: over the run).")

	descSteps     = newDesc("mcpload_steps_total", "Logical steps (model turns, tool calls, MCP operations), each with its retries.")
	descAttempts  = newDesc("mcpload_attempts_total", "Exchanges with a target, by outcome.", "outcome")
	descRetries   = newDesc("mcpload_retries_total", "Retries scheduled by the client policy.")
	descFallbacks = newDesc("mcpload_fallbacks_total", "Steps moved to a fallback provider.")
	descHedges    = newDesc("mcpload_hedges_total", "Hedged attempts sent.")
	descBudget    = newDesc("mcpload_retry_budget_exhausted_total", "Retries the retry budget refused.")
	descOpens     = newDesc("mcpload_breaker_opens_total", "Moves of any circuit breaker to open.")
	descBreaker   = newDesc("mcpload_breaker_state", "1 for the state each provider's circuit breaker is in (closed, open, half_open), 0 for the others.", "provider", "state")

	descTokens = newDesc("mcpload_tokens_total", "Tokens the providers reported, by kind: prompt, completion, cached.", "kind")
	descCost   = newDesc("mcpload_cost_usd_total", "What the run cost so far on its price catalog, in USD.")

	descLatency = newDesc("mcpload_latency_seconds", "Latency per level (conversation from its intended start, service, step, attempt, ttft and the stream levels) and key, ok and failed apart.", "level", "key", "result")
	descLag     = newDesc("mcpload_schedule_lag_seconds", "How late arrivals started: actual start less intended start.")
	descFault   = newDesc("mcpload_fault_active", "1 while the scenario's fault window is open.", "fault")

	descCPU        = newDesc("mcpload_harness_cpu_cores", "Cores of CPU mcpload itself used over the last interval.")
	descGoroutines = newDesc("mcpload_harness_goroutines", "Goroutines alive in mcpload.")
	descHeap       = newDesc("mcpload_harness_heap_bytes", "mcpload's live heap and stacks.")
)

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// Metrics is a prometheus.Collector of the Hub's newest frame: each
// scrape reads the frame as it is, so the exporter adds nothing to the
// run between scrapes.
type Metrics struct {
	hub *Hub
	// scraped is the Seq of the newest frame a scrape has read.
	scraped atomic.Int64
}

// NewMetrics returns the collector of hub's frames.
func NewMetrics(hub *Hub) *Metrics { return &Metrics{hub: hub} }

// Handler serves the metrics in the exposition format the scraper asks
// for: text, or protobuf, which carries native histograms.
func (m *Metrics) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Scraped returns the Seq of the newest frame a scrape has read.
func (m *Metrics) Scraped() int64 { return m.scraped.Load() }

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descInfo, descFinished, descElapsed, descPlanned, descStarted, descConv, descInFlight, descTarget, descRate,
		descSteps, descAttempts, descRetries, descFallbacks, descHedges, descBudget, descOpens, descBreaker,
		descTokens, descCost, descLatency, descLag, descFault, descCPU, descGoroutines, descHeap,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	f := m.hub.Latest()
	if f == nil {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(descInfo, 1, f.Run, f.Scenario, f.Version)
	gauge(descFinished, b2f(f.Final))
	gauge(descElapsed, f.ElapsedS)
	gauge(descPlanned, f.PlannedS)

	c := f.Conversations
	counter(descStarted, float64(c.Started))
	counter(descConv, float64(c.OK), record.OutcomeOK)
	counter(descConv, float64(c.Dropped), record.OutcomeDropped)
	for outcome, n := range c.ByOutcome {
		if outcome != record.OutcomeOK && outcome != record.OutcomeDropped {
			counter(descConv, float64(n), outcome)
		}
	}
	gauge(descInFlight, float64(f.InFlight))
	gauge(descTarget, f.TargetRate)
	gauge(descRate, f.Rate)

	a := f.Attempts
	counter(descSteps, float64(a.Steps))
	for outcome, n := range a.ByOutcome {
		counter(descAttempts, float64(n), outcome)
	}
	counter(descRetries, float64(a.Retries))
	counter(descFallbacks, float64(a.Fallbacks))
	counter(descHedges, float64(a.Hedges))
	counter(descBudget, float64(a.BudgetExhausted))
	counter(descOpens, float64(a.BreakerOpens))
	for _, b := range f.Breakers {
		for _, s := range []string{record.BreakerClosed, record.BreakerOpen, record.BreakerHalfOpen} {
			gauge(descBreaker, b2f(b.State == s), b.Provider, s)
		}
	}

	counter(descTokens, float64(f.Tokens.Prompt), "prompt")
	counter(descTokens, float64(f.Tokens.Completion), "completion")
	counter(descTokens, float64(f.Tokens.Cached), "cached")
	if f.CostUSD != nil {
		counter(descCost, *f.CostUSD)
	}

	for _, d := range f.Latency {
		result := record.OutcomeOK
		if d.Failed {
			result = "failed"
		}
		ch <- newHistMetric(descLatency, d, d.Level, d.Key, result)
	}
	if f.ScheduleLag != nil {
		ch <- newHistMetric(descLag, f.ScheduleLag)
	}
	for _, w := range f.Faults {
		gauge(descFault, b2f(w.Active), w.Name)
	}
	if h := f.Harness; h != nil {
		gauge(descCPU, h.CPUCores)
		gauge(descGoroutines, float64(h.Goroutines))
		gauge(descHeap, float64(h.HeapBytes))
	}
	m.scraped.Store(f.Seq)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
