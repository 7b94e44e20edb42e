package htmlreport

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
)

// maxScenarioBytes bounds the resolved scenario shown on the page.
const maxScenarioBytes = 256 << 10

// runPage builds the page of the run folder dir.
func runPage(dir string, s *summary.Summary, plots []plot.File) (*page, error) {
	scan, err := scanAttempts(dir)
	if err != nil {
		return nil, err
	}
	unit := "conversations"
	if s.Kind == "mcp_direct" {
		unit = "operations"
	}
	p := &page{
		Title:      "mcpload: " + s.Scenario,
		Heading:    s.Scenario,
		Subheading: "mcpload run report",
		Facts:      runFacts(s),
		Verdict:    runVerdict(s),
		Warnings:   harnessWarnings(s),
		Headline:   headline(s, unit),
		Footer:     footer(s.Version),
	}
	p.Sections = append(p.Sections, thresholdsSection(s.Thresholds))
	if len(s.Claims) > 0 {
		p.Sections = append(p.Sections, claimsSection(s.Claims))
	}
	if len(plots) > 0 {
		p.Sections = append(p.Sections, &section{ID: "plots", Title: "Plots", Plots: embedPlots(dir, plots)})
	}
	p.Sections = append(p.Sections,
		countsSection(s, unit),
		latencySection(s, unit),
		attemptsSection(scan),
		errorsSection(scan),
	)
	if s.Resilience != nil {
		p.Sections = append(p.Sections, resilienceSection(s.Resilience, unit))
	}
	if s.MCP != nil {
		p.Sections = append(p.Sections, mcpSection(s.MCP))
	}
	if s.Harness != nil {
		p.Sections = append(p.Sections, harnessSection(s.Harness))
	}
	if s.Gateway != nil {
		p.Sections = append(p.Sections, gatewaySection(s.Gateway))
	}
	p.Sections = append(p.Sections, costSection(s.Cost, unit))
	sc, err := scenarioSection(dir)
	if err != nil {
		return nil, err
	}
	p.Sections = append(p.Sections, sc)
	return p, nil
}

func runFacts(s *summary.Summary) []fact {
	duration := secs(s.DurationS)
	if s.PlannedS > 0 {
		duration += " of " + secs(s.PlannedS) + " planned"
	}
	facts := []fact{
		{Label: "Scenario", Value: s.Scenario, Code: true},
		{Label: "Kind", Value: s.Kind},
		{Label: "Seed", Value: fmt.Sprint(s.Seed), Code: true},
		{Label: "Started", Value: when(s.Started)},
		{Label: "Duration", Value: duration},
	}
	if s.Version != "" {
		facts = append(facts, fact{Label: "mcpload", Value: s.Version})
	}
	return facts
}

func footer(version string) string {
	if version == "" {
		return "Written by mcpload. Self-contained: it loads nothing from the network."
	}
	return "Written by mcpload " + version + ". Self-contained: it loads nothing from the network."
}

