package summary

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/scenarios"
)

// Resilience is summary.json's "resilience" key: how the fault timeline and
// the client's policies shaped the run. It is present when the run had
// faults, client policies or policy events, and absent otherwise.
//
// Times are in seconds from the start of the run (run.json's started, the
// mock's fault epoch). Loads are HTTP attempts per second, counted in 1-s
// intervals by the second each attempt was sent. Conversations are counted
// in the second of their intended start, so a conversation that started in
// a fault window and failed after it counts in the window.
type Resilience struct {
	// Amplification is step attempts per logical step over the run (1 = no
	// retries, hedges or fallbacks); Steps and StepAttempts are its terms.
	// MCP session set-up is no step and is left out.
	Amplification float64 `json:"amplification"`
	Steps         uint64  `json:"steps"`
	StepAttempts  uint64  `json:"step_attempts"`
	// RetriesByReason counts retries by the outcome class that caused them.
	RetriesByReason map[string]uint64 `json:"retries_by_reason"`
	// Fallbacks counts steps moved along the fallback chain; FallbackRoutes
	// counts them by "FROM->TO" provider.
	Fallbacks      uint64            `json:"fallbacks"`
	FallbackRoutes map[string]uint64 `json:"fallback_routes,omitempty"`
	// BreakerOpens counts transitions of any breaker to open, and Breaker
	// lists every transition in time order.
	BreakerOpens uint64          `json:"breaker_opens"`
	Breaker      []BreakerChange `json:"breaker"`
	// BudgetExhausted counts retries the retry budget refused.
	BudgetExhausted uint64 `json:"budget_exhausted"`
	// Hedges counts hedged attempts sent.
	Hedges uint64 `json:"hedges"`
	// Cache is the response cache's effect.
	Cache CacheEffect `json:"cache"`

	// Conversations counts conversations (or MCP-direct operations) by fate
	// and cause, from results.bin.
	Conversations Fates `json:"conversations"`
	// Goodput counts the conversations that succeeded in time.
	Goodput Goodput `json:"goodput"`
	// Tokens is what the run spent, failed attempts included.
	Tokens TokenSpend `json:"tokens"`

	// Offered is the load offered to each target ("provider:NAME",
	// "tool:NAME") over the whole run; OfferedOutsideFaults over the
	// seconds that no fault window covers, the yardstick for each window's
	// Offered.
	Offered              map[string]Load `json:"offered"`
	OfferedOutsideFaults map[string]Load `json:"offered_outside_faults"`
	// FailingTargets are the Offered keys that faults target, and the
	// providers the mock rate-limits.
	FailingTargets []string `json:"failing_targets"`

	// BaselineSuccess is the conversation success ratio (0-1) of the
	// seconds before the first fault window, null when there are none.
	// RecoveryThreshold is the ratio a second must reach to count as
	// recovered: the baseline, but at most 0.99, so that one stray failure
	// of a 100% baseline does not read as an outage.
	BaselineSuccess   *float64 `json:"baseline_success"`
	RecoveryThreshold float64  `json:"recovery_threshold"`
	// Faults has one entry per fault of the timeline, in scenario order.
	Faults []FaultWindow `json:"faults"`

	// Series is the file that holds the per-second series (timeseries.json).
	Series string `json:"series"`
}

// BreakerChange is one transition of a provider's circuit breaker.
type BreakerChange struct {
	// T is when, in seconds from the start of the run.
	T        float64 `json:"t_s"`
	Provider string  `json:"provider"`
	From     string  `json:"from,omitempty"`
	To       string  `json:"to"`
}

// CacheEffect is what the response cache saved.
type CacheEffect struct {
	Hits   uint64 `json:"hits"`
	Misses uint64 `json:"misses"`
	// HitRate is Hits / (Hits + Misses), 0-1.
	HitRate float64 `json:"hit_rate"`
	// TokensSaved estimates the tokens the hits did not spend: hits times
	// the mean prompt+completion tokens of a successful model attempt. It
	// is what a pricing catalog turns into money saved.
	TokensSaved int64 `json:"tokens_saved_estimate"`
}

