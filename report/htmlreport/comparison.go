package htmlreport

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
)

// policyView is one policy of a comparison with its own verdict, read
// from its folder's summary.json.
type policyView struct {
	row compare.PolicyRow
	s   *summary.Summary // nil when summary.json could not be read
	err error
	// link is the policy's report.html relative to the comparison folder.
	link string
}

// comparisonPage builds the page of a policy comparison folder.
func comparisonPage(dir string, cmp *compare.Comparison, plots []plot.File) *page {
	views := make([]policyView, len(cmp.Policies))
	version := ""
	for i, row := range cmp.Policies {
		v := policyView{row: row, link: policyLink(dir, row.Dir)}
		v.s, v.err = readSummary(row.Dir)
		if v.s != nil && version == "" {
			version = v.s.Version
		}
		views[i] = v
	}
	p := &page{
		Title:      "mcpload: " + cmp.Scenario + " policy comparison",
		Heading:    cmp.Scenario,
		Subheading: "mcpload policy comparison",
		Facts:      []fact{{Label: "Scenario", Value: cmp.Scenario, Code: true}, {Label: "Seed", Value: fmt.Sprint(cmp.Seed), Code: true}, {Label: "Policies", Value: count(len(cmp.Policies))}},
		Verdict:    comparisonVerdict(views),
		Headline:   comparisonHeadline(cmp.Policies),
		Footer:     footer(version),
	}
	if len(cmp.FailingTargets) > 0 {
		p.Facts = append(p.Facts, fact{Label: "Failing targets", Value: strings.Join(cmp.FailingTargets, ", "), Code: true})
	}
	if len(views) > 0 && views[0].s != nil {
		p.Facts = append(p.Facts, fact{Label: "Started", Value: when(views[0].s.Started)})
	}
	p.Sections = append(p.Sections, policiesSection(views), comparisonSection(cmp, views))
	if len(plots) > 0 {
		p.Sections = append(p.Sections, &section{ID: "plots", Title: "Plots", Plots: embedPlots(dir, plots)})
	}
	return p
}

// readSummary reads a policy folder's summary.json.
func readSummary(dir string) (*summary.Summary, error) {
	b, err := record.ReadRegular(filepath.Join(dir, record.SummaryFile), record.MaxDocumentBytes)
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	return &s, nil
}

