// Package summary computes summary.json from a run folder: the counts and
// latencies, the resilience analysis and timeseries.json, the harness's
// check of itself, the MCP and gateway sections, the damage skipped, and
// the cost (package cost). It reads the files the attacker wrote (package
// runfolder) and never imports the attacker. The judges (packages
// thresholds and claims) fill the Thresholds and Claims it leaves empty;
// the renderers show it.
package summary

import (
	"fmt"
	"math"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/confidence"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/scenarios"
)

// SummarySchema identifies the version of summary.json's layout.
const SummarySchema = "mcpload.summary/v1"

// Summary is summary.json: what a run measured, in one document.
type Summary struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Kind     string `json:"kind"`
	Seed     int64  `json:"seed"`
	Version  string `json:"mcpload_version"`
	Status   string `json:"status"`
	// StopReason says why an aborted run stopped (see record.Run).
	StopReason string `json:"stop_reason,omitempty"`

	Started   time.Time `json:"started"`
	Ended     time.Time `json:"ended"`
	DurationS float64   `json:"duration_s"`
	PlannedS  float64   `json:"planned_s"`

	Rate          record.RunRate `json:"rate"`
	Conversations Conversations  `json:"conversations"`
	LatencyMS     Latencies      `json:"latency_ms"`
	// Streaming is the output rate of streamed answers, per model attempt
	// key; absent when no stream had one to measure.
	Streaming map[string]*Streaming `json:"streaming,omitempty"`
	Attempts  Attempts              `json:"attempts"`
	Tokens    record.Tokens         `json:"tokens"`

	InvalidToolArgs uint64 `json:"invalid_tool_args"`
	PeakInFlight    int64  `json:"peak_in_flight"`
	// Local is present when mcpload itself ran out of descriptors, memory
	// or ports: see Local.
	Local *Local `json:"local,omitempty"`
	// Harness is the harness's check of itself: see Harness. Absent for
	// runs that predate it.
	Harness *Harness `json:"harness,omitempty"`

	// Cost is null until a pricing catalog prices the run.
	Cost *cost.Cost `json:"cost"`
	// Thresholds lists each threshold expression with its measured value.
	Thresholds []Threshold `json:"thresholds"`
	// Claims lists the scenario's vendor claims with their verdicts.
	Claims []Claim `json:"claims,omitempty"`

	// Resilience is present when the run had faults, client policies or
	// policy events: see Resilience.
	Resilience *Resilience `json:"resilience,omitempty"`
	// Gateway is what AI gateways reported of the retries they made behind
	// the client and the load each upstream took (gateway.go).
	Gateway *Gateway `json:"gateway,omitempty"`
	// MCP is present when the run had JSON-RPC errors, progress
	// notifications or tool lists to measure: see MCP.
	MCP *MCP `json:"mcp,omitempty"`
	// Damaged is present when the run folder had damage that was skipped:
	// see Damaged.
	Damaged *Damaged `json:"damaged,omitempty"`
	// Proxied lists the targets the mock's fault proxy stood in front of.
	Proxied []Proxied `json:"proxied,omitempty"`
	// Warnings are what the run said loudly at its start (record.Run).
	Warnings []string `json:"warnings,omitempty"`

	// analysis is the resilience analysis, kept even when Resilience is
	// left out, for policy comparisons and timeseries.json.
	analysis *analysis
}

// Conversations counts units of work by fate.
type Conversations struct {
	record.Counts
	// SuccessRate is ok / (started + dropped), in percent.
	SuccessRate float64 `json:"success_rate"`
}

// Latencies holds one Stats per level, and per key within the step,
// attempt and stream levels. Failures are kept apart in the *_failed maps;
// the stream levels hold successes only (their failures are in the
// .failed.hgrm files).
type Latencies struct {
	Conversation       *Stats            `json:"conversation"`
	ConversationFailed *Stats            `json:"conversation_failed,omitempty"`
	Service            *Stats            `json:"service"`
	ServiceFailed      *Stats            `json:"service_failed,omitempty"`
	Step               map[string]*Stats `json:"step"`
	StepFailed         map[string]*Stats `json:"step_failed,omitempty"`
	Attempt            map[string]*Stats `json:"attempt"`
	AttemptFailed      map[string]*Stats `json:"attempt_failed,omitempty"`
	TTFT               map[string]*Stats `json:"ttft,omitempty"`
	// The stream levels, per model attempt key (README "Streaming
	// metrics"): the first tool-call event, the tool-call arguments
	// complete, every gap between output events, and the time per output
	// token after the first event.
	FirstToolCall    map[string]*Stats `json:"first_tool_call,omitempty"`
	ToolArgsComplete map[string]*Stats `json:"tool_args_complete,omitempty"`
	InterToken       map[string]*Stats `json:"inter_token,omitempty"`
	TPOT             map[string]*Stats `json:"tpot,omitempty"`
}