// Fates counts conversations by what became of them.
type Fates struct {
	// Offered is every conversation due to start: started plus dropped.
	Offered uint64 `json:"offered"`
	OK      uint64 `json:"ok"`
	Failed  uint64 `json:"failed"`
	Dropped uint64 `json:"dropped"`
	// ByCause counts failed conversations by outcome class (timeout, 429,
	// 5xx, connection, protocol, tool_error, canceled...) and dropped ones
	// under "dropped".
	ByCause map[string]uint64 `json:"by_cause"`
	// SuccessRate is OK / Offered, in percent.
	SuccessRate float64 `json:"success_rate"`
}

// Goodput is the work done in time: ok conversations whose latency, from
// intended start to final answer, is within the limit.
type Goodput struct {
	// LimitS is the limit, in seconds: client.conversation_timeout when set,
	// else client.timeout.
	LimitS float64 `json:"limit_s"`
	Count  uint64  `json:"count"`
	// RatePerS is Count over the run's duration.
	RatePerS float64 `json:"rate_per_s"`
	// Share is Count / offered conversations, in percent.
	Share float64 `json:"share"`
}

// TokenSpend counts tokens reported by providers, per attempt, so that a
// failed attempt that reported usage counts too.
type TokenSpend struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
	Cached     int64 `json:"cached"`
	// FailedPrompt and FailedCompletion are the part spent on attempts that
	// failed: paid for, and thrown away.
	FailedPrompt     int64 `json:"failed_prompt"`
	FailedCompletion int64 `json:"failed_completion"`
}

// Load is the load offered to one target over a span of seconds.
type Load struct {
	// Attempts counts attempts sent in the span, Failed those that failed.
	Attempts uint64 `json:"attempts"`
	Failed   uint64 `json:"failed"`
	// PeakRPS is the most attempts sent in one 1-s interval; MeanRPS is
	// Attempts over the span's seconds.
	PeakRPS float64 `json:"peak_rps"`
	MeanRPS float64 `json:"mean_rps"`
}

// FaultWindow is what happened during one fault of the timeline, and after.
type FaultWindow struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Kind   string `json:"kind"`
	// FromS and EndS bound the window, in seconds from the start of the
	// run. ToEnd marks a fault without `for`, which lasts to the end of the
	// run (EndS is then the run's end).
	FromS float64 `json:"from_s"`
	EndS  float64 `json:"end_s"`
	ToEnd bool    `json:"to_end,omitempty"`
	// Offered is the load offered to every target during the window.
	Offered map[string]Load `json:"offered"`
	// Amplification is attempts per step, of the steps that started in the
	// window.
	Amplification float64 `json:"amplification"`
	// Conversations counts the conversations due to start in the window.
	Conversations Fates `json:"conversations"`
	// Goodput counts those that succeeded in time.
	Goodput uint64 `json:"goodput"`
	// RetriesByReason and Fallbacks count the policy events of the window.
	RetriesByReason map[string]uint64 `json:"retries_by_reason"`
	Fallbacks       uint64            `json:"fallbacks"`
	// Recovered says whether success came back after the window, and
	// RecoveryS how long after EndS: the time until the first second from
	// which the success ratio stays at RecoveryThreshold for 3 consecutive
	// seconds. A second with n conversations meets the threshold t unless
	// its successes fall more than two binomial standard deviations,
	// 2*sqrt(n*t*(1-t)), short of t*n, so that chance failures of a healthy
	// provider do not read as an outage; seconds with no conversation are
	// skipped. Null when it never came back within the run, or when the
	// window lasts to the end.
	Recovered bool     `json:"recovered"`
	RecoveryS *float64 `json:"recovery_s"`
}

// Analysis knobs.
const (
	// recoveryStreak is how many consecutive good seconds mark recovery.
	recoveryStreak = 3
	// maxRecoveryThreshold caps the recovery threshold.
	maxRecoveryThreshold = 0.99
	// recoverySigmas is how far below the threshold, in binomial standard
	// deviations, a second may fall by chance and still count as recovered.
	recoverySigmas = 2.0
	// stepHorizon is how long, in seconds, a step's start is remembered
	// while its retries may still come: retries of the seed's policy span
	// about 5 minutes (60 s x attempt after a 429, progressive timeouts).
	// It bounds the memory of a long run by its rate, not its length.
	stepHorizon = 15 * 60
	// maxRunSeconds bounds the series of a run with no end time, against a
	// corrupt timestamp: a week.
	maxRunSeconds = 7 * 24 * 3600
)