// runVerdict is the banner: the thresholds decide PASS or FAIL, as they
// decide the exit code; the status says whether the figures are whole.
func runVerdict(s *summary.Summary) verdict {
	v := verdict{Word: "PASS", Class: "pass", Status: s.Status, StatusClass: "ok"}
	failed := thresholds.Failed(s.Thresholds)
	switch {
	case len(s.Thresholds) == 0:
		// Nothing was gated: the run passes, as its exit code says, but
		// the banner does not claim a success nobody asked for.
		v.Class = "neutral"
		v.Text = "No thresholds were set."
	case len(failed) == 0 && len(s.Thresholds) == 1:
		v.Text = "The threshold passed."
	case len(failed) == 0:
		v.Text = fmt.Sprintf("All %d thresholds passed.", len(s.Thresholds))
	default:
		v.Word, v.Class = "FAIL", "fail"
		exprs := make([]string, len(failed))
		for i, t := range failed {
			exprs[i] = t.Expr
		}
		v.Text = fmt.Sprintf("%d of %d thresholds failed: %s.", len(failed), len(s.Thresholds), strings.Join(exprs, "; "))
	}
	switch s.Status {
	case record.StatusComplete:
	case record.StatusInterrupted:
		v.StatusClass, v.StatusText = "warn", "The run was interrupted: the figures cover the partial run."
	case record.StatusAborted:
		v.StatusClass, v.StatusText = "warn", "The run stopped itself before its schedule ended: the figures cover the partial run."
		if s.StopReason != "" {
			v.StatusText = "The run stopped itself before its schedule ended (" + s.StopReason + "): the figures cover the partial run."
		}
	case record.StatusRunning:
		v.StatusClass, v.StatusText = "warn", "The run did not finish (its process ended while running): the figures cover what was recorded."
	default:
		v.StatusClass, v.StatusText = "warn", "The run did not complete: the figures cover what was recorded."
	}
	if n := len(s.Claims); n > 0 {
		v.Extra = append(v.Extra, claimsLine(s.Claims))
	}
	return v
}

// claimsLine counts the claims by verdict: "Vendor claims: 1 holds, 2 refuted, 1 inconclusive."
func claimsLine(claims []summary.Claim) string {
	by := map[string]int{}
	for _, c := range claims {
		by[c.Verdict]++
	}
	var parts []string
	for _, k := range []string{summary.ClaimHolds, summary.ClaimRefuted, summary.ClaimInconclusive} {
		if by[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", by[k], k))
		}
	}
	return fmt.Sprintf("Vendor claims (judged on 95%% intervals, never gating): %s.", strings.Join(parts, ", "))
}

