// Package text writes a run's summary for the terminal, in the spirit of
// `vegeta report`: bracketed field names, then their values. Package
// markdown reuses its rows and words.
package text

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mcpload/mcpload/report/summary"
)

// Print writes the summary as a terminal table, in the spirit of
// `vegeta report`: bracketed field names, then their values.
func Print(w io.Writer, s *summary.Summary) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	unit := "conversations"
	if s.Kind == "mcp_direct" {
		unit = "operations"
	}
	c := s.Conversations
	fmt.Fprintf(tw, "Scenario\t%s (%s, seed %d, %s)\n", s.Scenario, s.Kind, s.Seed, s.Status)
	if s.StopReason != "" {
		fmt.Fprintf(tw, "Stopped\t%s\n", s.StopReason)
	}
	if s.Damaged != nil {
		fmt.Fprintf(tw, "Damaged\t[skipped, the rest read]\t%s\n", s.Damaged)
	}
	fmt.Fprintf(tw, "Rate\t[target, achieved, throughput]\t%.2f/s, %.2f/s, %.2f/s\n", s.Rate.Target, s.Rate.Achieved, s.Rate.Throughput)
	fmt.Fprintf(tw, "Duration\t[run, planned]\t%.2fs, %.2fs\n", s.DurationS, s.PlannedS)
	fmt.Fprintf(tw, "%s\t[started, ok, failed, dropped]\t%d, %d, %d, %d\n", title(unit), c.Started, c.OK, c.Failed, c.Dropped)
	fmt.Fprintf(tw, "Success\t[ratio]\t%.2f%%\n", c.SuccessRate)
	a := s.Attempts
	fmt.Fprintf(tw, "Attempts\t[total, retries, amplification]\t%d, %d, %.2f\n", a.Total, a.Retries, a.Amplification)
	fmt.Fprintf(tw, "Tokens\t[prompt, completion, cached]\t%d, %d, %d\n", s.Tokens.Prompt, s.Tokens.Completion, s.Tokens.Cached)
	printCost(tw, s.Cost)
	printGateway(tw, s.Gateway)
	if len(c.ByOutcome) > 0 {
		fmt.Fprintf(tw, "Failures\t[by outcome]\t%s\n", Counts(c.ByOutcome))
	}
	if failed := withoutOK(a.ByOutcome); len(failed) > 0 {
		fmt.Fprintf(tw, "Attempt errors\t[by outcome]\t%s\n", Counts(failed))
	}
	printLocal(tw, s.Local)
	printHarness(tw, s.Harness)
	if s.InvalidToolArgs > 0 {
		fmt.Fprintf(tw, "Invalid tool args\t[count]\t%d\n", s.InvalidToolArgs)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Streaming)) {
		fmt.Fprintf(tw, "Output rate\t[tokens/s %s]\t%s\n", k, streamingText(s.Streaming[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	rows := LatencyRows(s, unit)
	width := len("Latency (ms)")
	for _, r := range rows {
		width = max(width, len(r.Name))
	}
	// Names read left to right, numbers line up on their units.
	fmt.Fprintf(w, "%-*s  %8s %9s %9s %9s %9s %9s %9s\n", width, "Latency (ms)", "count", "mean", "p50", "p90", "p99", "p99.9", "max")
	for _, r := range rows {
		st := r.Stats
		fmt.Fprintf(w, "%-*s  %8d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", width, r.Name, st.Count, st.Mean, st.P50, st.P90, st.P99, st.P999, st.Max)
	}
	if s.Resilience != nil {
		fmt.Fprintln(w)
		if err := printResilience(w, s.Resilience); err != nil {
			return err
		}
	}
	if s.MCP != nil {
		fmt.Fprintln(w)
		if err := printMCP(w, s.MCP); err != nil {
			return err
		}
	}
	if len(s.Thresholds) > 0 {
		fmt.Fprintln(w)
		printThresholds(w, s.Thresholds)
	}
	if len(s.Claims) > 0 {
		fmt.Fprintln(w)
		if err := printClaims(w, s.Claims); err != nil {
			return err
		}
	}
	return nil
}

// maxBreakerChanges bounds the breaker timeline in the terminal; the whole
// of it is in summary.json.
const maxBreakerChanges = 8

// printResilience writes the Resilience block: what the policies did over
// the run, then each fault window with its load, failures and recovery.
func printResilience(w io.Writer, r *summary.Resilience) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Resilience")
	fmt.Fprintf(tw, "Amplification\t[attempts per step]\t%.2f (%d attempts, %d steps)\n", r.Amplification, r.StepAttempts, r.Steps)
	retries := "none"
	if len(r.RetriesByReason) > 0 {
		retries = Counts(r.RetriesByReason)
	}
	fmt.Fprintf(tw, "Retries\t[by reason]\t%s\n", retries)
	fallbacks := fmt.Sprint(r.Fallbacks)
	if len(r.FallbackRoutes) > 0 {
		fallbacks += " (" + Counts(r.FallbackRoutes) + ")"
	}
	fmt.Fprintf(tw, "Fallbacks\t[taken]\t%s\n", fallbacks)
	fmt.Fprintf(tw, "Breaker\t[opens]\t%d%s\n", r.BreakerOpens, breakerText(r.Breaker))
	if r.BudgetExhausted > 0 {
		fmt.Fprintf(tw, "Budget\t[retries refused]\t%d\n", r.BudgetExhausted)
	}
	if r.Hedges > 0 {
		fmt.Fprintf(tw, "Hedges\t[sent]\t%d\n", r.Hedges)
	}
	if c := r.Cache; c.Hits+c.Misses > 0 {
		fmt.Fprintf(tw, "Cache\t[hits, hit rate, tokens saved]\t%d, %.2f%%, ~%d\n", c.Hits, 100*c.HitRate, c.TokensSaved)
	}
	g := r.Goodput
	fmt.Fprintf(tw, "Goodput\t[count, rate, share]\t%d, %.2f/s, %.2f%% (ok within %s)\n", g.Count, g.RatePerS, g.Share, Seconds(g.LimitS))
	if t := r.Tokens; t.FailedPrompt+t.FailedCompletion > 0 {
		fmt.Fprintf(tw, "Tokens wasted\t[prompt, completion on failed attempts]\t%d, %d\n", t.FailedPrompt, t.FailedCompletion)
	}
	if len(r.Faults) > 0 {
		base := "none before the first fault"
		if r.BaselineSuccess != nil {
			base = fmt.Sprintf("%.2f%% before the first fault", 100**r.BaselineSuccess)
		}
		fmt.Fprintf(tw, "Baseline\t[success]\t%s; recovered once 3 s in a row reach %.2f%% (within chance)\n", base, 100*r.RecoveryThreshold)
	}
	shown := offeredKeys(r)
	for _, f := range r.Faults {
		end := Seconds(f.EndS)
		if f.ToEnd {
			end = "end"
		}
		fmt.Fprintf(tw, "Fault\t%s\t%s-%s\n", f.Name, Seconds(f.FromS), end)
		c := f.Conversations
		line := fmt.Sprintf("%d, %d, %d, %d", c.Offered, c.OK, c.Failed, c.Dropped)
		if len(c.ByCause) > 0 {
			line += " (" + Counts(c.ByCause) + ")"
		}
		fmt.Fprintf(tw, "  conversations\t[offered, ok, failed, dropped]\t%s\n", line)
		var loads []string
		for _, k := range shown {
			in, out := f.Offered[k], r.OfferedOutsideFaults[k]
			loads = append(loads, fmt.Sprintf("%s %s | %s", k, loadText(in), loadText(out)))
		}
		if len(loads) > 0 {
			fmt.Fprintf(tw, "  offered load\t[peak/mean req/s: window | outside]\t%s\n", strings.Join(loads, "; "))
		}
		policy := fmt.Sprintf("%.2f", f.Amplification)
		if len(f.RetriesByReason) > 0 {
			policy += "; retries " + Counts(f.RetriesByReason)
		}
		if f.Fallbacks > 0 {
			policy += fmt.Sprintf("; %d fallbacks", f.Fallbacks)
		}
		fmt.Fprintf(tw, "  amplification\t[attempts per step]\t%s\n", policy)
		recovery := "never, within the run"
		switch {
		case f.ToEnd:
			recovery = "n/a (lasts to the end)"
		case f.Recovered && f.RecoveryS != nil:
			recovery = Seconds(*f.RecoveryS) + " after the window"
		}
		fmt.Fprintf(tw, "  recovery\t[time to recover]\t%s\n", recovery)
	}
	return tw.Flush()
}

// offeredKeys picks the targets worth a column in the fault table:
// providers, and whatever the faults target.
func offeredKeys(r *summary.Resilience) []string {
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(r.Offered)) {
		if strings.HasPrefix(k, "provider:") || slices.Contains(r.FailingTargets, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

func loadText(l summary.Load) string {
	return fmt.Sprintf("%.0f/%.1f", l.PeakRPS, l.MeanRPS)
}

func breakerText(tl []summary.BreakerChange) string {
	if len(tl) == 0 {
		return ""
	}
	parts := make([]string, 0, min(len(tl), maxBreakerChanges))
	for i, c := range tl {
		if i == maxBreakerChanges {
			parts = append(parts, fmt.Sprintf("... %d more", len(tl)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s@%s", c.Provider, c.To, Seconds(c.T)))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// Seconds formats a time in seconds without noise: 4s, 2.5s, 0.125s.
func Seconds(s float64) string {
	return strconv.FormatFloat(summary.Round3(s), 'f', -1, 64) + "s"
}

// LatencyRow is one line of a latency table.
type LatencyRow struct {
	Name  string
	Stats *summary.Stats
}

// LatencyRows lists the latency distributions of s in reading order: the
// whole conversation (or operation, for unit "operations"), service time,
// steps, time to first token and attempts, then the failures.
func LatencyRows(s *summary.Summary, unit string) []LatencyRow {
	var rows []LatencyRow
	add := func(name string, st *summary.Stats) {
		if st != nil {
			rows = append(rows, LatencyRow{name, st})
		}
	}
	l := s.LatencyMS
	single := strings.TrimSuffix(unit, "s")
	add(single, l.Conversation)
	add("service time", l.Service)
	for _, k := range slices.Sorted(maps.Keys(l.Step)) {
		add("step "+k, l.Step[k])
	}
	for _, k := range slices.Sorted(maps.Keys(l.TTFT)) {
		add("ttft "+k, l.TTFT[k])
	}
	for _, k := range slices.Sorted(maps.Keys(l.Attempt)) {
		add("attempt "+k, l.Attempt[k])
	}
	for _, lv := range streamLevels(l) {
		for _, k := range slices.Sorted(maps.Keys(lv.m)) {
			add(lv.name+" "+k, lv.m[k])
		}
	}
	add(single+" (failed)", l.ConversationFailed)
	for _, k := range slices.Sorted(maps.Keys(l.StepFailed)) {
		add("step "+k+" (failed)", l.StepFailed[k])
	}
	for _, k := range slices.Sorted(maps.Keys(l.AttemptFailed)) {
		add("attempt "+k+" (failed)", l.AttemptFailed[k])
	}
	return rows
}

// streamLevel is one stream level of the latencies, named as in tables.
type streamLevel struct {
	name string
	m    map[string]*summary.Stats
}

// streamLevels lists the stream levels in the order a stream meets them,
// after its first token.
func streamLevels(l summary.Latencies) []streamLevel {
	return []streamLevel{
		{"first tool call", l.FirstToolCall},
		{"tool args complete", l.ToolArgsComplete},
		{"inter-token", l.InterToken},
		{"tpot", l.TPOT},
	}
}

// streamingText describes one key's output rate: the ratio of sums, then
// each stream's own rate at the median and at its slow end.
func streamingText(st *summary.Streaming) string {
	t := fmt.Sprintf("%.1f over %d streams", st.OutputTokensPerS, st.Streams)
	if p := st.PerStream; p != nil {
		t += fmt.Sprintf("; per stream p50 %.1f, p10 %.1f", p.P50, p.P10)
	}
	return t
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func withoutOK(m map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range m {
		if k != "ok" && v > 0 {
			out[k] = v
		}
	}
	return out
}

// Counts writes counts by name, in name order: "429 3, timeout 2".
func Counts(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