// analysis is the resilience analysis of one run folder: the per-run
// figures, the per-second series, and whether the run had anything to do
// with resilience at all.
type analysis struct {
	res      *Resilience
	series   *Timeseries
	relevant bool
	// models sums the tokens of model attempts, for pricing, so that
	// attempts.jsonl is read once.
	models cost.ModelUsage
	// claims counts what claims test: availability and cost by bucket.
	claims *ClaimCounts
	// damaged counts what the pass over the run's records skipped.
	damaged Damaged
	// gateway sums what gateways reported behind the client (gateway.go).
	gateway *gatewayCounts
}

// stepID names one logical step.
type stepID struct {
	conv uint64
	step int
}

// analyzer accumulates per-second counts while the run's files stream by.
type analyzer struct {
	models  cost.ModelUsage
	gateway gatewayCounts
	claims  ClaimCounts
	t0      time.Time
	limit   int // the last usable second index

	maxSec int
	seen   bool // any record at all

	// Attempts.
	steps, stepAttempts series
	offered, offFailed  seriesMap
	tokPrompt, tokComp  series
	tokCached           series
	tokens              TokenSpend
	okModelAttempts     uint64
	okModelTokens       int64
	totalSteps          uint64
	totalStepAttempts   uint64
	pending             map[stepID]int
	lastSweep           int
	providerModels      map[string]map[string]bool // provider -> models seen

	// Events.
	retries                seriesMap
	retriesByReason        map[string]uint64
	fallbacks, budget      series
	hedges, cacheHits      series
	fallbackRoutes         map[string]uint64
	nFallbacks, nBudget    uint64
	nHedges, nCacheHits    uint64
	nBreakerOpens, nEvents uint64
	breaker                []BreakerChange

	// Conversations.
	convOffered, convOK, convFailed series
	convDropped, convGood           series
	convByCause                     seriesMap
	goodLimit                       time.Duration
	inFlight                        inFlight

	// attemptOutcomes counts attempts by outcome class.
	attemptOutcomes seriesMap
}

func newAnalyzer(run *record.Run) *analyzer {
	a := &analyzer{
		models:          cost.ModelUsage{},
		t0:              run.Started,
		limit:           maxRunSeconds,
		offered:         seriesMap{},
		offFailed:       seriesMap{},
		pending:         map[stepID]int{},
		providerModels:  map[string]map[string]bool{},
		retries:         seriesMap{},
		retriesByReason: map[string]uint64{},
		fallbackRoutes:  map[string]uint64{},
		convByCause:     seriesMap{},
		attemptOutcomes: seriesMap{},
	}
	if !run.Ended.IsZero() && run.Ended.After(run.Started) {
		// Nothing starts after the end: anything later is clock skew, and
		// goes in the last interval.
		// A corrupt run.json may end centuries later: the bound on a
		// run's length bounds the series too.
		a.limit = min(max(int(math.Ceil(run.Ended.Sub(run.Started).Seconds()))-1, 0), maxRunSeconds)
	}
	a.inFlight.limit = (a.limit + 1) * int(time.Second/inFlightBin)
	return a
}

// sec is the interval index of t.
func (a *analyzer) sec(t time.Time) int {
	d := t.Sub(a.t0)
	if d < 0 {
		return 0
	}
	i := int(d / time.Second)
	if i > a.limit {
		i = a.limit
	}
	a.maxSec = max(a.maxSec, i)
	a.seen = true
	return i
}

