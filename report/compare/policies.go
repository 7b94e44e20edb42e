// Package compare sets runs side by side: the policies of one scenario
// under the same load and faults (comparison.json, `mcpload run` with
// policies), and two runs of any kind, judged for regressions on
// confidence intervals (`mcpload compare`).
package compare

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// ComparisonSchema identifies the version of comparison.json's layout.
const ComparisonSchema = "mcpload.comparison/v1"

// PolicyRun is one policy's run of a comparison: the same load and fault
// timeline under the policy's client, written to Dir.
type PolicyRun struct {
	Name        string
	Description string
	Dir         string
	// Expect is the policy's expect: "", "pass" or "fail".
	Expect string
}

// Comparison sets policies side by side (comparison.json): one row per
// policy, in the order they ran.
type Comparison struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	// FailingTargets are the targets the faults hit ("provider:NAME",
	// "tool:NAME"): PeakFailingRPS measures the load offered to them.
	FailingTargets []string    `json:"failing_targets"`
	Policies       []PolicyRow `json:"policies"`
}

// PolicyRow is one policy's figures.
type PolicyRow struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Dir         string `json:"dir"`
	// Status is the run's: complete, aborted (it stopped itself: a
	// threshold with abort_on_fail, or the spend cap) or interrupted.
	Status string `json:"status"`
	// StopReason says why an aborted run stopped.
	StopReason string `json:"stop_reason,omitempty"`
	// Expect is what the policy expects of its run: "pass" or "fail"
	// (policies[].expect).
	Expect string `json:"expect"`
	// Verdict is "pass", "fail", "expected_fail" or "unexpected_pass" (see
	// thresholds.Judge), and ExpectationMet whether it is what the policy expects:
	// `mcpload run` exits 3 when a policy's is false.
	Verdict        string `json:"verdict"`
	ExpectationMet bool   `json:"expectation_met"`
	// Thresholds and ThresholdsFailed count the run's thresholds and
	// those that failed.
	Thresholds       int `json:"thresholds"`
	ThresholdsFailed int `json:"thresholds_failed"`

	// SuccessRate is ok / offered conversations, in percent.
	SuccessRate float64 `json:"success_rate"`
	Offered     uint64  `json:"offered"`
	OK          uint64  `json:"ok"`
	Failed      uint64  `json:"failed"`
	Dropped     uint64  `json:"dropped"`
	// P50MS and P99MS are the latency of ok conversations, from intended
	// start; null when none succeeded.
	P50MS *float64 `json:"p50_ms"`
	P99MS *float64 `json:"p99_ms"`
	// Amplification is attempts per logical step.
	Amplification float64 `json:"amplification"`
	// PeakFailingRPS is the most attempts sent in one second to a failing
	// target during its fault windows (the max over targets); null when
	// the scenario has no faults.
	PeakFailingRPS *float64 `json:"peak_failing_rps"`
	// RecoveryS is the longest time to recover over the fault windows that
	// end; null when no window ends within the run, or when one never
	// recovered (NeverRecovered).
	RecoveryS      *float64 `json:"recovery_s"`
	NeverRecovered bool     `json:"never_recovered,omitempty"`
	// GoodputShare is the share of offered conversations that succeeded
	// within the timeout, in percent.
	GoodputShare float64 `json:"goodput_share"`
	// Tokens is prompt + completion tokens spent, failed attempts included.
	Tokens    int64  `json:"tokens"`
	Retries   uint64 `json:"retries"`
	Fallbacks uint64 `json:"fallbacks"`

	// Provider is the providers entry that played the model, with its API
	// and model, from the run's scenario.yaml; empty for MCP-direct runs.
	Provider string `json:"provider,omitempty"`
	API      string `json:"api,omitempty"`
	Model    string `json:"model,omitempty"`
	// TTFTP50MS is the median time to first token of the model's steps
	// (streams only), from the step's start; null without streams.
	TTFTP50MS *float64 `json:"ttft_p50_ms"`
	// ITLP50MS is the median inter-token latency of the model's ok
	// streams, and OutputTokensPerS their output rate (README "Streaming
	// metrics"); null without streams.
	ITLP50MS         *float64 `json:"itl_p50_ms"`
	OutputTokensPerS *float64 `json:"output_tokens_per_s"`
	// CostPerOKUSD is the cost per successful conversation; null when the
	// run is not priced or nothing succeeded.
	CostPerOKUSD *float64 `json:"cost_per_ok_usd"`
}

