package claims_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/claims"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// claimsOf builds a scenario holding only the claims expect, named after
// their expressions.
func claimsOf(expect ...string) *scenarios.Scenario {
	sc := &scenarios.Scenario{}
	for _, e := range expect {
		sc.Claims = append(sc.Claims, scenarios.Claim{Name: e, Expect: e})
	}
	return sc
}

// uniformHistograms records 10,000 latencies spread evenly over 20-60 ms
// (mean 40 ms, median 40 ms, sd 11.5 ms), alternately under two attempt
// keys of provider relay. They sit on a 0.5 ms grid, which keeps the mean's
// bootstrap cheap: it draws over 80 distinct values instead of 512 bins.
func uniformHistograms(t *testing.T) runfolder.Histograms {
	t.Helper()
	hs := runfolder.Histograms{}
	for _, tag := range []string{"attempt.model:relay/a", "attempt.model:relay/b", "attempt.model:other/a"} {
		hs[tag] = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	}
	const n = 10000
	for i := range n {
		us := int64(20250 + 500*(i%80))
		tag := "attempt.model:relay/a"
		if i%2 == 1 {
			tag = "attempt.model:relay/b"
		}
		synth.Must(t, hs[tag].RecordValue(us))
		// The other provider is far slower: a filter must keep it out.
		synth.Must(t, hs["attempt.model:other/a"].RecordValue(10*us))
	}
	return hs
}

func TestLatencyClaims(t *testing.T) {
	hs := uniformHistograms(t)
	s := &summary.Summary{Seed: 42}
	cases := []struct {
		expect, verdict string
	}{
		{"attempt.model{provider=relay}.mean < 50ms", summary.ClaimHolds},
		{"attempt.model{provider=relay}.mean < 40.1ms", summary.ClaimInconclusive},
		{"attempt.model{provider=relay}.mean < 30ms", summary.ClaimRefuted},
		{"attempt.model{provider=relay}.mean >= 35ms", summary.ClaimHolds},
		{"attempt.model{provider=relay}.mean > 39.9ms", summary.ClaimInconclusive},
		{"attempt.model{provider=relay}.mean > 45ms", summary.ClaimRefuted},
		{"attempt.model{provider=relay}.p50 < 41ms", summary.ClaimHolds},
		{"attempt.model{provider=relay}.p99 < 59ms", summary.ClaimRefuted},
		{"attempt.model{provider=relay,model=a}.p90 <= 60ms", summary.ClaimHolds},
		{"attempt.model{provider=other}.p50 < 50ms", summary.ClaimRefuted},
	}
	var exprs []string
	for _, c := range cases {
		exprs = append(exprs, c.expect)
	}
	got := claims.Evaluate(s, hs, claimsOf(exprs...))
	if len(got) != len(cases) {
		t.Fatalf("got %d claims, want %d", len(got), len(cases))
	}
	for i, c := range cases {
		g := got[i]
		if g.Verdict != c.verdict {
			t.Errorf("%s: %s, want %s (interval %+v, note %q)", c.expect, g.Verdict, c.verdict, g.Interval, g.Note)
		}
		if g.Interval.Method != "bootstrap" || g.Interval.Lo > g.Interval.Estimate || g.Interval.Hi < g.Interval.Estimate {
			t.Errorf("%s: interval %+v does not bracket its estimate", c.expect, g.Interval)
		}
	}

	mean := got[0]
	if iv := mean.Interval; iv.Lo > 40 || iv.Hi < 40 || iv.Hi-iv.Lo > 1 || iv.N != 10000 {
		t.Errorf("mean interval %+v: want about [39.8, 40.2] around the true 40 ms, n 10000", iv)
	}
	if !strings.HasPrefix(mean.Measured, "40") || !strings.HasSuffix(mean.Measured, "ms") || !strings.HasPrefix(mean.Range, "[39.") {
		t.Errorf("measured %q, range %q", mean.Measured, mean.Range)
	}
	if !strings.Contains(mean.Note, "2 keys merged") || strings.Contains(mean.Note, "other") {
		t.Errorf("note %q should say relay's two keys were merged", mean.Note)
	}
	if n := got[8].Interval.N; n != 5000 {
		t.Errorf("{provider=relay,model=a} took %d samples, want 5000", n)
	}

	// Reproducible: the same seed gives the same intervals.
	again := claims.Evaluate(s, hs, claimsOf(exprs[:2]...))
	for i := range again {
		if got[i] != again[i] {
			t.Errorf("%s: %+v, then %+v", got[i].Expect, got[i], again[i])
		}
	}
}