// targetOf maps an attempt key to its offered-load key: the provider of a
// model attempt, the tool of a tool call. Session set-up has none.
func (a *analyzer) targetOf(at *record.Attempt) string {
	if at.Kind == record.KindSession || at.Kind == record.KindServerRequest {
		return ""
	}
	if rest, ok := strings.CutPrefix(at.Key, record.StepModel+":"); ok {
		provider, model, _ := strings.Cut(rest, "/")
		ms, ok := a.providerModels[provider]
		if !ok {
			ms = map[string]bool{}
			a.providerModels[provider] = ms
		}
		ms[model] = true
		return scenarios.TargetProvider + provider
	}
	return at.Key
}

func (a *analyzer) attempt(at *record.Attempt) {
	a.models.Add(at)
	a.gateway.add(at)
	a.claims.add(at)
	tokens := int64(at.PromptTokens) + int64(at.CompletionTokens)
	a.tokens.Prompt += int64(at.PromptTokens)
	a.tokens.Completion += int64(at.CompletionTokens)
	a.tokens.Cached += int64(at.CachedTokens)
	failed := at.Outcome != record.OutcomeOK
	if failed {
		a.tokens.FailedPrompt += int64(at.PromptTokens)
		a.tokens.FailedCompletion += int64(at.CompletionTokens)
	} else if at.Kind == record.StepModel {
		a.okModelAttempts++
		a.okModelTokens += tokens
	}
	i := a.sec(at.Start)
	a.attemptOutcomes.add(at.Outcome, i, 1)
	a.tokPrompt.add(i, uint64(max(at.PromptTokens, 0)))
	a.tokComp.add(i, uint64(max(at.CompletionTokens, 0)))
	a.tokCached.add(i, uint64(max(at.CachedTokens, 0)))

	target := a.targetOf(at)
	if target == "" {
		return
	}
	a.offered.add(target, i, 1)
	if failed {
		a.offFailed.add(target, i, 1)
	}

	// Attribute the attempt to the second its step started: a retry sent
	// later still belongs to the step's interval, so that per-second
	// amplification reads "what the steps started now cost".
	id := stepID{at.Conversation, at.Step}
	stepSec := i
	if at.Attempt > 1 {
		if s, ok := a.pending[id]; ok {
			stepSec = s
		}
	} else {
		a.steps.add(i, 1)
		a.totalSteps++
	}
	a.stepAttempts.add(stepSec, 1)
	a.totalStepAttempts++
	switch {
	case failed && at.Attempt <= 1:
		a.pending[id] = i
	case !failed:
		delete(a.pending, id)
	}
	if i-a.lastSweep >= 60 {
		a.lastSweep = i
		for id, s := range a.pending {
			if i-s > stepHorizon {
				delete(a.pending, id)
			}
		}
	}
}

func (a *analyzer) event(e *record.Event) {
	a.nEvents++
	i := a.sec(e.Time)
	switch e.Kind {
	case record.EventRetry:
		reason := e.Reason
		if reason == "" {
			reason = "unknown"
		}
		a.retries.add(reason, i, 1)
		a.retriesByReason[reason]++
	case record.EventFallback:
		a.fallbacks.add(i, 1)
		a.nFallbacks++
		a.fallbackRoutes[e.Provider+"->"+e.To]++
	case record.EventBudgetExhausted:
		a.budget.add(i, 1)
		a.nBudget++
	case record.EventHedge:
		a.hedges.add(i, 1)
		a.nHedges++
	case record.EventCacheHit:
		a.cacheHits.add(i, 1)
		a.nCacheHits++
	case record.EventBreaker:
		if e.To == record.BreakerOpen {
			a.nBreakerOpens++
		}
		a.breaker = append(a.breaker, BreakerChange{
			T:        Round3(max(e.Time.Sub(a.t0), 0).Seconds()),
			Provider: e.Provider,
			From:     e.From,
			To:       e.To,
		})
	}
}

func (a *analyzer) result(r *vegeta.Result) {
	i := a.sec(r.Timestamp)
	a.convOffered.add(i, 1)
	if r.Latency > 0 {
		// Dropped conversations (latency 0) never were in flight.
		from := r.Timestamp.Sub(a.t0)
		a.inFlight.add(from, from+r.Latency)
	}
	switch {
	case r.Error == "":
		a.convOK.add(i, 1)
		if r.Latency <= a.goodLimit {
			a.convGood.add(i, 1)
		}
	default:
		cause, _, _ := strings.Cut(r.Error, ":")
		cause = strings.TrimSpace(cause)
		if cause == record.OutcomeDropped {
			a.convDropped.add(i, 1)
		} else {
			a.convFailed.add(i, 1)
		}
		a.convByCause.add(cause, i, 1)
	}
}

