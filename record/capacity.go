package record

// CapacityFile is the capacity search's document in a capacity folder.
const CapacityFile = "capacity.json"

// CapacitySchema identifies the version of capacity.json's layout.
const CapacitySchema = "mcpload.capacity/v1"

// Capacity is capacity.json: the highest arrival rate at which a
// scenario's thresholds held, how it was found, and what that rate needs
// and costs. docs/capacity.md describes it and
// docs/schemas/capacity.schema.json is its schema.
type Capacity struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Version  string `json:"mcpload_version"`
	// Status is "found" (a bracket narrowed to the tolerance), "limited"
	// (max_rate passed: the answer is at least Rate), "none" (min_rate
	// failed) or "incomplete" (max_probes ran out, or interrupted).
	Status string `json:"status"`
	// Rate is the highest rate (conversations per second) whose probes
	// passed by a majority: the capacity.
	Rate float64 `json:"rate"`
	// Bracket is the last passing and the first failing rate of the
	// bisection.
	Bracket [2]float64 `json:"bracket"`
	// Interval is the bracket once the repeated probes at both its ends
	// voted for it (docs/capacity.md).
	Interval [2]float64 `json:"interval"`
	// Confidence is a lower bound on the chance that Interval holds the
	// boundary, if probes are independent: 1 less, for each end, the
	// binomial chance of its vote were the end on the other side; 0.75
	// when all 3 repeats agreed at both ends.
	Confidence float64 `json:"confidence"`
	// Tolerance is the relative width, (high-low)/low, the bisection
	// narrowed the bracket to.
	Tolerance float64 `json:"tolerance"`
	// Repeats is the fewest probes each end of the bracket got.
	Repeats int `json:"repeats"`
	// SLO lists the thresholds each probe was judged on.
	SLO []string `json:"slo"`
	// At is what the probes at Rate measured.
	At *CapacityAt `json:"at,omitempty"`
	// Probes lists every probe in the order it ran.
	Probes []CapacityProbe `json:"probes"`
	// Gates lists the --gate expressions and their verdicts.
	Gates []CapacityGate `json:"gates,omitempty"`
	// ElapsedS is how long the search took.
	ElapsedS float64 `json:"elapsed_s"`
	// Warnings say when the answer may be mcpload's limit rather than the
	// target's (see capacity.HarnessWarning).
	Warnings []string `json:"warnings,omitempty"`
}

// CapacityAt is what a capacity rate needs and yields, from its probes.
type CapacityAt struct {
	// Concurrency is Little's law: the rate times the mean conversation
	// latency, the conversations in flight the rate needs.
	Concurrency float64 `json:"concurrency"`
	// MeasuredInFlight is the mean of the conversations in flight the
	// probes saw after their warm-up, to check Concurrency against.
	MeasuredInFlight float64 `json:"measured_in_flight"`
	// GoodputPerS is ok conversations per second.
	GoodputPerS float64 `json:"goodput_per_s"`
	// TokensPerS is prompt plus completion tokens per second.
	TokensPerS float64 `json:"tokens_per_s"`
	// CostPerConversationUSD is the probes' cost per started
	// conversation; absent when they were not priced.
	CostPerConversationUSD *float64 `json:"cost_per_conversation_usd,omitempty"`
	// MonthlyCostUSD is CostPerConversationUSD at Rate for 30 days;
	// absent when the probes were not priced.
	MonthlyCostUSD *float64 `json:"monthly_cost_usd,omitempty"`
}

// CapacityProbe is one probe: a short open-model run at one rate.
type CapacityProbe struct {
	Rate float64 `json:"rate"`
	Pass bool    `json:"pass"`
	// Saturated is set when the probe was stopped early because its
	// backlog or schedule lag grew without bound; it counts as failed.
	Saturated bool `json:"saturated,omitempty"`
	// Reason says why a probe failed: the failed thresholds, the
	// saturation that stopped it, or its growing backlog.
	Reason string `json:"reason,omitempty"`
	// Dir is the probe's run folder, relative to the capacity folder.
	Dir string `json:"dir"`
	// P50MS is the median latency of ok conversations after the
	// warm-up, from their intended start, in ms.
	P50MS float64 `json:"p50_ms"`
	// P99MS is their 99th percentile, in ms.
	P99MS float64 `json:"p99_ms"`
	// MeanMS is their mean, in ms.
	MeanMS float64 `json:"mean_ms"`
	// Achieved is conversations started per second after the warm-up.
	Achieved float64 `json:"achieved"`
	// GoodputPerS is ok conversations per second after the warm-up.
	GoodputPerS float64 `json:"goodput_per_s"`
	// TokensPerS is prompt plus completion tokens per second of the run.
	TokensPerS float64 `json:"tokens_per_s"`
	// MeanInFlight is the mean of the conversations in flight after the
	// warm-up, sampled ten times a second.
	MeanInFlight float64 `json:"mean_in_flight"`
	// PeakInFlight is the most of them seen.
	PeakInFlight int64 `json:"peak_in_flight"`
	// LagS is how far the generator fell behind the schedule at worst,
	// in seconds.
	LagS float64 `json:"lag_s"`
	// CostPerConversationUSD is the run's cost per started
	// conversation; absent when it was not priced.
	CostPerConversationUSD *float64 `json:"cost_per_conversation_usd,omitempty"`
	// DurationS is how long the probe's run took, warm-up included.
	DurationS float64 `json:"duration_s"`
	// ScheduleLagP99MS is the run's own schedule lag p99 (summary.json
	// harness.schedule_lag), in ms; absent when the run had none.
	ScheduleLagP99MS float64 `json:"schedule_lag_p99_ms,omitempty"`
	// HarnessLimited is set when the run's self-check warned that mcpload,
	// not the target, was at its limit (lag p99 over 1 ms, or saturated).
	HarnessLimited bool `json:"harness_limited,omitempty"`
}

// CapacityGate is one --gate of a capacity search.
type CapacityGate struct {
	// Expr is the gate as written, such as "capacity.rate >= 500".
	Expr string `json:"expr"`
	Pass bool   `json:"pass"`
	// Measured is the value the gate tested.
	Measured float64 `json:"measured"`
	// Note says why a gate had no value to test (and failed).
	Note string `json:"note,omitempty"`
}