// Policies renders each run (summary.json, timeseries.json, .hgrm
// files) and sets the runs side by side.
func Policies(runs []PolicyRun) (*Comparison, error) {
	if len(runs) == 0 {
		return nil, errors.New("compare policies: no runs")
	}
	c := &Comparison{Schema: ComparisonSchema, FailingTargets: []string{}, Policies: make([]PolicyRow, 0, len(runs))}
	failing := map[string]bool{}
	for _, pr := range runs {
		s, err := report.Write(pr.Dir)
		if err != nil {
			return nil, fmt.Errorf("compare policies: policy %q: %w", pr.Name, err)
		}
		if c.Scenario == "" {
			c.Scenario, c.Seed = s.Scenario, s.Seed
		}
		row := policyRow(pr, s)
		sc, err := runfolder.ReadScenario(pr.Dir)
		if err != nil {
			return nil, fmt.Errorf("compare policies: policy %q: %w", pr.Name, err)
		}
		row.setModel(sc, s)
		if r := s.Analyzed(); r != nil {
			for _, t := range r.FailingTargets {
				if !failing[t] {
					failing[t] = true
					c.FailingTargets = append(c.FailingTargets, t)
				}
			}
		}
		c.Policies = append(c.Policies, row)
	}
	return c, nil
}

func policyRow(pr PolicyRun, s *summary.Summary) PolicyRow {
	conv := s.Conversations
	row := PolicyRow{
		Name:          pr.Name,
		Description:   pr.Description,
		Dir:           pr.Dir,
		Status:        s.Status,
		StopReason:    s.StopReason,
		Expect:        cmp.Or(pr.Expect, scenarios.ExpectPass),
		SuccessRate:   conv.SuccessRate,
		Offered:       conv.Started + conv.Dropped,
		OK:            conv.OK,
		Failed:        conv.Failed,
		Dropped:       conv.Dropped,
		Amplification: s.Attempts.Amplification,
		Tokens:        s.Tokens.Prompt + s.Tokens.Completion,
		Retries:       s.Attempts.Retries,
		Fallbacks:     s.Attempts.Fallbacks,
	}
	j := thresholds.Judge(s, pr.Expect)
	row.Verdict, row.ExpectationMet = j.Verdict, j.Met
	row.Thresholds, row.ThresholdsFailed = len(s.Thresholds), len(thresholds.Failed(s.Thresholds))
	if l := s.LatencyMS.Conversation; l != nil {
		p50, p99 := l.P50, l.P99
		row.P50MS, row.P99MS = &p50, &p99
	}
	r := s.Analyzed()
	if r == nil {
		return row
	}
	row.GoodputShare = r.Goodput.Share
	row.Fallbacks = max(row.Fallbacks, r.Fallbacks)
	if row.Amplification == 0 {
		row.Amplification = r.Amplification
	}
	if len(r.Faults) == 0 {
		// A rate limit is a fault without a window: its peak is the run's.
		if len(r.FailingTargets) > 0 {
			var peak float64
			for _, t := range r.FailingTargets {
				peak = max(peak, r.Offered[t].PeakRPS)
			}
			row.PeakFailingRPS = &peak
		}
		return row
	}
	var peak float64
	for _, f := range r.Faults {
		for _, t := range r.FailingTargets {
			peak = max(peak, f.Offered[t].PeakRPS)
		}
	}
	row.PeakFailingRPS = &peak
	var worst float64
	ended := false
	for _, f := range r.Faults {
		if f.ToEnd {
			continue
		}
		ended = true
		if !f.Recovered || f.RecoveryS == nil {
			row.NeverRecovered = true
			continue
		}
		worst = max(worst, *f.RecoveryS)
	}
	if ended && !row.NeverRecovered {
		row.RecoveryS = &worst
	}
	return row
}

// setModel fills the row's provider, API, model and their figures from
// the run's resolved scenario sc (nil for a folder without one).
func (r *PolicyRow) setModel(sc *scenarios.Scenario, s *summary.Summary) {
	if c := s.Cost; c != nil && c.Complete && s.Conversations.OK > 0 {
		v := c.PerSuccessfulConversationUSD
		r.CostPerOKUSD = &v
	}
	if sc == nil || sc.Conversation == nil {
		return
	}
	r.Provider = sc.Conversation.Provider
	if p := sc.Providers[r.Provider]; p != nil {
		r.API, r.Model = p.API, p.Model
	}
	if st := s.LatencyMS.TTFT[record.ModelKey(r.Provider)]; st != nil {
		v := st.P50
		r.TTFTP50MS = &v
	}
	key := record.AttemptModelKey(r.Provider, r.Model)
	if st := s.LatencyMS.InterToken[key]; st != nil {
		v := st.P50
		r.ITLP50MS = &v
	}
	if st := s.Streaming[key]; st != nil {
		v := st.OutputTokensPerS
		r.OutputTokensPerS = &v
	}
}

