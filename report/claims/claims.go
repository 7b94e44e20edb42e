// Package claims judges a scenario's vendor claims ("p99 < 50ms", "99.9%
// available", "85% cheaper") on 95% intervals rather than point values: a
// claim holds, is refuted, or the run cannot tell. Claims never gate the
// exit code; package thresholds does.
package claims

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/confidence"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// Evaluate judges each claim of sc against the run: s and hs as
// Summarize returns them. Every bootstrap draws from the run's seed, so
// re-rendering a folder gives the same verdicts.
//
//   - A latency claim bootstraps its statistic over the whole-run
//     histogram of the metric; when the metric's filter matches several
//     keys, their histograms are merged (and the note says so), since a
//     claim is about the service, not one of its keys.
//   - success_rate and error_rate take Wilson's interval on conversations.
//   - availability.model takes Wilson's interval on model attempts.
//   - cost.saving resamples conversations (see savingInterval).
func Evaluate(s *summary.Summary, hs runfolder.Histograms, sc *scenarios.Scenario) []summary.Claim {
	if sc == nil || len(sc.Claims) == 0 {
		return nil
	}
	out := make([]summary.Claim, 0, len(sc.Claims))
	for _, c := range sc.Claims {
		out = append(out, evaluateClaim(s, hs, sc, c))
	}
	return out
}

func evaluateClaim(s *summary.Summary, hs runfolder.Histograms, sc *scenarios.Scenario, c scenarios.Claim) summary.Claim {
	cl := summary.Claim{Name: c.Name, Source: c.Source, Expect: c.Expect, Verdict: summary.ClaimInconclusive}
	th, err := scenarios.ParseThreshold(c.Expect)
	if err != nil {
		cl.Note = "invalid expression: " + err.Error()
		return cl
	}
	if ok, why := scenarios.Claimable(th); !ok {
		cl.Note = why
		return cl
	}
	iv, note, ok := claimInterval(s, hs, sc, th)
	cl.Interval, cl.Note = iv, note
	if !ok {
		return cl
	}
	if iv.N == 0 || math.IsNaN(iv.Lo) || math.IsNaN(iv.Hi) {
		cl.Note = joinNotes("no samples to judge on", note)
		return cl
	}
	cl.Verdict = claimVerdict(th, iv)
	cl.Measured = th.Format(iv.Estimate)
	cl.Range = "[" + th.Format(iv.Lo) + ", " + th.Format(iv.Hi) + "]"
	return cl
}

// claimVerdict applies the rule: a claim that the value is below a limit
// holds when the interval's upper end is, and is refuted when its lower
// end is not; a claim that it is above a limit mirrors that.
func claimVerdict(th *scenarios.ThresholdExpr, iv confidence.Interval) string {
	switch th.Op {
	case "<", "<=":
		switch {
		case th.Holds(iv.Hi):
			return summary.ClaimHolds
		case !th.Holds(iv.Lo):
			return summary.ClaimRefuted
		}
	case ">", ">=":
		switch {
		case th.Holds(iv.Lo):
			return summary.ClaimHolds
		case !th.Holds(iv.Hi):
			return summary.ClaimRefuted
		}
	}
	return summary.ClaimInconclusive
}

// claimInterval measures th's metric with its 95% interval, in the
// metric's base unit. ok is false when there is nothing to judge, and
// note then says why.
func claimInterval(s *summary.Summary, hs runfolder.Histograms, sc *scenarios.Scenario, th *scenarios.ThresholdExpr) (iv confidence.Interval, note string, ok bool) {
	seed := uint64(s.Seed)
	c := s.Conversations
	offered := c.Started + c.Dropped
	switch th.Metric {
	case "success_rate", "error_rate":
		if offered == 0 {
			return iv, "no conversations were offered", false
		}
		k := c.OK
		if th.Metric == "error_rate" {
			k = c.Failed + c.Dropped
		}
		return Percent(confidence.Wilson(k, offered)), "", true
	case "availability.model":
		a, note, ok := thresholds.Availability(s, th.Filters)
		if !ok {
			return iv, note, false
		}
		return Percent(confidence.Wilson(a.Answered, a.Total())), note, true
	case "cost.saving":
		return savingInterval(s, sc, seed)
	}
	if th.Kind != scenarios.MetricLatency {
		return iv, th.Metric + " is not a measurement a claim can test", false
	}
	h, note, ok := claimHistogram(hs, th)
	if !ok {
		return iv, note, false
	}
	stat := Statistic(th.Stat)
	if ok, need := stat.Enough(uint64(h.TotalCount())); !ok {
		return iv, fmt.Sprintf("%d samples are too few to judge %s: it needs %d, so that %d lie beyond it", h.TotalCount(), th.Stat, need, confidence.MinTail), false
	}
	return confidence.Bootstrap(confidence.FromHistogram(h, 1/runfolder.USPerMS), stat, seed), note, true
}

// Percent turns an interval of a proportion (0-1) into percent.
func Percent(iv confidence.Interval) confidence.Interval {
	iv.Estimate, iv.Lo, iv.Hi = 100*iv.Estimate, 100*iv.Lo, 100*iv.Hi
	return iv
}

// Statistic is the bootstrap statistic of a latency statistic's name.
func Statistic(name string) confidence.Stat {
	switch name {
	case "mean":
		return confidence.Mean
	case "p50":
		return confidence.Quantile(0.50)
	case "p90":
		return confidence.Quantile(0.90)
	case "p95":
		return confidence.Quantile(0.95)
	case "p99":
		return confidence.Quantile(0.99)
	}
	return confidence.Quantile(0.999) // p999, the last of scenarios.ClaimStats
}