// window is a fault window in interval indexes: [from, to).
type window struct {
	fault      scenarios.Fault
	fromS, toS float64
	from, to   int
	toEnd      bool
}

// analyze reads the run folder dir and computes its resilience figures and
// per-second series.
func analyze(dir string, run *record.Run) (*analysis, error) {
	sc, err := runfolder.ReadScenario(dir)
	if err != nil {
		return nil, err
	}
	a := newAnalyzer(run)
	a.goodLimit = scenarios.DefaultTimeout
	if sc != nil {
		a.goodLimit = goodputLimit(sc.Client)
	}
	var damaged Damaged
	da, err := runfolder.EachJSONLine(dir, record.AttemptsFile, a.attempt)
	if err != nil {
		return nil, err
	}
	de, err := runfolder.EachJSONLine(dir, record.EventsFile, a.event)
	if err != nil {
		return nil, err
	}
	dr, err := runfolder.EachResult(dir, a.result)
	if err != nil {
		return nil, err
	}
	damaged.AttemptLines, damaged.AttemptBytes = da.Lines, da.Bytes
	damaged.EventLines = de.Lines
	damaged.ResultRecords, damaged.ResultBytes = dr.Records, dr.Bytes

	// The run's length in whole intervals: its end, or the last record.
	n := 0
	if a.seen {
		n = a.maxSec + 1
	}
	if !run.Ended.IsZero() && run.Ended.After(run.Started) {
		n = max(n, int(math.Ceil(run.Ended.Sub(run.Started).Seconds())))
	}
	n = min(n, a.limit+1) // a corrupt run.json's end, as in newAnalyzer
	runS := float64(n)
	if !run.Ended.IsZero() && run.Ended.After(run.Started) {
		runS = run.Ended.Sub(run.Started).Seconds()
	}

	var faults []scenarios.Fault
	if sc != nil {
		faults = sc.Faults
	}
	windows := make([]window, len(faults))
	for k, f := range faults {
		w := window{fault: f, fromS: f.From.D().Seconds()}
		if f.Name == "" {
			w.fault.Name = f.Kind + "@" + f.Target
		}
		if f.For > 0 {
			w.toS = w.fromS + f.For.D().Seconds()
		} else {
			w.toS, w.toEnd = max(runS, w.fromS), true
		}
		w.from = int(math.Floor(w.fromS))
		w.to = max(int(math.Ceil(w.toS)), w.from)
		windows[k] = w
	}

	res := a.resilience(run, sc, windows, n, runS)
	ts := a.timeseries(run, windows, n)
	return &analysis{res: res, series: ts, relevant: len(faults) > 0 || hasPolicy(sc) || a.nEvents > 0, models: a.models, claims: &a.claims, damaged: damaged, gateway: &a.gateway}, nil
}

// goodputLimit is the latency within which an ok conversation counts as
// goodput.
func goodputLimit(c scenarios.Client) time.Duration {
	if c.ConversationTimeout > 0 {
		return c.ConversationTimeout.D()
	}
	if c.Timeout > 0 {
		return c.Timeout.D()
	}
	return scenarios.DefaultTimeout
}

// hasPolicy reports whether the scenario's client has any resilience
// policy beyond plain timeouts.
func hasPolicy(sc *scenarios.Scenario) bool {
	if sc == nil {
		return false
	}
	c := sc.Client
	return c.Retry != nil || c.Budget != nil || c.Breaker != nil || len(c.Fallback) > 0 ||
		c.Hedge != nil || c.Cache != nil || c.ConversationTimeout > 0 || len(sc.Policies) > 0
}