// Streaming is the output rate of one model attempt key's streams: the ok
// streamed attempts with at least two output events and two completion
// tokens, those that have a TPOT.
type Streaming struct {
	Streams          int64 `json:"streams"`
	CompletionTokens int64 `json:"completion_tokens"`
	// GenerationS sums their generation times, first output event to
	// last.
	GenerationS float64 `json:"generation_s"`
	// OutputTokensPerS is (CompletionTokens - Streams) / GenerationS: a
	// ratio of sums, so long streams weigh as their tokens do, and one
	// token per stream is the first event's, as TPOT's n-1 has it.
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
	// PerStream is the distribution of each stream's own rate, 1/TPOT,
	// from the TPOT histogram: P10 is the rate 90% of streams beat.
	PerStream *RateStats `json:"per_stream,omitempty"`
}

// RateStats is a distribution of rates per second, its slow end in the low
// percentiles.
type RateStats struct {
	P50 float64 `json:"p50"`
	P10 float64 `json:"p10"`
	P1  float64 `json:"p1"`
}

// Stats describes one latency distribution in milliseconds.
type Stats struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

// Attempts counts HTTP attempts.
type Attempts struct {
	record.AttemptCounts
	// Amplification is attempts per logical step: 1.0 means no retries.
	Amplification float64 `json:"amplification"`
	// ByRPCCode counts the attempts an MCP server answered with a
	// JSON-RPC error, by code ("-32601"); mcp.rpc_errors names them.
	ByRPCCode map[string]uint64 `json:"by_rpc_code,omitempty"`
}

// Threshold is one CI gate and its verdict.
type Threshold struct {
	Expr string `json:"expr"`
	// Value is the measured value in the metric's base unit (ms, percent,
	// count, per second, USD); 0 when there is none (see Note).
	Value float64 `json:"value"`
	Pass  bool    `json:"pass"`
	// Measured is Value with its unit, as in "2.41s"; empty when the
	// metric had no value.
	Measured string `json:"measured,omitempty"`
	// Limit is the limit as the expression writes it, as in "2s".
	Limit string `json:"limit,omitempty"`
	// Note says why there is no value, or which key decided.
	Note string `json:"note,omitempty"`
}

// Claim verdicts.
const (
	ClaimHolds        = "holds"
	ClaimRefuted      = "refuted"
	ClaimInconclusive = "inconclusive"
)

// Claim is one vendor claim of the scenario and its verdict.
type Claim struct {
	Name   string `json:"name"`
	Source string `json:"source,omitempty"`
	Expect string `json:"expect"`
	// Verdict is holds when the whole 95% interval satisfies Expect,
	// refuted when the whole interval breaks it, inconclusive otherwise
	// (and when there was nothing to measure).
	Verdict string `json:"verdict"`
	// Interval is the measured value and its 95% interval, in the
	// metric's base unit (ms, percent).
	Interval confidence.Interval `json:"interval"`
	// Measured is the estimate with its unit, and Range the interval,
	// as in "41.2ms" and "[39.8ms, 42.9ms]".
	Measured string `json:"measured,omitempty"`
	Range    string `json:"range,omitempty"`
	// Note says why a claim is inconclusive, or which key decided.
	Note string `json:"note,omitempty"`
}