// claimHistogram merges the histograms a latency claim judges: every key
// that th's filters match, failures included. A vendor's latency claim is
// about every request: a timeout took at least the timeout, and leaving it
// out would let a provider that times out look fast. note names the keys
// when several were merged.
func claimHistogram(hs runfolder.Histograms, th *scenarios.ThresholdExpr) (*hdrhistogram.Histogram, string, bool) {
	var tags []string
	switch th.Metric {
	case record.LevelConversation, record.LevelService:
		tags = []string{th.Metric, th.Metric + record.FailedSuffix}
	default:
		level, kind, _ := strings.Cut(th.Metric, ".")
		var keys []string
		for _, tag := range hs.Tags() {
			key, ok := strings.CutPrefix(tag, level+".")
			if !ok || strings.HasSuffix(key, record.FailedSuffix) || !thresholds.KeyMatches(key, kind, th.Filters) {
				continue
			}
			keys = append(keys, key)
			tags = append(tags, tag, tag+record.FailedSuffix)
		}
		if len(keys) == 0 {
			return nil, fmt.Sprintf("no %s latencies match %s%s", level, th.Metric, thresholds.FilterText(th.Filters)), false
		}
		merged := mergeTags(hs, tags)
		if merged.TotalCount() == 0 {
			return nil, fmt.Sprintf("no %s latencies match %s%s", level, th.Metric, thresholds.FilterText(th.Filters)), false
		}
		note := "ok and failed " + keys[0]
		if len(keys) > 1 {
			note = fmt.Sprintf("ok and failed, %d keys merged: %s", len(keys), strings.Join(keys, ", "))
		}
		return merged, note, true
	}
	merged := mergeTags(hs, tags)
	if merged.TotalCount() == 0 {
		return nil, "no conversations were recorded", false
	}
	return merged, "ok and failed conversations", true
}

// mergeTags merges the histograms of tags that hs has.
func mergeTags(hs runfolder.Histograms, tags []string) *hdrhistogram.Histogram {
	merged := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for _, t := range tags {
		if h := hs[t]; h != nil {
			merged.Merge(h)
		}
	}
	return merged
}

// savingInterval is cost.saving, 100 × (1 − run cost / baseline cost) of
// the same measured usage, with a 95% interval from a cluster bootstrap
// over conversations: each conversation bucket's usage is priced on both
// catalogs, and resamples of the buckets give resamples of the ratio of
// the sums. Conversations, not attempts, are resampled because a
// conversation's attempts share its length and its retries.
//
// The estimate is the cost section's baseline saving. Only models priced
// on both catalogs enter the interval; the note names any other.
func savingInterval(s *summary.Summary, sc *scenarios.Scenario, seed uint64) (confidence.Interval, string, bool) {
	iv := confidence.Interval{Method: confidence.MethodBootstrap}
	if s.Cost == nil {
		return iv, "the run has no cost section (no pricing catalog priced it)", false
	}
	if s.Cost.Baseline == nil {
		return iv, "the scenario names no baseline catalog (cost.baseline) to compare the run's prices with", false
	}
	counts := s.ClaimCounts()
	if counts == nil {
		return iv, "the interval resamples the run folder's attempts.jsonl, which this summary was not built from", false
	}
	runName, baseName := s.Cost.Catalog, s.Cost.Baseline.Catalog
	if sc != nil && sc.Cost != nil {
		runName, baseName = cmp.Or(sc.Cost.Catalog, runName), cmp.Or(sc.Cost.Baseline, baseName)
	}
	run, err := pricing.Open(runName)
	if err != nil {
		return iv, "open the run's catalog: " + err.Error(), false
	}
	base, err := pricing.Open(baseName)
	if err != nil {
		return iv, "open the baseline catalog: " + err.Error(), false
	}
	var runB, baseB [summary.CostBuckets]float64
	var unpriced []string
	usage := counts.Usage
	for _, key := range slices.Sorted(maps.Keys(usage)) {
		rp, model, rok := s.Cost.Lookup(run, key)
		bp, _, bok := s.Cost.Lookup(base, key)
		if !rok || !bok {
			unpriced = append(unpriced, model)
			continue
		}
		for i, u := range usage[key] {
			runB[i] += rp.Cost(u)
			baseB[i] += bp.Cost(u)
		}
	}
	note := ""
	if len(unpriced) > 0 {
		note = "left out of the interval, not priced on both catalogs: " + strings.Join(unpriced, ", ")
	}
	// Resample the buckets that hold any usage.
	var runs, bases []float64
	for i := range runB {
		if baseB[i] > 0 || runB[i] > 0 {
			runs, bases = append(runs, runB[i]), append(bases, baseB[i])
		}
	}
	iv.Estimate, iv.N = s.Cost.Baseline.SavingPercent, uint64(len(runs))
	if len(runs) == 0 {
		return iv, joinNotes("no priced usage to resample", note), false
	}
	if s.Conversations.Started > summary.CostBuckets {
		note = joinNotes(fmt.Sprintf("n counts buckets of conversations (conv %% %d)", summary.CostBuckets), note)
	}
	rng := rand.New(rand.NewPCG(seed, 0x636f7374)) // "cost"
	reps := make([]float64, 0, confidence.Resamples)
	for range confidence.Resamples {
		var r, b float64
		for range runs {
			j := rng.IntN(len(runs))
			r += runs[j]
			b += bases[j]
		}
		if b > 0 {
			reps = append(reps, 100*(1-r/b))
		}
	}
	if len(reps) == 0 {
		return iv, joinNotes("the baseline prices the usage at $0", note), false
	}
	slices.Sort(reps)
	at := func(q float64) float64 { return reps[int(math.Round(q*float64(len(reps)-1)))] }
	iv.Lo, iv.Hi = at((1-confidence.Level)/2), at(1-(1-confidence.Level)/2)
	return iv, note, true
}

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