func (a *analyzer) resilience(run *record.Run, sc *scenarios.Scenario, windows []window, n int, runS float64) *Resilience {
	// run.json's counters are exact even when events.jsonl is cut short;
	// the events stand in for a counter the attacker did not keep.
	counters := run.Attempts
	r := &Resilience{
		Steps:           prefer(counters.Steps, a.totalSteps),
		StepAttempts:    prefer(counters.StepAttempts, a.totalStepAttempts),
		RetriesByReason: a.retriesByReason,
		Fallbacks:       prefer(counters.Fallbacks, a.nFallbacks),
		FallbackRoutes:  a.fallbackRoutes,
		BreakerOpens:    prefer(counters.BreakerOpens, a.nBreakerOpens),
		Breaker:         a.breakerTimeline(),
		BudgetExhausted: prefer(counters.BudgetExhausted, a.nBudget),
		Hedges:          prefer(counters.Hedges, a.nHedges),
		Tokens:          a.tokens,
		Series:          TimeseriesFile,
		Faults:          []FaultWindow{},
	}
	if len(counters.RetriesByReason) > 0 {
		r.RetriesByReason = counters.RetriesByReason
	}
	if len(r.FallbackRoutes) == 0 {
		r.FallbackRoutes = nil
	}
	if r.Steps > 0 {
		r.Amplification = Round3(float64(r.StepAttempts) / float64(r.Steps))
	}

	hits := prefer(counters.CacheHits, a.nCacheHits)
	r.Cache = CacheEffect{Hits: hits, Misses: counters.CacheMisses}
	if hits+counters.CacheMisses > 0 {
		r.Cache.HitRate = Round3(float64(hits) / float64(hits+counters.CacheMisses))
	}
	if a.okModelAttempts > 0 {
		r.Cache.TokensSaved = int64(math.Round(float64(hits) * float64(a.okModelTokens) / float64(a.okModelAttempts)))
	}

	r.Conversations = a.fates(0, n)
	r.Goodput = Goodput{LimitS: Round3(a.goodLimit.Seconds()), Count: a.convGood.sum(0, n)}
	if runS > 0 {
		r.Goodput.RatePerS = Round3(float64(r.Goodput.Count) / runS)
	}
	if r.Conversations.Offered > 0 {
		r.Goodput.Share = Round3(100 * float64(r.Goodput.Count) / float64(r.Conversations.Offered))
	}

	// Offered load, whole run and outside every fault window.
	r.Offered = map[string]Load{}
	for target := range a.offered {
		r.Offered[target] = a.load(target, 0, n)
	}
	inFault := make([]bool, n)
	for _, w := range windows {
		for i := max(w.from, 0); i < min(w.to, n); i++ {
			inFault[i] = true
		}
	}
	r.OfferedOutsideFaults = map[string]Load{}
	for target := range a.offered {
		r.OfferedOutsideFaults[target] = a.loadWhere(target, n, func(i int) bool { return !inFault[i] })
	}
	r.FailingTargets = a.failingTargets(sc, windows)

	// Recovery is judged against how the run did before any fault.
	r.RecoveryThreshold = maxRecoveryThreshold
	if len(windows) > 0 {
		first := windows[0].from
		for _, w := range windows {
			first = min(first, w.from)
		}
		if before := a.convOffered.sum(0, first); before > 0 {
			b := Round3(float64(a.convOK.sum(0, first)) / float64(before))
			r.BaselineSuccess = &b
			r.RecoveryThreshold = min(b, maxRecoveryThreshold)
		}
	}

	for _, w := range windows {
		fw := FaultWindow{
			Name:            w.fault.Name,
			Target:          w.fault.Target,
			Kind:            w.fault.Kind,
			FromS:           Round3(w.fromS),
			EndS:            Round3(w.toS),
			ToEnd:           w.toEnd,
			Offered:         map[string]Load{},
			Conversations:   a.fates(w.from, w.to),
			Goodput:         a.convGood.sum(w.from, w.to),
			Fallbacks:       a.fallbacks.sum(w.from, w.to),
			RetriesByReason: map[string]uint64{},
		}
		for reason, s := range a.retries {
			if c := s.sum(w.from, w.to); c > 0 {
				fw.RetriesByReason[reason] = c
			}
		}
		for target := range a.offered {
			fw.Offered[target] = a.load(target, w.from, min(w.to, n))
		}
		if steps := a.steps.sum(w.from, w.to); steps > 0 {
			fw.Amplification = Round3(float64(a.stepAttempts.sum(w.from, w.to)) / float64(steps))
		}
		if !w.toEnd {
			if at, ok := a.recovery(w.toS, n, r.RecoveryThreshold); ok {
				rec := Round3(at)
				fw.Recovered, fw.RecoveryS = true, &rec
			}
		}
		r.Faults = append(r.Faults, fw)
	}
	return r
}