// TestLatencyClaimCountsFailures: a provider whose successes are fast but
// whose timeouts take 3 s does not make a p99 claim of 1 s hold: failed
// attempts are part of what a vendor's latency claim is about.
func TestLatencyClaimCountsFailures(t *testing.T) {
	hs := runfolder.Histograms{}
	ok := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	failed := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for i := range 2000 {
		synth.Must(t, ok.RecordValue(int64(50_000+10*i)))
		if i%10 == 0 {
			synth.Must(t, failed.RecordValue(3_000_000))
		}
	}
	hs["attempt.model:p/m"], hs["attempt.model:p/m"+record.FailedSuffix] = ok, failed
	got := claims.Evaluate(&summary.Summary{Seed: 1}, hs, claimsOf("attempt.model{provider=p}.p99 < 1s"))[0]
	if got.Verdict != summary.ClaimRefuted || got.Interval.N != 2200 || !strings.Contains(got.Note, "ok and failed") {
		t.Errorf("claim %+v: want refuted over 2200 attempts, failures included", got)
	}
}

func TestRateClaims(t *testing.T) {
	sum := func(ok, failed, dropped uint64) *summary.Summary {
		return &summary.Summary{Seed: 1, Conversations: summary.Conversations{Counts: record.Counts{Started: ok + failed, OK: ok, Failed: failed, Dropped: dropped}}}
	}
	cases := []struct {
		s       *summary.Summary
		expect  string
		verdict string
		lo, hi  float64 // the Wilson interval, in percent
	}{
		{sum(999, 1, 0), "success_rate >= 99.9%", summary.ClaimInconclusive, 99.437, 99.982},
		{sum(999, 1, 0), "success_rate >= 99%", summary.ClaimHolds, 99.437, 99.982},
		{sum(990, 10, 0), "success_rate >= 99.9%", summary.ClaimRefuted, 98.17, 99.46},
		{sum(990, 5, 5), "error_rate < 2%", summary.ClaimHolds, 0.54, 1.83},
		{sum(990, 5, 5), "error_rate <= 1%", summary.ClaimInconclusive, 0.54, 1.83},
		{sum(900, 100, 0), "error_rate < 5%", summary.ClaimRefuted, 8.3, 12.0},
	}
	for _, c := range cases {
		got := claims.Evaluate(c.s, runfolder.Histograms{}, claimsOf(c.expect))[0]
		if got.Verdict != c.verdict {
			t.Errorf("%s on %+v: %s, want %s (%+v)", c.expect, c.s.Conversations.Counts, got.Verdict, c.verdict, got.Interval)
		}
		iv := got.Interval
		if math.Abs(iv.Lo-c.lo) > 0.05 || math.Abs(iv.Hi-c.hi) > 0.05 || iv.Method != "wilson" || iv.N != 1000 {
			t.Errorf("%s: interval %+v, want wilson [%.2f, %.2f] of 1000", c.expect, iv, c.lo, c.hi)
		}
	}

	// Nothing offered: inconclusive, and says why.
	got := claims.Evaluate(sum(0, 0, 0), runfolder.Histograms{}, claimsOf("success_rate >= 99%", "conversation.p99 < 1s"))
	for _, g := range got {
		if g.Verdict != summary.ClaimInconclusive || g.Note == "" || g.Measured != "" {
			t.Errorf("%s with no samples: %+v", g.Expect, g)
		}
	}
}

// availabilityRun: provider relay answers 1 of 3 attempts with a 5xx in
// its first second, then everything; primary is always up but rate-limits.
func availabilityRun(t *testing.T) *synth.Folder {
	s := synth.New(t, 10)
	outcomes := []string{
		record.OutcomeOK, record.Outcome429, record.Outcome4xx, // answered
		record.Outcome5xx, record.OutcomeTimeout, record.OutcomeConnection, record.OutcomeProtocol, // down
		record.OutcomeCanceled, record.OutcomeBreakerOpen, // neither
	}
	for i, o := range outcomes {
		s.Attempt(uint64(i), 0, 1, "model:relay/gpt-4.1", 0.5, o)
	}
	for i := range 91 {
		s.Attempt(uint64(100+i), 0, 1, "model:relay/gpt-4.1", 1+float64(i)/20, record.OutcomeOK)
	}
	for i := range 50 {
		o := record.OutcomeOK
		if i%5 == 0 {
			o = record.Outcome429
		}
		s.Attempt(uint64(200+i), 0, 1, "model:primary/gpt-4.1-mini", 2, o)
	}
	// Tools are not models: a failing tool does not count.
	s.Attempt(300, 1, 1, "tool:get_weather", 3, record.Outcome5xx)
	return s
}