// column is one figure of the comparison table: a short, space-free
// heading for the terminal, a plainer one for Markdown.
type column struct{ text, markdown string }

// comparisonColumns are the table's columns after the policy's name, in
// the order PolicyRow.cells gives them.
var comparisonColumns = []column{
	{"status", "status"},
	{"verdict", "verdict"},
	{"success", "success"},
	{"ok", "ok"},
	{"failed", "failed"},
	{"dropped", "dropped"},
	{"p50", "p50"},
	{"p99", "p99"},
	{"amplif", "attempts/step"},
	{"peak/s", "peak load on failing target (req/s)"},
	{"recovery", "recovery"},
	{"goodput", "goodput"},
	{"retries", "retries"},
	{"fallbacks", "fallbacks"},
	{"tokens", "tokens"},
	{"ttft50", "TTFT p50"},
	{"itl50", "inter-token p50"},
	{"tok/s", "output tokens/s"},
	{"cost/ok", "cost per ok conversation"},
}

func headings(markdown bool) []string {
	out := make([]string, len(comparisonColumns))
	for i, c := range comparisonColumns {
		out[i] = c.text
		if markdown {
			out[i] = c.markdown
		}
	}
	return out
}

// cells formats a row's figures, in comparisonColumns order.
func (r PolicyRow) cells() []string {
	opt := func(v *float64, f func(float64) string) string {
		if v == nil {
			return "-"
		}
		return f(*v)
	}
	recovery := opt(r.RecoveryS, text.Seconds)
	if r.NeverRecovered {
		recovery = "never"
	}
	return []string{
		r.Status,
		r.VerdictLabel(),
		fmt.Sprintf("%.2f%%", r.SuccessRate),
		strconv.FormatUint(r.OK, 10),
		strconv.FormatUint(r.Failed, 10),
		strconv.FormatUint(r.Dropped, 10),
		opt(r.P50MS, millis),
		opt(r.P99MS, millis),
		fmt.Sprintf("%.2f", r.Amplification),
		opt(r.PeakFailingRPS, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }),
		recovery,
		fmt.Sprintf("%.2f%%", r.GoodputShare),
		strconv.FormatUint(r.Retries, 10),
		strconv.FormatUint(r.Fallbacks, 10),
		strconv.FormatInt(r.Tokens, 10),
		opt(r.TTFTP50MS, millis),
		opt(r.ITLP50MS, millis),
		opt(r.OutputTokensPerS, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }),
		opt(r.CostPerOKUSD, usd),
	}
}

// VerdictLabel is the row's verdict with its failed thresholds, as in
// "fail (2 of 3 failed)" or "expected fail (1 of 3 failed)"; "-" when the
// run has no thresholds and expects to pass.
func (r PolicyRow) VerdictLabel() string {
	switch {
	case r.Verdict == "":
		return "-"
	case r.Thresholds == 0 && r.Verdict == thresholds.VerdictPass:
		return "-"
	case r.ThresholdsFailed > 0:
		return fmt.Sprintf("%s (%d of %d failed)", thresholds.VerdictText(r.Verdict), r.ThresholdsFailed, r.Thresholds)
	}
	return thresholds.VerdictText(r.Verdict)
}

// usd formats a small amount of money with four significant digits.
func usd(v float64) string { return "$" + strconv.FormatFloat(v, 'g', 4, 64) }