// prefer returns the attacker's counter, or the count from events when the
// counter is zero.
func prefer(counter, fromEvents uint64) uint64 {
	if counter > 0 {
		return counter
	}
	return fromEvents
}

// fates counts the conversations due to start in [from, to).
func (a *analyzer) fates(from, to int) Fates {
	f := Fates{
		Offered: a.convOffered.sum(from, to),
		OK:      a.convOK.sum(from, to),
		Failed:  a.convFailed.sum(from, to),
		Dropped: a.convDropped.sum(from, to),
		ByCause: map[string]uint64{},
	}
	for cause, s := range a.convByCause {
		if c := s.sum(from, to); c > 0 {
			f.ByCause[cause] = c
		}
	}
	if f.Offered > 0 {
		f.SuccessRate = Round3(100 * float64(f.OK) / float64(f.Offered))
	}
	return f
}

// load is the load offered to target over [from, to).
func (a *analyzer) load(target string, from, to int) Load {
	return a.loadWhere(target, to, func(i int) bool { return i >= from })
}

// loadWhere is the load offered to target over the seconds i < n for which
// in(i) holds.
func (a *analyzer) loadWhere(target string, n int, in func(int) bool) Load {
	s, failed := a.offered.get(target), a.offFailed.get(target)
	var l Load
	var seconds int
	var peak uint64
	for i := 0; i < n; i++ {
		if !in(i) {
			continue
		}
		seconds++
		l.Attempts += s.at(i)
		l.Failed += failed.at(i)
		peak = max(peak, s.at(i))
	}
	l.PeakRPS = float64(peak)
	if seconds > 0 {
		l.MeanRPS = Round3(float64(l.Attempts) / float64(seconds))
	}
	return l
}

// recovery finds the first second at or after the window's end from which
// the success ratio stays at or above threshold for recoveryStreak seconds
// that had conversations, and returns its distance from end.
func (a *analyzer) recovery(end float64, n int, threshold float64) (float64, bool) {
	streak, candidate := 0, -1
	for i := int(math.Floor(end)); i < n; i++ {
		offered := a.convOffered.at(i)
		if offered == 0 {
			continue
		}
		if recoveredSecond(a.convOK.at(i), offered, threshold) {
			if streak == 0 {
				candidate = i
			}
			streak++
			if streak == recoveryStreak {
				return max(float64(candidate)-end, 0), true
			}
			continue
		}
		streak, candidate = 0, -1
	}
	return 0, false
}

// recoveredSecond reports whether ok successes of offered conversations
// are as good as threshold, allowing for chance: a second of 20
// conversations at a true 97% fails one or two now and then, and that is
// no outage. It takes the second as recovered unless its successes fall
// more than recoverySigmas binomial standard deviations below the
// threshold's expectation.
func recoveredSecond(ok, offered uint64, threshold float64) bool {
	n := float64(offered)
	slack := recoverySigmas * math.Sqrt(n*threshold*(1-threshold))
	return float64(ok) >= threshold*n-slack-1e-9
}