func headline(s *summary.Summary, unit string) []figure {
	c := s.Conversations
	offered := c.Started + c.Dropped
	figs := []figure{
		{Label: "Success rate", Value: pct(c.SuccessRate), Sub: fmt.Sprintf("ok of %s offered", count(offered))},
		{Label: title(unit), Value: fmt.Sprintf("%s ok", count(c.OK)), Sub: fmt.Sprintf("%s failed · %s dropped", count(c.Failed), count(c.Dropped))},
	}
	single := strings.TrimSuffix(unit, "s")
	if l := s.LatencyMS.Conversation; l != nil {
		figs = append(figs, figure{Label: title(single) + " p99", Value: latency(l.P99), Sub: "p50 " + latency(l.P50) + ", from intended start"})
	} else {
		figs = append(figs, figure{Label: title(single) + " p99", Value: dash, Sub: "no ok " + unit})
	}
	switch k := s.Cost; {
	case k == nil || len(k.ByModel) == 0:
		figs = append(figs, figure{Label: "Cost per " + single, Value: dash, Sub: "not priced"})
	default:
		sub := usd(k.TotalUSD) + " in all, " + k.Catalog
		if !k.Complete {
			sub += " (priced models only)"
		}
		figs = append(figs, figure{Label: "Cost per " + single, Value: usd(k.PerConversationUSD), Sub: sub})
	}
	return figs
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func thresholdsSection(ts []summary.Threshold) *section {
	sec := &section{ID: "thresholds", Title: "Thresholds"}
	if len(ts) == 0 {
		sec.Intro = "No thresholds were set. A thresholds: list in the scenario gates CI on latency, success rate, cost and more."
		return sec
	}
	t := &table{Cols: cols("", "threshold", "#measured", "#limit", "note")}
	t.Cols[0].Fit = true
	for _, th := range ts {
		mark := cell{Text: "pass", Pill: "pass"}
		if !th.Pass {
			mark = cell{Text: "fail", Pill: "fail"}
		}
		measured := th.Measured
		if measured == "" {
			measured = dash
		}
		t.add(mark, cell{Text: th.Expr, Code: true, Wrap: true}, cell{Text: measured}, cell{Text: orDash(th.Limit)}, cell{Text: th.Note})
	}
	sec.Tables = []*table{t}
	return sec
}

func claimsSection(claims []summary.Claim) *section {
	t := &table{Cols: cols("claim", "expect", "verdict", "#measured", "#95% interval", "#n", "method", "note")}
	for _, c := range claims {
		class := "warn"
		switch c.Verdict {
		case summary.ClaimHolds:
			class = "pass"
		case summary.ClaimRefuted:
			class = "fail"
		}
		n := dash
		if c.Interval.N > 0 {
			n = count(c.Interval.N)
		}
		t.add(
			cell{Text: c.Name, Sub: c.Source},
			cell{Text: c.Expect, Code: true, Wrap: true},
			cell{Text: c.Verdict, Pill: class},
			cell{Text: orDash(c.Measured)},
			cell{Text: orDash(c.Range)},
			cell{Text: n},
			cell{Text: orDash(c.Interval.Method)},
			cell{Text: c.Note},
		)
	}
	return &section{
		ID: "claims", Title: "Vendor claims",
		Intro:  "A claim holds when its whole 95% interval meets the expectation, is refuted when the whole interval breaks it, and is inconclusive otherwise. Claims never change the exit code.",
		Tables: []*table{t},
	}
}

func orDash(s string) string {
	if s == "" {
		return dash
	}
	return s
}

func countsSection(s *summary.Summary, unit string) *section {
	c := s.Conversations
	a := s.Attempts
	facts := []fact{
		{Label: "Rate", Value: fmt.Sprintf("target %s, achieved %s, throughput %s", rate(s.Rate.Target), rate(s.Rate.Achieved), rate(s.Rate.Throughput))},
		{Label: title(unit), Value: fmt.Sprintf("%s started, %s ok, %s failed, %s dropped", count(c.Started), count(c.OK), count(c.Failed), count(c.Dropped))},
	}
	if len(c.ByOutcome) > 0 {
		facts = append(facts, fact{Label: "Failures by outcome", Value: counts(c.ByOutcome)})
	}
	if l := s.Local; l != nil {
		facts = append(facts, fact{Label: "Harness limit", Value: fmt.Sprintf("%s attempts, %s conversations local: %s", count(l.Attempts), count(l.Conversations), l.Note)})
	}
	facts = append(facts,
		fact{Label: "Attempts", Value: fmt.Sprintf("%s in all, %s retries, %s fallbacks; %s attempts per step", count(a.Total), count(a.Retries), count(a.Fallbacks), fixed2(a.Amplification))},
		fact{Label: "Tokens", Value: fmt.Sprintf("%s prompt (%s cached), %s completion", count(s.Tokens.Prompt), count(s.Tokens.Cached), count(s.Tokens.Completion))},
		fact{Label: "Peak in flight", Value: count(s.PeakInFlight)},
	)
	if s.InvalidToolArgs > 0 {
		facts = append(facts, fact{Label: "Invalid tool arguments", Value: count(s.InvalidToolArgs)})
	}
	return &section{ID: "run", Title: "Load and counts", Facts: facts}
}

// latencySection lists the distributions of successes, then those of
// failures apart, so that timeouts never hide inside success percentiles.
func latencySection(s *summary.Summary, unit string) *section {
	single := strings.TrimSuffix(unit, "s")
	l := s.LatencyMS
	ok := latencyTable("Successes")
	ok.add2(single, "intended start to final answer", l.Conversation)
	ok.add2("service time", "actual start to final answer", l.Service)
	for _, k := range sortedKeys(l.Step) {
		ok.add2("step "+k, "", l.Step[k])
	}
	for _, k := range sortedKeys(l.TTFT) {
		ok.add2("ttft "+k, "time to first token", l.TTFT[k])
	}
	for _, k := range sortedKeys(l.Attempt) {
		ok.add2("attempt "+k, "", l.Attempt[k])
	}
	for _, lv := range []struct {
		name, help string
		m          map[string]*summary.Stats
	}{
		{"first tool call", "sending to the first tool-call event", l.FirstToolCall},
		{"tool args complete", "sending to every call's arguments known", l.ToolArgsComplete},
		{"inter-token", "each gap between output events", l.InterToken},
		{"tpot", "time per output token after the first event", l.TPOT},
	} {
		for _, k := range sortedKeys(lv.m) {
			ok.add2(lv.name+" "+k, lv.help, lv.m[k])
		}
	}
	failed := latencyTable("Failures, kept apart")
	failed.add2(single, "", l.ConversationFailed)
	failed.add2("service time", "", l.ServiceFailed)
	for _, k := range sortedKeys(l.StepFailed) {
		failed.add2("step "+k, "", l.StepFailed[k])
	}
	for _, k := range sortedKeys(l.AttemptFailed) {
		failed.add2("attempt "+k, "", l.AttemptFailed[k])
	}
	sec := &section{
		ID: "latency", Title: "Latency",
		Intro: "Milliseconds, from HDR histograms (3 significant digits). A " + single + " runs from its intended start, so queueing in the load generator counts; a step is one model turn or tool call with its retries; an attempt is one HTTP exchange.",
	}
	if len(ok.Rows) == 0 {
		ok.Note = "No " + unit + " succeeded."
	}
	sec.Tables = append(sec.Tables, &ok.table)
	if len(failed.Rows) > 0 {
		sec.Tables = append(sec.Tables, &failed.table)
	}
	if t := streamingTable(s.Streaming); t != nil {
		sec.Tables = append(sec.Tables, t)
	}
	return sec
}

// streamingTable lists the output rate of each model's streams, or nil
// when no stream had one.
func streamingTable(m map[string]*summary.Streaming) *table {
	if len(m) == 0 {
		return nil
	}
	t := &table{
		Title: "Output rate of streams", Narrow: true,
		Cols:  cols("attempt key", "#streams", "#tokens/s", "#per stream p50", "#per stream p10"),
		Intro: "Completion tokens after each stream's first output event over the time from its first output event to its last, summed over the ok streams; per stream, each stream's own rate (1/TPOT): 90% of streams beat p10.",
	}
	for _, k := range sortedKeys(m) {
		st := m[k]
		p50, p10 := dash, dash
		if p := st.PerStream; p != nil {
			p50, p10 = oneDecimal(p.P50), oneDecimal(p.P10)
		}
		t.add(cell{Text: k}, cell{Text: count(st.Streams)}, cell{Text: oneDecimal(st.OutputTokensPerS)}, cell{Text: p50}, cell{Text: p10})
	}
	return t
}

// oneDecimal formats a rate of tokens per second.
func oneDecimal(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

type latTable struct{ table }

func latencyTable(name string) *latTable {
	return &latTable{table{Title: name, Cols: cols("level and key", "#count", "#mean", "#p50", "#p90", "#p99", "#p99.9", "#max")}}
}

func (t *latTable) add2(name, help string, st *summary.Stats) {
	if st == nil {
		return
	}
	t.add(cell{Text: name, Sub: help}, cell{Text: count(st.Count)}, cell{Text: ms(st.Mean)}, cell{Text: ms(st.P50)},
		cell{Text: ms(st.P90)}, cell{Text: ms(st.P99)}, cell{Text: ms(st.P999)}, cell{Text: ms(st.Max)})
}

// attemptsSection counts attempts by key: providers' models, tools, MCP
// session calls.
func attemptsSection(scan *attemptScan) *section {
	sec := &section{ID: "attempts", Title: "Attempts by provider and tool"}
	keys := sortedKeys(scan.byKey)
	// Providers first, then tools, then the rest, each in name order.
	rank := func(k string) int {
		switch {
		case strings.HasPrefix(k, record.StepModel+":"):
			return 0
		case strings.HasPrefix(k, record.StepTool+":"):
			return 1
		case k == otherKey:
			return 3
		}
		return 2
	}
	slices.SortStableFunc(keys, func(a, b string) int { return rank(a) - rank(b) })
	t := &table{Cols: cols("attempt key", "#attempts", "#ok", "#failed", "#failed share", "failures by outcome")}
	for _, k := range keys {
		kc := scan.byKey[k]
		bad := kc.total - kc.byOutcome[record.OutcomeOK]
		share := dash
		if kc.total > 0 {
			share = pct(100 * float64(bad) / float64(kc.total))
		}
		failures := withoutOK(kc.byOutcome)
		t.add(cell{Text: k, Code: true}, cell{Text: count(kc.total)}, cell{Text: count(kc.byOutcome[record.OutcomeOK])},
			cell{Text: count(bad), Class: failClass(bad)}, cell{Text: share}, cell{Text: orDash(counts(failures))})
	}
	if len(t.Rows) == 0 {
		sec.Intro = "No attempts were recorded."
		return sec
	}
	sec.Intro = "Every HTTP attempt of attempts.jsonl.gz, retries, fallbacks and MCP session set-up included."
	if scan.skipped > 0 {
		t.Note = fmt.Sprintf("%s of attempts.jsonl.gz did not parse and are left out (a torn last line is what a crash leaves).", plural(scan.skipped, "line"))
	}
	sec.Tables = []*table{t}
	return sec
}

func failClass(n uint64) string {
	if n > 0 {
		return "bad"
	}
	return ""
}

// errorsSection lists the distinct errors, most frequent first.
func errorsSection(scan *attemptScan) *section {
	sec := &section{ID: "errors", Title: "Errors"}
	rows, moreGroups, moreAttempts := scan.topErrors(maxErrorRows)
	if len(rows) == 0 {
		sec.Intro = "No attempt failed."
		return sec
	}
	sec.Intro = fmt.Sprintf("%s failed. The distinct errors by attempt key and outcome, most frequent first; provider error text is redacted before it is recorded.", plural(scan.failed(), "attempt"))
	t := &table{Cols: cols("#attempts", "attempt key", "outcome", "error")}
	for _, r := range rows {
		t.add(cell{Text: count(r.Count)}, cell{Text: r.Key, Code: true}, cell{Text: r.Outcome}, cell{Text: orDash(r.Error), Code: r.Error != "", Wrap: true})
	}
	switch {
	case moreGroups > 0 && scan.ungrouped > 0:
		t.Note = fmt.Sprintf("%s more, and further distinct errors past the first %s: %s in all.", plural(moreGroups, "distinct error"), count(maxErrorGroups), plural(moreAttempts, "attempt"))
	case moreGroups > 0:
		t.Note = fmt.Sprintf("%s more, %s in all.", plural(moreGroups, "distinct error"), plural(moreAttempts, "attempt"))
	}
	sec.Tables = []*table{t}
	return sec
}

// scenarioSection shows the resolved scenario.yaml as text.
func scenarioSection(dir string) (*section, error) {
	sec := &section{ID: "scenario", Title: "Resolved scenario",
		Intro: "scenario.yaml as the run used it: defaults filled in, the seed recorded, secrets removed."}
	f, err := record.OpenRegular(filepath.Join(dir, record.ScenarioFile))
	if errors.Is(err, os.ErrNotExist) {
		sec.Intro = "The folder has no scenario.yaml."
		return sec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	defer f.Close()
	b := make([]byte, maxScenarioBytes+1)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	sec.Pre = string(b[:min(n, maxScenarioBytes)])
	if n > maxScenarioBytes {
		sec.Notes = []string{fmt.Sprintf("Cut at %d KiB: the whole file is scenario.yaml in the run folder.", maxScenarioBytes>>10)}
	}
	return sec, nil
}