// StatsOf summarises h, whose values are microseconds.
func StatsOf(h *hdrhistogram.Histogram) *Stats {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	ms := func(us int64) float64 { return Round3(float64(us) / runfolder.USPerMS) }
	return &Stats{
		Count: h.TotalCount(),
		Mean:  Round3(h.Mean() / runfolder.USPerMS),
		Min:   ms(h.Min()),
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P95:   ms(h.ValueAtQuantile(95)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}

// Value reads the statistic name of st: p50, p90, p95, p99, p999, mean,
// min, max or count; ok is false for any other name.
func (st *Stats) Value(name string) (v float64, ok bool) {
	switch name {
	case "p50":
		return st.P50, true
	case "p90":
		return st.P90, true
	case "p95":
		return st.P95, true
	case "p99":
		return st.P99, true
	case "p999":
		return st.P999, true
	case "mean":
		return st.Mean, true
	case "min":
		return st.Min, true
	case "max":
		return st.Max, true
	case "count":
		return float64(st.Count), true
	}
	return 0, false
}

// Round3 rounds v to three decimals, as summary.json's figures are.
func Round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Summarize builds the summary of the run in dir, priced and projected as
// the cost: section of its scenario.yaml says.
func Summarize(dir string) (*Summary, runfolder.Histograms, error) {
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, nil, err
	}
	var c *scenarios.Cost
	if sc != nil {
		c = sc.Cost
	}
	o, err := cost.NewOptions(c)
	if err != nil {
		return nil, nil, fmt.Errorf("price %s: %w", dir, err)
	}
	return SummarizeWith(dir, o)
}

// SummarizeWith is Summarize with the cost options o in place of the
// scenario's, as `mcpload cost` overrides them.
func SummarizeWith(dir string, o cost.Options) (*Summary, runfolder.Histograms, error) {
	run, err := runfolder.ReadRun(dir)
	if err != nil {
		return nil, nil, err
	}
	hs, badIntervals, err := runfolder.ReadHistogramsDamaged(dir)
	if err != nil {
		return nil, nil, err
	}
	an, err := analyze(dir, run)
	if err != nil {
		return nil, nil, err
	}
	s := NewSummary(run, hs)
	s.analysis = an
	an.damaged.HistogramIntervals = badIntervals
	s.Damaged = an.damaged.orNil()
	if an.relevant {
		s.Resilience = an.res
	}
	s.Gateway = an.gateway.summary()
	res := s.Resilience
	if res == nil {
		res = an.res
	}
	priced := cost.Measured{Started: s.Conversations.Started, OK: s.Conversations.OK, Usage: an.models}
	if res != nil {
		priced.TokensSaved = res.Cache.TokensSaved
	}
	if s.Cost, err = cost.Project(dir, priced, o); err != nil {
		return nil, nil, err
	}
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, nil, err
	}
	if s.MCP, s.Attempts.ByRPCCode, err = summarizeMCP(dir, sc, o.Catalog); err != nil {
		return nil, nil, err
	}
	s.Proxied = proxiedTargets(sc)
	return s, hs, nil
}

// NewSummary combines a run's counters and histograms.
func NewSummary(run *record.Run, hs runfolder.Histograms) *Summary {
	s := &Summary{
		Schema:        SummarySchema,
		Scenario:      run.Scenario,
		Kind:          run.Kind,
		Seed:          run.Seed,
		Version:       run.Version,
		Status:        run.Status,
		StopReason:    run.StopReason,
		Warnings:      run.Warnings,
		Started:       run.Started,
		Ended:         run.Ended,
		PlannedS:      run.Planned.Seconds(),
		Conversations: Conversations{Counts: run.Conversations},
		Attempts:      Attempts{AttemptCounts: run.Attempts},
		Tokens:        run.Tokens,

		InvalidToolArgs: run.InvalidToolArgs,
		PeakInFlight:    run.PeakInFlight,
		Thresholds:      []Threshold{},
	}
	if !run.Ended.IsZero() {
		s.DurationS = Round3(run.Ended.Sub(run.Started).Seconds())
	}
	c := run.Conversations
	if offered := c.Started + c.Dropped; offered > 0 {
		s.Conversations.SuccessRate = Round3(100 * float64(c.OK) / float64(offered))
	}
	if run.Attempts.Steps > 0 {
		s.Attempts.Amplification = Round3(float64(run.Attempts.StepAttempts) / float64(run.Attempts.Steps))
	}
	s.Rate = record.RunRate{Target: Round3(run.Rate.Target), Achieved: Round3(run.Rate.Achieved), Throughput: Round3(run.Rate.Throughput)}
	s.LatencyMS = latencies(hs)
	s.Streaming = streaming(run.Streams, hs)
	s.Local = localOf(run)
	s.Harness = harnessOf(run, hs)
	return s
}