// failingTargets maps the faults' targets to offered-load keys: a model
// target names every provider serving that model. A provider the mock
// rate-limits is failing too: its limit is the fault.
func (a *analyzer) failingTargets(sc *scenarios.Scenario, windows []window) []string {
	set := map[string]bool{}
	if sc != nil {
		for name, p := range sc.Providers {
			if p != nil && p.IsMock() && p.Mock.Limits != nil {
				set[scenarios.TargetProvider+name] = true
			}
		}
	}
	for _, w := range windows {
		t := w.fault.Target
		model, isModel := strings.CutPrefix(t, scenarios.TargetModel)
		if !isModel {
			set[t] = true
			continue
		}
		if sc != nil {
			for name, p := range sc.Providers {
				if p != nil && p.Model == model {
					set[scenarios.TargetProvider+name] = true
				}
			}
		}
		for provider, models := range a.providerModels {
			if models[model] {
				set[scenarios.TargetProvider+provider] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// breakerTimeline returns the breaker transitions in time order: writers
// on several goroutines may log them slightly out of order.
func (a *analyzer) breakerTimeline() []BreakerChange {
	tl := slices.Clone(a.breaker)
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].T < tl[j].T })
	if tl == nil {
		tl = []BreakerChange{}
	}
	return tl
}

// breakerSeries is each provider's breaker state per interval: the most
// severe state it was in during the interval.
func breakerSeries(tl []BreakerChange, n int) map[string][]string {
	severity := map[string]int{record.BreakerClosed: 0, record.BreakerHalfOpen: 1, record.BreakerOpen: 2}
	out := map[string][]string{}
	byProvider := map[string][]BreakerChange{}
	for _, c := range tl {
		byProvider[c.Provider] = append(byProvider[c.Provider], c)
	}
	for provider, changes := range byProvider {
		states := make([]string, n)
		cur := record.BreakerClosed
		k := 0
		for i := 0; i < n; i++ {
			worst := cur
			for k < len(changes) && changes[k].T < float64(i+1) {
				cur = changes[k].To
				if severity[cur] > severity[worst] {
					worst = cur
				}
				k++
			}
			states[i] = worst
		}
		out[provider] = states
	}
	return out
}

func (a *analyzer) timeseries(run *record.Run, windows []window, n int) *Timeseries {
	ts := &Timeseries{
		Schema:    TimeseriesSchema,
		Scenario:  run.Scenario,
		Started:   run.Started,
		IntervalS: 1,
		T:         make([]float64, n),
		Faults:    make([]SeriesFault, len(windows)),
		Conversations: SeriesConversations{
			Offered:      a.convOffered.padded(n),
			OK:           a.convOK.padded(n),
			Failed:       a.convFailed.padded(n),
			Dropped:      a.convDropped.padded(n),
			ByCause:      a.convByCause.padded(n),
			Goodput:      a.convGood.padded(n),
			SuccessRatio: make([]*float64, n),
		},
		Steps:           a.steps.padded(n),
		StepAttempts:    a.stepAttempts.padded(n),
		Amplification:   make([]*float64, n),
		AttemptOutcomes: a.attemptOutcomes.padded(n),
		Offered:         a.offered.padded(n),
		OfferedFailed:   a.offFailed.padded(n),
		Retries:         a.retries.padded(n),
		Fallbacks:       a.fallbacks.padded(n),
		BudgetExhausted: a.budget.padded(n),
		Hedges:          a.hedges.padded(n),
		CacheHits:       a.cacheHits.padded(n),
		Breaker:         breakerSeries(a.breakerTimeline(), n),
		Tokens: SeriesTokens{
			Prompt:     a.tokPrompt.padded(n),
			Completion: a.tokComp.padded(n),
			Cached:     a.tokCached.padded(n),
		},
	}
	ts.InFlightMean, ts.InFlightMax = a.inFlight.series(n)
	for i := range n {
		ts.T[i] = float64(i)
		if o := a.convOffered.at(i); o > 0 {
			v := Round3(float64(a.convOK.at(i)) / float64(o))
			ts.Conversations.SuccessRatio[i] = &v
		}
		if s := a.steps.at(i); s > 0 {
			v := Round3(float64(a.stepAttempts.at(i)) / float64(s))
			ts.Amplification[i] = &v
		}
	}
	for k, w := range windows {
		ts.Faults[k] = SeriesFault{Name: w.fault.Name, Target: w.fault.Target, Kind: w.fault.Kind, FromS: Round3(w.fromS), EndS: Round3(w.toS)}
	}
	return ts
}
