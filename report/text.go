package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// PrintText writes the summary as a terminal table, in the spirit of
// `vegeta report`: bracketed field names, then their values.
func PrintText(w io.Writer, s *Summary) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	unit := "conversations"
	if s.Kind == "mcp_direct" {
		unit = "operations"
	}
	c := s.Conversations
	fmt.Fprintf(tw, "Scenario\t%s (%s, seed %d, %s)\n", s.Scenario, s.Kind, s.Seed, s.Status)
	fmt.Fprintf(tw, "Rate\t[target, achieved, throughput]\t%.2f/s, %.2f/s, %.2f/s\n", s.Rate.Target, s.Rate.Achieved, s.Rate.Throughput)
	fmt.Fprintf(tw, "Duration\t[run, planned]\t%.2fs, %.2fs\n", s.DurationS, s.PlannedS)
	fmt.Fprintf(tw, "%s\t[started, ok, failed, dropped]\t%d, %d, %d, %d\n", title(unit), c.Started, c.OK, c.Failed, c.Dropped)
	fmt.Fprintf(tw, "Success\t[ratio]\t%.2f%%\n", c.SuccessRate)
	a := s.Attempts
	fmt.Fprintf(tw, "Attempts\t[total, retries, amplification]\t%d, %d, %.2f\n", a.Total, a.Retries, a.Amplification)
	fmt.Fprintf(tw, "Tokens\t[prompt, completion, cached]\t%d, %d, %d\n", s.Tokens.Prompt, s.Tokens.Completion, s.Tokens.Cached)
	if len(c.ByOutcome) > 0 {
		fmt.Fprintf(tw, "Failures\t[by outcome]\t%s\n", counts(c.ByOutcome))
	}
	if failed := withoutOK(a.ByOutcome); len(failed) > 0 {
		fmt.Fprintf(tw, "Attempt errors\t[by outcome]\t%s\n", counts(failed))
	}
	if s.InvalidToolArgs > 0 {
		fmt.Fprintf(tw, "Invalid tool args\t[count]\t%d\n", s.InvalidToolArgs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintln(w)
	type row struct {
		name string
		st   *Stats
	}
	var rows []row
	add := func(name string, st *Stats) {
		if st != nil {
			rows = append(rows, row{name, st})
		}
	}
	l := s.LatencyMS
	single := strings.TrimSuffix(unit, "s")
	add(single, l.Conversation)
	add("service time", l.Service)
	for _, k := range sortedKeys(l.Step) {
		add("step "+k, l.Step[k])
	}
	for _, k := range sortedKeys(l.TTFT) {
		add("ttft "+k, l.TTFT[k])
	}
	for _, k := range sortedKeys(l.Attempt) {
		add("attempt "+k, l.Attempt[k])
	}
	add(single+" (failed)", l.ConversationFailed)
	for _, k := range sortedKeys(l.StepFailed) {
		add("step "+k+" (failed)", l.StepFailed[k])
	}
	for _, k := range sortedKeys(l.AttemptFailed) {
		add("attempt "+k+" (failed)", l.AttemptFailed[k])
	}
	width := len("Latency (ms)")
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	// Names read left to right, numbers line up on their units.
	fmt.Fprintf(w, "%-*s  %8s %9s %9s %9s %9s %9s %9s\n", width, "Latency (ms)", "count", "mean", "p50", "p90", "p99", "p99.9", "max")
	for _, r := range rows {
		st := r.st
		fmt.Fprintf(w, "%-*s  %8d %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", width, r.name, st.Count, st.Mean, st.P50, st.P90, st.P99, st.P999, st.Max)
	}
	return nil
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

func counts(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