// policyLink is the relative URL of the policy folder's report.html: the
// pages link to each other inside the results folder, wherever it is
// moved.
func policyLink(dir, policyDir string) string {
	rel := policyDir
	if a, err := filepath.Abs(dir); err == nil {
		if b, err := filepath.Abs(policyDir); err == nil {
			if r, err := filepath.Rel(a, b); err == nil {
				rel = r
			}
		}
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(append(parts, File), "/")
}

// comparisonVerdict fails when any policy missed its expectation (a
// policy failed its thresholds, or one with expect: fail passed them), as
// the exit code of `mcpload run` does.
func comparisonVerdict(views []policyView) verdict {
	v := verdict{Word: "PASS", Class: "pass", Status: record.StatusComplete, StatusClass: "ok"}
	var missed, unread, partial, expected []string
	gated := 0
	for _, p := range views {
		switch {
		case p.s == nil:
			unread = append(unread, p.row.Name)
		case !met(p):
			missed = append(missed, p.row.Name+" ("+thresholds.VerdictText(verdictOf(p))+")")
		case verdictOf(p) == thresholds.VerdictExpectedFail:
			expected = append(expected, p.row.Name)
		}
		if p.s != nil && len(p.s.Thresholds) > 0 {
			gated++
		}
		if p.row.Status != record.StatusComplete {
			partial = append(partial, p.row.Name+" "+p.row.Status)
		}
	}
	switch {
	case len(missed) > 0:
		v.Word, v.Class = "FAIL", "fail"
		v.Text = fmt.Sprintf("%d of %d policies missed their expectation: %s.", len(missed), len(views), strings.Join(missed, ", "))
	case gated == 0:
		v.Class = "neutral"
		v.Text = "No thresholds were set: compare the policies on the figures below."
	case len(views) == 1:
		v.Text = "The policy got the verdict it expects."
	default:
		v.Text = fmt.Sprintf("All %d policies got the verdict they expect.", len(views))
	}
	if len(expected) > 0 {
		v.Extra = append(v.Extra, "Failed as expected (expect: fail): "+strings.Join(expected, ", ")+".")
	}
	if len(unread) > 0 {
		v.Extra = append(v.Extra, "No summary for "+strings.Join(unread, ", ")+": their verdicts are unknown.")
	}
	if len(partial) > 0 {
		v.Status, v.StatusClass = "partial", "warn"
		v.StatusText = "Not every policy ran to completion (" + strings.Join(partial, ", ") + "): their figures cover what was recorded."
	}
	return v
}

// verdictOf is p's verdict: the comparison's, or for a comparison.json
// written before verdicts, its summary's thresholds judged as expecting
// a pass.
func verdictOf(p policyView) string {
	if p.row.Verdict != "" || p.s == nil {
		return p.row.Verdict
	}
	return thresholds.Judge(p.s, p.row.Expect).Verdict
}

// met reports whether p got the verdict it expects.
func met(p policyView) bool {
	v := verdictOf(p)
	return v == thresholds.VerdictPass || v == thresholds.VerdictExpectedFail
}

// failing reports whether a row's policy failed its gate or stopped
// early: no headline card ranks it first.
func failing(r compare.PolicyRow) bool {
	return r.Status != record.StatusComplete || r.Verdict == thresholds.VerdictFail || r.Verdict == thresholds.VerdictExpectedFail
}

// comparisonHeadline names the best policy on the figures that matter
// most in an outage; ties go to the first policy run. Only the policies
// that ran to completion and passed their gate compete: an aborted run's
// p99 covers its first seconds only, and a failing policy is no model to
// follow. When none did, the cards say so.
func comparisonHeadline(all []compare.PolicyRow) []figure {
	var rows []compare.PolicyRow
	for _, r := range all {
		if !failing(r) {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		if len(all) == 0 {
			return nil
		}
		return []figure{{Label: "Best policy", Value: "none", Sub: "no policy ran to completion and passed its gate"}}
	}
	best := func(better func(a, b compare.PolicyRow) bool) compare.PolicyRow {
		b := rows[0]
		for _, r := range rows[1:] {
			if better(r, b) {
				b = r
			}
		}
		return b
	}
	succ := best(func(a, b compare.PolicyRow) bool { return a.SuccessRate > b.SuccessRate })
	drop := best(func(a, b compare.PolicyRow) bool { return a.Dropped+a.Failed < b.Dropped+b.Failed })
	amp := best(func(a, b compare.PolicyRow) bool { return a.Amplification < b.Amplification })
	figs := []figure{
		{Label: "Highest success", Value: pct(succ.SuccessRate), Sub: succ.Name},
		{Label: "Fewest lost conversations", Value: count(drop.Dropped + drop.Failed), Sub: drop.Name + ": failed + dropped"},
	}
	withP99 := rows[:0:0]
	for _, r := range rows {
		if r.P99MS != nil {
			withP99 = append(withP99, r)
		}
	}
	if len(withP99) > 0 {
		b := withP99[0]
		for _, r := range withP99[1:] {
			if *r.P99MS < *b.P99MS {
				b = r
			}
		}
		figs = append(figs, figure{Label: "Lowest p99", Value: latency(*b.P99MS), Sub: b.Name})
	}
	figs = append(figs, figure{Label: "Lowest amplification", Value: fixed2(amp.Amplification), Sub: amp.Name + ": attempts per step"})
	return figs
}

func policiesSection(views []policyView) *section {
	t := &table{Cols: cols("policy", "verdict", "status", "thresholds", "claims", "description")}
	for i := range 5 {
		t.Cols[i].Fit = true // short figures on one line; the description wraps
	}
	for _, p := range views {
		name := cell{Text: p.row.Name, Href: p.link, Sub: "report.html"}
		verdict, gates, claimed := cell{Text: "unknown", Pill: "warn", Sub: errText(p.err)}, dash, dash
		if s := p.s; s != nil {
			failed := len(thresholds.Failed(s.Thresholds))
			v := verdictOf(p)
			verdict = cell{Text: strings.ToUpper(thresholds.VerdictText(v)), Pill: "pass"}
			switch {
			case !met(p):
				verdict.Pill = "fail"
			case v == thresholds.VerdictExpectedFail:
				verdict.Pill, verdict.Sub = "warn", "expect: fail"
			}
			if n := len(s.Thresholds); n > 0 {
				gates = fmt.Sprintf("%d of %d passed", n-failed, n)
			} else {
				gates = "none set"
			}
			if len(s.Claims) > 0 {
				claimed = strings.TrimSuffix(strings.TrimPrefix(claimsLine(s.Claims), "Vendor claims (judged on 95% intervals, never gating): "), ".")
			}
		}
		status := cell{Text: p.row.Status, Sub: p.row.StopReason}
		if p.row.Status != record.StatusComplete {
			status.Pill = "warn"
		}
		t.add(name, verdict, status, cell{Text: gates}, cell{Text: claimed}, cell{Text: p.row.About()})
	}
	return &section{
		ID: "policies", Title: "Verdict per policy",
		Intro:  "Each policy ran the same load and fault timeline with the same seed; its own report has the details.",
		Tables: []*table{t},
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// comparisonSection is the figures of comparison.md, one policy per row,
// in two tables a window wide: what happened to the conversations under
// each policy, then what the model that played in each run looked like.
func comparisonSection(cmp *compare.Comparison, views []policyView) *section {
	peakHelp := "the most attempts sent in one second to a failing target during its fault windows"
	outcomes := &table{Cols: []col{
		{Head: "policy"},
		{Head: "status", Help: "complete, aborted (it stopped itself) or interrupted"},
		{Head: "verdict", Help: "pass, fail, expected fail (expect: fail) or unexpected pass, with the thresholds that failed"},
		{Head: "success", Num: true, Help: "ok of offered conversations"},
		{Head: "ok", Num: true}, {Head: "failed", Num: true}, {Head: "dropped", Num: true},
		{Head: "p50", Num: true, Help: "latency of ok conversations, from intended start"},
		{Head: "p99", Num: true, Help: "latency of ok conversations, from intended start"},
		{Head: "attempts per step", Num: true, Help: "retry amplification: 1 means no retries"},
		{Head: "peak load", Num: true, Help: peakHelp},
		{Head: "recovery", Num: true, Help: "the longest time for success to come back after a fault window"},
		{Head: "goodput", Num: true, Help: "ok within the timeout, of offered"},
		{Head: "retries", Num: true}, {Head: "fallbacks", Num: true},
	}}
	models := &table{Cols: []col{
		{Head: "policy"},
		{Head: "model", Help: "the provider that played the model: its name, model and API"},
		{Head: "tokens", Num: true, Help: "prompt and completion tokens, failed attempts included"},
		{Head: "TTFT p50", Num: true, Help: "median time to first token of the model's steps, streams only"},
		{Head: "inter-token p50", Num: true, Help: "median gap between output events of the model's ok streams"},
		{Head: "output tokens/s", Num: true, Help: "completion tokens per second of generation, over the model's ok streams"},
		{Head: "cost per ok", Num: true, Help: "cost per successful conversation, on the run's price catalog"},
	}}
	for i, r := range cmp.Policies {
		name := cell{Text: r.Name}
		if i < len(views) {
			name.Href = views[i].link
		}
		recovery := optFloat(r.RecoveryS, secs)
		if r.NeverRecovered {
			recovery = "never"
		}
		status := cell{Text: r.Status}
		if r.Status != record.StatusComplete {
			status.Pill = "warn"
		}
		outcomes.add(name,
			status,
			cell{Text: r.VerdictLabel(), Class: verdictClass(r)},
			cell{Text: pct(r.SuccessRate)},
			cell{Text: count(r.OK)},
			cell{Text: count(r.Failed), Class: failClass(r.Failed)},
			cell{Text: count(r.Dropped), Class: failClass(r.Dropped)},
			cell{Text: optFloat(r.P50MS, latency)},
			cell{Text: optFloat(r.P99MS, latency)},
			cell{Text: fixed2(r.Amplification)},
			cell{Text: optFloat(r.PeakFailingRPS, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "/s" })},
			cell{Text: recovery},
			cell{Text: pct(r.GoodputShare)},
			cell{Text: count(r.Retries)},
			cell{Text: count(r.Fallbacks)},
		)
		model := dash
		if r.Provider != "" {
			model = r.Provider + ": " + r.Model + " (" + r.API + ")"
		}
		models.add(name,
			cell{Text: model},
			cell{Text: count(r.Tokens)},
			cell{Text: optFloat(r.TTFTP50MS, latency)},
			cell{Text: optFloat(r.ITLP50MS, latency)},
			cell{Text: optFloat(r.OutputTokensPerS, func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) })},
			cell{Text: optFloat(r.CostPerOKUSD, usd)},
		)
	}
	intro := "The figures of comparison.md: first what happened to the conversations, then the model each run talked to. The policies' descriptions are above."
	if len(cmp.FailingTargets) > 0 {
		intro += " Peak load is what " + strings.Join(cmp.FailingTargets, ", ") + " received in its fault windows (over the run, when it is rate-limited)."
	}
	return &section{ID: "comparison", Title: "Comparison", Intro: intro, Tables: []*table{outcomes, models}}
}

// verdictClass marks a verdict that fails the comparison.
func verdictClass(r compare.PolicyRow) string {
	if r.Verdict != "" && !r.ExpectationMet {
		return "bad"
	}
	return ""
}

func optFloat(v *float64, f func(float64) string) string {
	if v == nil {
		return dash
	}
	return f(*v)
}