// millis formats a latency in ms for a table: ms below a second, seconds
// above.
func millis(ms float64) string {
	if ms < 1000 {
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
}

// WriteText writes the comparison as an aligned terminal table, one policy
// per row, then each policy's description.
func (c *Comparison) WriteText(w io.Writer) error {
	header := append([]string{"policy"}, headings(false)...)
	rows := [][]string{header}
	for _, p := range c.Policies {
		rows = append(rows, append([]string{p.Name}, p.cells()...))
	}
	rows = dropEmptyColumns(rows)
	widths := make([]int, len(header))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Policy comparison: %s (seed %d)", c.Scenario, c.Seed)
	if len(c.FailingTargets) > 0 {
		fmt.Fprintf(&b, "; peak/s is the load offered to %s during its fault windows (over the run, when it is rate-limited)", strings.Join(c.FailingTargets, ", "))
	}
	b.WriteString("\n")
	for _, row := range rows {
		for i, cell := range row {
			switch {
			case i == 0: // names read left to right
				fmt.Fprintf(&b, "%-*s", widths[i], cell)
			case rows[0][i] == "status" || rows[0][i] == "verdict": // words too
				fmt.Fprintf(&b, "  %-*s", widths[i], cell)
			default: // numbers line up on their units
				fmt.Fprintf(&b, "  %*s", widths[i], cell)
			}
		}
		b.WriteString("\n")
	}
	described := false
	for _, p := range c.Policies {
		about := p.About()
		if about == "" {
			continue
		}
		if !described {
			b.WriteString("\n")
			described = true
		}
		fmt.Fprintf(&b, "%-*s  %s\n", widths[0], p.Name, about)
	}
	if g := c.gateLines(); len(g) > 0 {
		b.WriteString("\n" + strings.Join(g, "\n") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// gateLines says what the verdicts mean for CI: which policies stopped
// early and why, and which missed what they expect (`mcpload run` exits 3
// for those); nothing when no policy is gated.
func (c *Comparison) gateLines() []string {
	var out, missed []string
	gated := false
	for _, p := range c.Policies {
		gated = gated || p.Thresholds > 0 || p.Expect == scenarios.ExpectFail
		if p.StopReason != "" {
			out = append(out, fmt.Sprintf("%s stopped early: %s.", p.Name, p.StopReason))
		}
		switch {
		case p.Verdict == thresholds.VerdictUnexpectedPass:
			missed = append(missed, p.Name+" (expected to fail, but passed)")
		case !p.ExpectationMet && p.Verdict != "":
			missed = append(missed, fmt.Sprintf("%s (failed %d of %d thresholds)", p.Name, p.ThresholdsFailed, p.Thresholds))
		}
	}
	switch {
	case len(missed) > 0:
		out = append(out, fmt.Sprintf("Gate: FAIL: %d of %d policies missed their expectation: %s.", len(missed), len(c.Policies), strings.Join(missed, ", ")))
	case gated:
		out = append(out, "Gate: PASS: every policy got the verdict it expects.")
	}
	return out
}

// dropEmptyColumns leaves out the columns (after the first) that are "-"
// in every row below the header, so that a terminal table stays narrow:
// a comparison without faults has no peak load or recovery, one without
// streams no TTFT.
func dropEmptyColumns(rows [][]string) [][]string {
	keep := make([]bool, len(rows[0]))
	keep[0] = true
	for _, row := range rows[1:] {
		for i, cell := range row {
			keep[i] = keep[i] || cell != "-"
		}
	}
	out := make([][]string, len(rows))
	for r, row := range rows {
		for i, cell := range row {
			if keep[i] {
				out[r] = append(out[r], cell)
			}
		}
	}
	return out
}

// WriteJSON writes the comparison as comparison.json.
func (c *Comparison) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode comparison: %w", err)
	}
	return nil
}

// WriteMarkdown writes the comparison as a GitHub table.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Policy comparison: %s (seed %d)\n\n", mdEscape(c.Scenario), c.Seed)
	if len(c.FailingTargets) > 0 {
		fmt.Fprintf(&b, "Peak load is what %s received in its fault windows (over the run, when it is rate-limited).\n\n", mdEscape(strings.Join(c.FailingTargets, ", ")))
	}
	header := append([]string{"policy", "description"}, headings(true)...)
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for i := range header {
		if i < 2 {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, p := range c.Policies {
		cells := append([]string{mdEscape(p.Name), mdEscape(p.About())}, p.cells()...)
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	if g := c.gateLines(); len(g) > 0 {
		b.WriteString("\n")
		for _, l := range g {
			b.WriteString("- " + mdEscape(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// About is the row's description, then the model that played in it, as
// "provider: model (api)".
func (r PolicyRow) About() string {
	if r.Provider == "" {
		return r.Description
	}
	api := r.API
	if api == "" {
		api = scenarios.APIOpenAI
	}
	m := fmt.Sprintf("%s: %s (%s)", r.Provider, r.Model, api)
	if r.Description == "" {
		return m
	}
	return r.Description + "; " + m
}

// mdEscape keeps text from breaking a Markdown table row.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}