func TestAvailabilityCounts(t *testing.T) {
	s, _, err := summary.Summarize(availabilityRun(t).Write())
	synth.Must(t, err)
	s.Seed = 3

	relay, _, ok := thresholds.Availability(s, []scenarios.TagFilter{{Key: "provider", Value: "relay"}})
	if !ok || relay.Answered != 3+91 || relay.Down != 4 {
		t.Errorf("relay: %+v, want 94 answered and 4 down (canceled and breaker_open left out)", relay)
	}
	all, note, ok := thresholds.Availability(s, nil)
	if !ok || all.Answered != 94+50 || all.Down != 4 || !strings.Contains(note, "2 keys") {
		t.Errorf("all model attempts: %+v (%q), want 144 answered, 4 down, over 2 keys", all, note)
	}
	if _, note, ok := thresholds.Availability(s, []scenarios.TagFilter{{Key: "provider", Value: "nobody"}}); ok || !strings.Contains(note, "no model attempts match") {
		t.Errorf("an unknown provider measured something: %q", note)
	}

	claims := claims.Evaluate(s, runfolder.Histograms{}, claimsOf(
		"availability.model{provider=relay} >= 99.9%",
		"availability.model{provider=relay} >= 85%",
		"availability.model{provider=primary} >= 90%",
		"availability.model{provider=relay,model=gpt-4.1} > 99.99%",
	))
	want := []string{summary.ClaimRefuted, summary.ClaimHolds, summary.ClaimHolds, summary.ClaimRefuted}
	for i, c := range claims {
		if c.Verdict != want[i] {
			t.Errorf("%s: %s, want %s (%+v)", c.Expect, c.Verdict, want[i], c.Interval)
		}
	}
	if iv := claims[0].Interval; iv.N != 98 || math.Abs(iv.Estimate-100*94.0/98) > 1e-9 {
		t.Errorf("relay interval %+v, want 94/98 of 98 attempts", iv)
	}
	if claims[2].Measured != "100%" {
		t.Errorf("primary measured %q: a 429 is an answer", claims[2].Measured)
	}

	// Thresholds read the same counts.
	ths := thresholds.Evaluate(s, []string{"availability.model{provider=relay} >= 96%", "availability.model{provider=primary} == 100%"})
	if ths[0].Pass || ths[0].Value != 95.918 {
		t.Errorf("threshold %+v, want 95.918%% failing 96%%", ths[0])
	}
	if !ths[1].Pass {
		t.Errorf("threshold %+v should pass", ths[1])
	}
	// A summary read back from summary.json has no counts: no value.
	bare := thresholds.Evaluate(&summary.Summary{}, []string{"availability.model >= 99%", "cost.saving >= 50%"})
	for _, th := range bare {
		if th.Pass || !strings.HasPrefix(th.Note, "no value") {
			t.Errorf("%s without counts: %+v", th.Expr, th)
		}
	}
}

// savingRun: 400 conversations of 1,000 prompt and 1,000 completion
// tokens each, half on model a and half on model b.
func savingRun(t *testing.T) (dir string) {
	s := synth.New(t, 20)
	for i := range 400 {
		key := "model:primary/a"
		if i%2 == 1 {
			key = "model:primary/b"
		}
		s.Attempts = append(s.Attempts, record.Attempt{
			Conversation: uint64(i), Kind: record.StepModel, Key: key, Attempt: 1,
			Start: s.At(float64(i) / 20), Outcome: record.OutcomeOK, PromptTokens: 1000, CompletionTokens: 1000,
		})
		s.Conversation(float64(i)/20, 0, "")
	}
	return s.Write()
}

