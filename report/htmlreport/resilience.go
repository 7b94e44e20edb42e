package htmlreport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcpload/mcpload/report/summary"
)

// maxBreakerRows bounds the breaker timeline on the page; summary.json
// has all of it.
const maxBreakerRows = 40

// resilienceSection shows what the faults and the client's policies did:
// the run's figures, the load per target, each fault window, and the
// breaker's transitions.
func resilienceSection(r *summary.Resilience, unit string) *section {
	retries := "none"
	if len(r.RetriesByReason) > 0 {
		var n uint64
		for _, v := range r.RetriesByReason {
			n += v
		}
		retries = fmt.Sprintf("%s (%s)", count(n), counts(r.RetriesByReason))
	}
	fallbacks := count(r.Fallbacks)
	if len(r.FallbackRoutes) > 0 {
		fallbacks += " (" + strings.ReplaceAll(counts(r.FallbackRoutes), "->", " → ") + ")"
	}
	g := r.Goodput
	facts := []fact{
		{Label: "Amplification", Value: fmt.Sprintf("%s attempts per step (%s attempts for %s steps)", fixed2(r.Amplification), count(r.StepAttempts), count(r.Steps))},
		{Label: "Retries", Value: retries},
		{Label: "Fallbacks", Value: fallbacks},
		{Label: "Breaker opens", Value: count(r.BreakerOpens)},
	}
	if r.BudgetExhausted > 0 {
		facts = append(facts, fact{Label: "Retries the budget refused", Value: count(r.BudgetExhausted)})
	}
	if r.Hedges > 0 {
		facts = append(facts, fact{Label: "Hedged attempts", Value: count(r.Hedges)})
	}
	if c := r.Cache; c.Hits+c.Misses > 0 {
		facts = append(facts, fact{Label: "Response cache", Value: fmt.Sprintf("%s hits, %s misses (%s), about %s tokens saved", count(c.Hits), count(c.Misses), ratio(c.HitRate), count(c.TokensSaved))})
	}
	facts = append(facts, fact{Label: "Goodput", Value: fmt.Sprintf("%s %s ok within %s: %s, %s of offered", count(g.Count), unit, secs(g.LimitS), rate(g.RatePerS), pct(g.Share))})
	if t := r.Tokens; t.FailedPrompt+t.FailedCompletion > 0 {
		facts = append(facts, fact{Label: "Tokens spent on failed attempts", Value: fmt.Sprintf("%s prompt, %s completion", count(t.FailedPrompt), count(t.FailedCompletion))})
	}
	if len(r.Faults) > 0 {
		base := "no seconds before the first fault"
		if r.BaselineSuccess != nil {
			base = ratio(*r.BaselineSuccess) + " before the first fault"
		}
		facts = append(facts, fact{Label: "Baseline success", Value: fmt.Sprintf("%s; a window has recovered once 3 seconds in a row reach %s (within chance)", base, ratio(r.RecoveryThreshold))})
	}
	sec := &section{
		ID: "resilience", Title: "Resilience",
		Intro: "How the fault timeline and the client's policies shaped the run. Times are seconds from the start of the run; loads are HTTP attempts per second.",
		Facts: facts,
	}
	if t := offeredTable(r); t != nil {
		sec.Tables = append(sec.Tables, t)
	}
	if len(r.Faults) > 0 {
		sec.Tables = append(sec.Tables, faultsTable(r, unit))
	}
	if len(r.Breaker) > 0 {
		sec.Tables = append(sec.Tables, breakerTable(r.Breaker))
	}
	return sec
}

// offeredTable is the load each target received, over the run and
// outside the fault windows.
func offeredTable(r *summary.Resilience) *table {
	if len(r.Offered) == 0 {
		return nil
	}
	t := &table{Title: "Offered load per target", Cols: cols("target", "#attempts", "#failed", "#peak", "#mean", "#peak outside faults", "#mean outside faults")}
	for _, k := range sortedKeys(r.Offered) {
		in := r.Offered[k]
		name := cell{Text: k, Code: true}
		if slices.Contains(r.FailingTargets, k) {
			name.Sub = "targeted by faults"
		}
		out, ok := r.OfferedOutsideFaults[k]
		peakOut, meanOut := dash, dash
		if ok && len(r.Faults) > 0 {
			peakOut, meanOut = perSecond(out.PeakRPS), perSecond(out.MeanRPS)
		}
		t.add(name, cell{Text: count(in.Attempts)}, cell{Text: count(in.Failed), Class: failClass(in.Failed)},
			cell{Text: perSecond(in.PeakRPS)}, cell{Text: perSecond(in.MeanRPS)}, cell{Text: peakOut}, cell{Text: meanOut})
	}
	return t
}

// faultsTable has one row per fault window: what it did to the
// conversations, the load on its target, what the policies did, and how
// long success took to come back.
func faultsTable(r *summary.Resilience, unit string) *table {
	t := &table{
		Title: "Fault windows",
		Intro: title(unit) + " are counted in the second of their intended start; the load is what the fault's target received in the window.",
		Cols:  cols("fault", "window", "#offered", "#ok", "#failed", "#dropped", "#goodput", "#target peak / mean", "#attempts per step", "retries, fallbacks", "#recovery"),
	}
	t.Cols[0].Fit = true
	for _, f := range r.Faults {
		end := secs(f.EndS)
		if f.ToEnd {
			end = "end"
		}
		window := strings.TrimSuffix(secs(f.FromS), " s") + "–" + end
		onTarget := dash
		if l, ok := f.Offered[f.Target]; ok {
			onTarget = perSecond(l.PeakRPS) + " / " + perSecond(l.MeanRPS)
		}
		policy := []string{}
		if len(f.RetriesByReason) > 0 {
			policy = append(policy, "retries "+counts(f.RetriesByReason))
		}
		if f.Fallbacks > 0 {
			policy = append(policy, plural(f.Fallbacks, "fallback"))
		}
		recovery, class := "never, within the run", "bad"
		switch {
		case f.ToEnd:
			recovery, class = "lasts to the end", ""
		case f.Recovered && f.RecoveryS != nil:
			recovery, class = secs(*f.RecoveryS)+" after", "good"
		}
		c := f.Conversations
		t.add(
			cell{Text: f.Name, Sub: f.Kind + " on " + f.Target},
			cell{Text: window},
			cell{Text: count(c.Offered)},
			cell{Text: count(c.OK)},
			cell{Text: count(c.Failed), Class: failClass(c.Failed), Sub: counts(withoutDropped(c.ByCause))},
			cell{Text: count(c.Dropped), Class: failClass(c.Dropped)},
			cell{Text: count(f.Goodput)},
			cell{Text: onTarget},
			cell{Text: fixed2(f.Amplification)},
			cell{Text: orDash(strings.Join(policy, "; "))},
			cell{Text: recovery, Class: class},
		)
	}
	return t
}

func withoutDropped(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if k != "dropped" {
			out[k] = v
		}
	}
	return out
}

func breakerTable(changes []summary.BreakerChange) *table {
	t := &table{Title: "Circuit breaker transitions", Narrow: true, Cols: cols("#time", "provider", "from", "to")}
	for i, c := range changes {
		if i == maxBreakerRows {
			t.Note = fmt.Sprintf("%s more in summary.json.", plural(len(changes)-i, "transition"))
			break
		}
		class := ""
		if c.To == "open" {
			class = "bad"
		}
		t.add(cell{Text: secs(c.T)}, cell{Text: c.Provider, Code: true}, cell{Text: orDash(c.From)}, cell{Text: c.To, Class: class})
	}
	return t
}