// streaming builds the output rates from the run's stream sums and the
// TPOT histograms.
func streaming(sums map[string]record.StreamTotals, hs runfolder.Histograms) map[string]*Streaming {
	if len(sums) == 0 {
		return nil
	}
	out := make(map[string]*Streaming, len(sums))
	for key, t := range sums {
		if t.Streams == 0 || t.GenerationUS <= 0 {
			continue
		}
		st := &Streaming{
			Streams:          t.Streams,
			CompletionTokens: t.CompletionTokens,
			GenerationS:      Round3(float64(t.GenerationUS) / 1e6),
			OutputTokensPerS: Round3(float64(t.CompletionTokens-t.Streams) / (float64(t.GenerationUS) / 1e6)),
		}
		if h := hs[record.Tag(record.LevelTPOT, key)]; h != nil && h.TotalCount() > 0 {
			// A stream's rate is 1/TPOT, so its p-th percentile is the
			// inverse of TPOT's (100-p)-th.
			rate := func(q float64) float64 { return Round3(1e6 / float64(max(h.ValueAtQuantile(q), 1))) }
			st.PerStream = &RateStats{P50: rate(50), P10: rate(90), P1: rate(99)}
		}
		out[key] = st
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// latencies sorts histograms into levels by their tags (see record.Tag).
func latencies(hs runfolder.Histograms) Latencies {
	l := Latencies{
		Step:          map[string]*Stats{},
		StepFailed:    map[string]*Stats{},
		Attempt:       map[string]*Stats{},
		AttemptFailed: map[string]*Stats{},
		TTFT:          map[string]*Stats{},
	}
	for tag, h := range hs {
		st := StatsOf(h)
		if st == nil {
			continue
		}
		base, failed := strings.CutSuffix(tag, record.FailedSuffix)
		level, key, _ := strings.Cut(base, ".")
		switch {
		case level == record.LevelConversation && key == "":
			if failed {
				l.ConversationFailed = st
			} else {
				l.Conversation = st
			}
		case level == record.LevelService && key == "":
			if failed {
				l.ServiceFailed = st
			} else {
				l.Service = st
			}
		case level == record.LevelStep:
			pick(l.Step, l.StepFailed, failed)[key] = st
		case level == record.LevelAttempt:
			pick(l.Attempt, l.AttemptFailed, failed)[key] = st
		case level == record.LevelTTFT && !failed:
			l.TTFT[key] = st
		case failed:
		case level == record.LevelFirstToolCall:
			l.FirstToolCall = put(l.FirstToolCall, key, st)
		case level == record.LevelToolArgsComplete:
			l.ToolArgsComplete = put(l.ToolArgsComplete, key, st)
		case level == record.LevelInterToken:
			l.InterToken = put(l.InterToken, key, st)
		case level == record.LevelTPOT:
			l.TPOT = put(l.TPOT, key, st)
		}
	}
	return l
}

// put sets m[key], making m on first use, so that a run without streams
// has no stream maps at all.
func put(m map[string]*Stats, key string, st *Stats) map[string]*Stats {
	if m == nil {
		m = map[string]*Stats{}
	}
	m[key] = st
	return m
}

func pick(ok, failed map[string]*Stats, isFailed bool) map[string]*Stats {
	if isFailed {
		return failed
	}
	return ok
}

// Analyzed returns the resilience analysis of the run, whether or not the
// summary shows it (Resilience); nil for a summary not built from a run
// folder by Summarize.
func (s *Summary) Analyzed() *Resilience {
	if s.analysis == nil {
		return nil
	}
	return s.analysis.res
}

// Series returns the run's per-second series, for timeseries.json; nil
// for a summary not built from a run folder by Summarize.
func (s *Summary) Series() *Timeseries {
	if s.analysis == nil {
		return nil
	}
	return s.analysis.series
}

// ClaimCounts returns what the claims count of attempts.jsonl (see
// ClaimCounts); nil for a summary not built from a run folder by
// Summarize.
func (s *Summary) ClaimCounts() *ClaimCounts {
	if s.analysis == nil {
		return nil
	}
	return s.analysis.claims
}