// writeCatalog writes a catalog of models a and b at the given rates,
// the same for input and output.
func writeCatalog(t *testing.T, dir, name string, a, b float64) string {
	t.Helper()
	body := "name: " + name + "\nmodels:\n" +
		"  - {model: a, input_per_mtok: " + ftoa(a) + ", output_per_mtok: " + ftoa(a) + "}\n" +
		"  - {model: b, input_per_mtok: " + ftoa(b) + ", output_per_mtok: " + ftoa(b) + "}\n"
	path := filepath.Join(dir, name+".yaml")
	synth.Must(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

func ftoa(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestCostSavingClaim(t *testing.T) {
	dir := savingRun(t)
	cats := t.TempDir()
	// The run pays 1 for both models; the baseline 2 for a (50% saved) and
	// 10 for b (90% saved). Half the usage each: 1 - 2/12 = 83.33% saved,
	// and the mix of a and b in a resample moves it.
	run := writeCatalog(t, cats, "run", 1, 1)
	base := writeCatalog(t, cats, "base", 2, 10)
	const saving = 100 * (1 - 2.0/12)
	s, _, err := summary.Summarize(dir)
	synth.Must(t, err)
	s.Seed = 9
	s.Conversations = summary.Conversations{Counts: record.Counts{Started: 400, OK: 400}}
	s.Cost = &cost.Cost{Catalog: "run", Baseline: &cost.Baseline{Catalog: "base", SavingPercent: summary.Round3(saving)}}
	sc := claimsOf("cost.saving >= 80%", "cost.saving >= 83%", "cost.saving >= 90%", "cost.saving < 85%")
	sc.Cost = &scenarios.Cost{Catalog: run, Baseline: base}
	got := claims.Evaluate(s, runfolder.Histograms{}, sc)
	want := []string{summary.ClaimHolds, summary.ClaimInconclusive, summary.ClaimRefuted, summary.ClaimHolds}
	for i, c := range got {
		if c.Verdict != want[i] {
			t.Errorf("%s: %s, want %s (%+v, %q)", c.Expect, c.Verdict, want[i], c.Interval, c.Note)
		}
	}
	iv := got[0].Interval
	if iv.Lo >= saving || iv.Hi <= saving || iv.Hi-iv.Lo < 0.5 || iv.Hi-iv.Lo > 5 || iv.N != 400 {
		t.Errorf("interval %+v: want a spread of a few points around %.2f%% over 400 conversations", iv, saving)
	}
	if got[0].Measured != "83.333%" {
		t.Errorf("measured %q, want the cost section's 83.333%%", got[0].Measured)
	}

	// One price for both models: every resample saves the same.
	flat := writeCatalog(t, cats, "flat", 4, 4)
	sc.Cost.Baseline = flat
	s.Cost.Baseline = &cost.Baseline{Catalog: "flat", SavingPercent: 75}
	if iv := claims.Evaluate(s, runfolder.Histograms{}, sc)[0].Interval; math.Abs(iv.Lo-75) > 1e-9 || math.Abs(iv.Hi-75) > 1e-9 {
		t.Errorf("a uniform 75%% discount gave %+v", iv)
	}

	// No baseline: inconclusive, and the note says what to add.
	s.Cost.Baseline = nil
	c := claims.Evaluate(s, runfolder.Histograms{}, sc)[0]
	if c.Verdict != summary.ClaimInconclusive || !strings.Contains(c.Note, "cost.baseline") {
		t.Errorf("without a baseline: %+v", c)
	}
}

// TestClaimsInRunFolder renders a run folder whose scenario makes claims:
// summary.json, the terminal summary and report.md carry the verdicts, and
// a second render agrees with the first.
func TestClaimsInRunFolder(t *testing.T) {
	s := availabilityRun(t)
	for i := range 200 {
		errText := ""
		if i == 0 {
			errText = "5xx: 503 Service Unavailable"
		}
		s.Conversation(float64(i)/20, 100*time.Millisecond+time.Duration(i)*100*time.Microsecond, errText)
	}
	s.Faults = `claims:
  - name: "<150 ms average"
    source: https://relay.example/pricing
    expect: conversation.mean < 150ms
  - name: 99.99% uptime
    expect: availability.model{provider=relay} >= 99.99%
  - name: 85% cheaper
    expect: cost.saving >= 85%`
	dir := s.Write()
	sum, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Claims) != 3 {
		t.Fatalf("claims = %+v", sum.Claims)
	}
	want := []string{summary.ClaimHolds, summary.ClaimRefuted, summary.ClaimInconclusive}
	for i, c := range sum.Claims {
		if c.Verdict != want[i] {
			t.Errorf("%s: %s, want %s (%+v, %q)", c.Name, c.Verdict, want[i], c.Interval, c.Note)
		}
	}
	if sum.Claims[0].Source != "https://relay.example/pricing" || sum.Claims[0].Interval.N != 199 {
		t.Errorf("first claim %+v", sum.Claims[0])
	}

	var doc struct {
		Claims []summary.Claim `json:"claims"`
	}
	b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	synth.Must(t, err)
	synth.Must(t, json.Unmarshal(b, &doc))
	if len(doc.Claims) != 3 || doc.Claims[1].Verdict != summary.ClaimRefuted || doc.Claims[1].Range == "" {
		t.Errorf("summary.json claims = %+v", doc.Claims)
	}
	md, err := os.ReadFile(filepath.Join(dir, markdown.File))
	synth.Must(t, err)
	for _, want := range []string{"1 hold, 1 refuted, 1 inconclusive", "99.99% uptime", "❌", "cost.baseline"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	var out strings.Builder
	synth.Must(t, text.Print(&out, sum))
	if !strings.Contains(out.String(), "Claims (95% intervals)") || !strings.Contains(out.String(), "✗ 99.99% uptime") {
		t.Errorf("terminal summary:\n%s", out.String())
	}

	again, err := report.Write(dir)
	synth.Must(t, err)
	for i := range sum.Claims {
		if sum.Claims[i] != again.Claims[i] {
			t.Errorf("re-render changed %s: %+v, then %+v", sum.Claims[i].Name, sum.Claims[i], again.Claims[i])
		}
	}
}
