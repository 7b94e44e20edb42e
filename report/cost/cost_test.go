package cost_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

func TestPriceRunGolden(t *testing.T) {
	dir := t.TempDir()
	attempts := []record.Attempt{
		// conversation 1: a 500 on primary, then an ok retry, then a tool call.
		{Conversation: 1, Step: 0, Kind: record.StepModel, Key: "model:primary/gpt-4.1", Attempt: 1, Outcome: record.Outcome5xx},
		{Conversation: 1, Step: 0, Kind: record.StepModel, Key: "model:primary/gpt-4.1", Attempt: 2, Outcome: record.OutcomeOK, PromptTokens: 1_000_000, CachedTokens: 400_000, CompletionTokens: 250_000},
		{Conversation: 1, Step: 1, Kind: record.StepTool, Key: "tool:get_weather", Attempt: 1, Outcome: record.OutcomeOK, PromptTokens: 99},
		// a stream cut after usage was reported: billed, and retry overhead.
		{Conversation: 2, Step: 0, Kind: record.StepModel, Key: "model:primary/gpt-4.1", Attempt: 1, Outcome: record.OutcomeProtocol, PromptTokens: 100_000, CompletionTokens: 50_000},
		// the fallback provider.
		{Conversation: 2, Step: 0, Kind: record.StepModel, Key: "model:backup/deepseek-v3.2", Attempt: 2, Outcome: record.OutcomeOK, PromptTokens: 2_000_000, CompletionTokens: 1_000_000},
		// a model the catalog does not know.
		{Conversation: 3, Step: 0, Kind: record.StepModel, Key: "model:local/llama-9", Attempt: 1, Outcome: record.OutcomeOK, PromptTokens: 10, CompletionTokens: 5},
	}
	synth.WriteJSONL(t, filepath.Join(dir, record.AttemptsFile), attempts, true)
	cached := 0.5
	cat := &pricing.Catalog{Name: "test", Models: []pricing.Price{
		{Model: "gpt-4.1", Input: 2, CachedInput: &cached, Output: 8},
		{Model: "deepseek-v3.2", Input: 0.06, Output: 0.06},
	}}
	s := &summary.Summary{Conversations: summary.Conversations{Counts: record.Counts{Started: 4, OK: 2}}}
	c, err := cost.PriceRun(dir, measured(s), cat)
	if err != nil {
		t.Fatal(err)
	}
	// gpt-4.1: ok retry 600k×2 + 400k×0.5 + 250k×8 = 1.20+0.20+2.00 = 3.40;
	// cut stream 100k×2 + 50k×8 = 0.20+0.40 = 0.60; model total 4.00.
	// deepseek: 3M × 0.06/M = 0.18. Total 4.18; retries 0.60.
	want := map[string]float64{
		"total":   4.18,
		"per":     4.18 / 4,
		"per ok":  4.18 / 2,
		"retries": 0.60,
	}
	got := map[string]float64{"total": c.TotalUSD, "per": c.PerConversationUSD, "per ok": c.PerSuccessfulConversationUSD, "retries": c.RetryOverheadUSD}
	for k, w := range want {
		if math.Abs(got[k]-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if len(c.ByModel) != 3 {
		t.Fatalf("by_model %+v, want 3 models (tools excluded)", c.ByModel)
	}
	byName := map[string]cost.ModelCost{}
	for _, m := range c.ByModel {
		byName[m.Model] = m
	}
	if m := byName["primary/gpt-4.1"]; m.Attempts != 3 || m.Prompt != 1_100_000 || m.Cached != 400_000 || m.USD == nil || math.Abs(*m.USD-4) > 1e-9 {
		t.Errorf("gpt-4.1 row %+v", m)
	}
	if m := byName["local/llama-9"]; m.USD != nil || m.Prompt != 10 {
		t.Errorf("unknown model row %+v: want counted tokens and null usd", m)
	}
	if c.Complete || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "llama-9") {
		t.Errorf("complete %v notes %q: want the unknown model noted", c.Complete, c.Notes)
	}
	if len(c.Assumptions) != 1 || !strings.Contains(c.Assumptions[0], "0 tokens") {
		t.Errorf("assumptions %q", c.Assumptions)
	}
	if c.CacheSavingsUSD != nil {
		t.Errorf("cache savings %v without a cache", *c.CacheSavingsUSD)
	}
	// The thresholds read the same figures and say the total is partial.
	s.Cost = c
	th := thresholds.Evaluate(s, []string{"cost.per_conversation_usd < 2", "cost.total_usd < 4"})
	if !th[0].Pass || th[1].Pass || !strings.Contains(th[0].Note, "priced models only") {
		t.Errorf("thresholds %+v", th)
	}
}

func TestPriceRunCacheSavings(t *testing.T) {
	dir := t.TempDir()
	synth.WriteJSONL(t, filepath.Join(dir, record.AttemptsFile), []record.Attempt{
		{Kind: record.StepModel, Key: "model:p/gpt-4.1", Attempt: 1, Outcome: record.OutcomeOK, PromptTokens: 750_000, CompletionTokens: 250_000},
	}, false)
	cat := &pricing.Catalog{Name: "t", Models: []pricing.Price{{Model: "gpt-4.1", Input: 2, Output: 8}}}
	s := &summary.Summary{Resilience: &summary.Resilience{Cache: summary.CacheEffect{Hits: 10, TokensSaved: 500_000}}}
	c, err := cost.PriceRun(dir, measured(s), cat)
	if err != nil {
		t.Fatal(err)
	}
	// 750k×2 + 250k×8 = 1.50+2.00 = $3.50 for 1M tokens; 500k saved = $1.75.
	if c.CacheSavingsUSD == nil || math.Abs(*c.CacheSavingsUSD-1.75) > 1e-9 {
		t.Errorf("cache savings %v, want 1.75", c.CacheSavingsUSD)
	}
	if !c.Complete || c.TotalUSD != 3.5 {
		t.Errorf("cost %+v", c)
	}
}

// usageRun writes attempts.jsonl with the given model attempts and returns
// the folder and a summary of started conversations.
func usageRun(t *testing.T, started, ok uint64, attempts ...record.Attempt) (string, *summary.Summary) {
	t.Helper()
	dir := t.TempDir()
	synth.WriteJSONL(t, filepath.Join(dir, record.AttemptsFile), attempts, false)
	return dir, &summary.Summary{Conversations: summary.Conversations{Counts: record.Counts{Started: started, OK: ok}}}
}

// measured is what pricing takes of s.
func measured(s *summary.Summary) cost.Measured {
	m := cost.Measured{Started: s.Conversations.Started, OK: s.Conversations.OK}
	if s.Resilience != nil {
		m.TokensSaved = s.Resilience.Cache.TokensSaved
	}
	return m
}

func modelAttempt(key, outcome string, prompt, cached, completion int) record.Attempt {
	return record.Attempt{Kind: record.StepModel, Key: "model:" + key, Attempt: 1, Outcome: outcome,
		PromptTokens: prompt, CachedTokens: cached, CompletionTokens: completion}
}

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v (±%v)", name, got, want, tol)
	}
}

// TestProjectSeedROI reproduces the seed's ROI calculator from measured
// tokens: 500M tokens/month at a blended $8/MTok (GPT-4.1) is $4,000; at
// the relay's $1.20/MTok $600; the saving $3,400/month; 40 h × $100 =
// $4,000 to switch; $40,800 a year; payback 1.2 months; 12-month ROI 920%.
// The seed prices every token alike, so the baseline here charges input and
// output the same; the token counts are arbitrary, since the projection
// scales them to 500M whatever they are.
func TestProjectSeedROI(t *testing.T) {
	dir, s := usageRun(t, 10, 9,
		modelAttempt("primary/gpt-4.1", record.OutcomeOK, 1_234_567, 0, 345_678),
		// a retried 5xx that reported usage still counts, and is overhead.
		modelAttempt("primary/gpt-4.1", record.Outcome5xx, 10_000, 0, 2_000),
	)
	blended := &pricing.Catalog{Name: "seed-gpt-4.1", Models: []pricing.Price{{Model: "gpt-4.1", Input: 8, Output: 8}}}
	monthly := &scenarios.Monthly{Tokens: 500e6}
	c, err := cost.Project(dir, measured(s), cost.Options{Catalog: pricing.RelayExample(), Baseline: blended, Monthly: monthly,
		Switch: &scenarios.Switch{ImplementationHours: 40, HourlyRateUSD: 100}})
	if err != nil {
		t.Fatal(err)
	}
	tokens := float64(1_234_567 + 345_678 + 10_000 + 2_000)
	near(t, "run total", c.TotalUSD, tokens*1.20/1e6, 1e-12)
	near(t, "retry overhead", c.RetryOverheadUSD, 12_000*1.20/1e6, 1e-12)
	if c.Baseline == nil || c.Monthly == nil || c.Payback == nil {
		t.Fatalf("baseline %+v monthly %+v payback %+v: want all three", c.Baseline, c.Monthly, c.Payback)
	}
	near(t, "saving %", c.Baseline.SavingPercent, 85, 0)
	if !c.Baseline.Complete || c.Baseline.Catalog != "seed-gpt-4.1" {
		t.Errorf("baseline %+v", c.Baseline)
	}
	m := c.Monthly
	if m.Basis != "500M tokens/month" || m.Baseline == nil {
		t.Fatalf("monthly %+v", m)
	}
	near(t, "scale", m.Scale, 500e6/tokens, 1e-9)
	near(t, "monthly relay", m.USD, 600, 0.005)
	near(t, "monthly GPT-4.1", *m.Baseline, 4000, 0.005)
	p := c.Payback
	near(t, "monthly saving", p.MonthlySavingUSD, 3400, 0.005)
	near(t, "implementation", p.ImplementationUSD, 4000, 0.005)
	near(t, "annual saving", p.AnnualSavingUSD, 40_800, 0.005)
	if p.PaybackMonths == nil || p.ROI12Percent == nil {
		t.Fatalf("payback %+v: want months and ROI", p)
	}
	near(t, "payback months", *p.PaybackMonths, 4000.0/3400, 0.001)
	near(t, "ROI %", *p.ROI12Percent, 920, 0.001)

	// The people-facing texts round as the seed does.
	var b strings.Builder
	s.Cost = c
	synth.Must(t, text.Print(&b, s))
	for _, want := range []string{"$600.00 (baseline $4,000.00)", "$4,000.00, $3,400.00, 1.2 months, 920%", "85.00%"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
	// cost.saving gates on the same figure.
	if th := thresholds.Evaluate(s, []string{"cost.saving >= 85%", "cost.saving > 85%"}); !th[0].Pass || th[1].Pass {
		t.Errorf("cost.saving thresholds %+v", th)
	}
}

// TestProjectListPrices compares the relay with the embedded list prices,
// where GPT-4.1's cached input is cheaper and output dearer than input.
func TestProjectListPrices(t *testing.T) {
	list := pricing.Default()
	if p, ok := list.Lookup("gpt-4.1"); !ok || p.Input != 2 || p.CachedInput == nil || *p.CachedInput != 0.5 || p.Output != 8 {
		t.Fatalf("gpt-4.1 list price %+v: this test assumes $2 input, $0.50 cached, $8 output; update it", p)
	}
	dir, s := usageRun(t, 100, 100,
		modelAttempt("p/gpt-4.1", record.OutcomeOK, 600_000, 400_000, 150_000),
		modelAttempt("p/gpt-4.1", record.OutcomeOK, 400_000, 0, 100_000),
	)
	c, err := cost.Project(dir, measured(s), cost.Options{Catalog: pricing.RelayExample(), Baseline: list,
		Monthly: &scenarios.Monthly{Conversations: 40_000}, Switch: &scenarios.Switch{ImplementationHours: 40, HourlyRateUSD: 100}})
	if err != nil {
		t.Fatal(err)
	}
	// 1M prompt (400k cached) and 250k completion. List: 600k×2 + 400k×0.5
	// + 250k×8 = 1.20+0.20+2.00 = $3.40. Relay, one rate and no cached
	// discount: 1.25M × 1.20 = $1.50. Saving 1.90/3.40 = 55.882%.
	near(t, "relay total", c.TotalUSD, 1.5, 1e-12)
	near(t, "list total", c.Baseline.TotalUSD, 3.4, 1e-12)
	near(t, "saving %", c.Baseline.SavingPercent, 100*1.9/3.4, 0.001)
	// 40k conversations a month over 100 measured: ×400.
	near(t, "scale", c.Monthly.Scale, 400, 0)
	if c.Monthly.Basis != "40k conversations/month" {
		t.Errorf("basis %q", c.Monthly.Basis)
	}
	near(t, "monthly", c.Monthly.USD, 600, 0.005)
	near(t, "monthly list", *c.Monthly.Baseline, 1360, 0.005)
	near(t, "saving/month", c.Payback.MonthlySavingUSD, 760, 0.005)
	near(t, "payback months", *c.Payback.PaybackMonths, 4000.0/760, 0.001)
	near(t, "ROI %", *c.Payback.ROI12Percent, (12*760.0-4000)/4000*100, 0.001)
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "no cached-input rate") }) {
		t.Errorf("notes %q: want the relay's missing cached rate said", c.Notes)
	}
	// What-if on the run's catalog, cheapest first, monthly at ×400.
	if len(c.WhatIf) != len(pricing.RelayExample().Models) {
		t.Fatalf("what-if rows %d", len(c.WhatIf))
	}
	for i, r := range c.WhatIf {
		if i > 0 && r.USD < c.WhatIf[i-1].USD {
			t.Errorf("what-if not sorted: %v before %v", c.WhatIf[i-1], r)
		}
		if r.MonthlyUSD == nil || math.Abs(*r.MonthlyUSD-r.USD*400) > 1e-6 {
			t.Errorf("what-if %s monthly %v, want 400 × %v", r.Model, r.MonthlyUSD, r.USD)
		}
		if r.Model == "gpt-4.1" {
			near(t, "what-if gpt-4.1", r.USD, c.TotalUSD, 1e-12)
		}
	}
}

func TestProjectPartialBaseline(t *testing.T) {
	dir, s := usageRun(t, 4, 4,
		modelAttempt("a/gpt-4.1", record.OutcomeOK, 1_000_000, 0, 0),
		modelAttempt("b/claude-sonnet-4.5", record.OutcomeOK, 1_000_000, 0, 0),
		modelAttempt("c/gpt-4.1-mini", record.OutcomeOK, 1_000_000, 0, 0),
	)
	run := &pricing.Catalog{Name: "run", Models: []pricing.Price{{Model: "gpt-4.1", Input: 1, Output: 1}, {Model: "claude-sonnet-4.5", Input: 1, Output: 1}}}
	base := &pricing.Catalog{Name: "base", Models: []pricing.Price{{Model: "gpt-4.1", Input: 4, Output: 4}, {Model: "gpt-4.1-mini", Input: 100, Output: 100}}}
	c, err := cost.Project(dir, measured(s), cost.Options{Catalog: run, Baseline: base})
	if err != nil {
		t.Fatal(err)
	}
	// Only gpt-4.1 is priced on both: $1 against $4, a 75% saving. The
	// baseline's total still shows every model it prices: 4 + 100.
	b := c.Baseline
	if b == nil || b.Complete {
		t.Fatalf("baseline %+v: want a partial comparison", b)
	}
	near(t, "saving %", b.SavingPercent, 75, 0)
	near(t, "saving $", b.SavingUSD, 3, 1e-12)
	near(t, "baseline total", b.TotalUSD, 104, 1e-9)
	notes := strings.Join(c.Notes, "\n")
	for _, want := range []string{"claude-sonnet-4.5 is not in the baseline base catalog", "gpt-4.1-mini has no price in the run's run catalog"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if c.Monthly != nil || c.Payback != nil {
		t.Errorf("monthly %+v payback %+v without a volume or switch", c.Monthly, c.Payback)
	}

	// No model on both sides: no saving at all, rather than 100%.
	none := &pricing.Catalog{Name: "none", Models: []pricing.Price{{Model: "gemini-2.5-pro", Input: 1, Output: 1}}}
	c, err = cost.Project(dir, measured(s), cost.Options{Catalog: run, Baseline: none, Switch: &scenarios.Switch{ImplementationHours: 1, HourlyRateUSD: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Baseline != nil || c.Payback != nil {
		t.Errorf("baseline %+v payback %+v with nothing in common", c.Baseline, c.Payback)
	}
	s.Cost = c
	if th := thresholds.Evaluate(s, []string{"cost.saving >= 10%"}); th[0].Pass || th[0].Note == "" {
		t.Errorf("cost.saving without a baseline: %+v", th[0])
	}
}

func TestPaybackEdges(t *testing.T) {
	dir, s := usageRun(t, 1, 1, modelAttempt("p/gpt-4.1", record.OutcomeOK, 1_000_000, 0, 0))
	cheap := &pricing.Catalog{Name: "cheap", Models: []pricing.Price{{Model: "gpt-4.1", Input: 1, Output: 1}}}
	dear := &pricing.Catalog{Name: "dear", Models: []pricing.Price{{Model: "gpt-4.1", Input: 3, Output: 3}}}
	month := &scenarios.Monthly{Conversations: 10}

	// Dearer than the baseline: a negative saving never pays back.
	c, err := cost.Project(dir, measured(s), cost.Options{Catalog: dear, Baseline: cheap, Monthly: month, Switch: &scenarios.Switch{ImplementationHours: 10, HourlyRateUSD: 50}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Payback
	near(t, "saving %", c.Baseline.SavingPercent, -200, 0)
	near(t, "saving/month", p.MonthlySavingUSD, -20, 1e-9)
	if p.PaybackMonths != nil || p.ROI12Percent == nil {
		t.Fatalf("payback %+v: want no payback and a ROI", p)
	}
	near(t, "ROI", *p.ROI12Percent, (12*-20.0-500)/500*100, 1e-9)
	if p.MonthsText() != "never (no saving)" {
		t.Errorf("payback text %q", p.MonthsText())
	}

	// A free switch: immediate payback, ROI left out.
	c, err = cost.Project(dir, measured(s), cost.Options{Catalog: cheap, Baseline: dear, Monthly: month, Switch: &scenarios.Switch{}})
	if err != nil {
		t.Fatal(err)
	}
	p = c.Payback
	if p.PaybackMonths == nil || *p.PaybackMonths != 0 || p.ROI12Percent != nil {
		t.Errorf("free switch payback %+v", p)
	}
	near(t, "annual", p.AnnualSavingUSD, 12*20, 1e-9)

	// A switch without a monthly volume has nothing to pay back from.
	c, err = cost.Project(dir, measured(s), cost.Options{Catalog: cheap, Baseline: dear, Switch: &scenarios.Switch{ImplementationHours: 1, HourlyRateUSD: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Payback != nil || !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "no payback") }) {
		t.Errorf("payback %+v notes %q", c.Payback, c.Notes)
	}

	// A volume the run cannot scale: no conversations started.
	s0 := &summary.Summary{}
	c, err = cost.Project(dir, measured(s0), cost.Options{Catalog: cheap, Monthly: month})
	if err != nil {
		t.Fatal(err)
	}
	if c.Monthly != nil || !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "no monthly projection") }) {
		t.Errorf("monthly %+v notes %q", c.Monthly, c.Notes)
	}
}

func TestWhatIfCap(t *testing.T) {
	dir, s := usageRun(t, 1, 1, modelAttempt("p/m-000", record.OutcomeOK, 1000, 0, 1000))
	big := &pricing.Catalog{Name: "big"}
	for i := range cost.MaxWhatIfRows + 20 {
		big.Models = append(big.Models, pricing.Price{Model: fmt.Sprintf("m-%03d", i), Input: float64(100 - i), Output: 1})
	}
	c, err := cost.Project(dir, measured(s), cost.Options{Catalog: big})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.WhatIf) != cost.MaxWhatIfRows || c.WhatIf[0].Model != fmt.Sprintf("m-%03d", cost.MaxWhatIfRows+19) {
		t.Errorf("what-if %d rows from %s: want the %d cheapest", len(c.WhatIf), c.WhatIf[0].Model, cost.MaxWhatIfRows)
	}
	if c.WhatIf[0].MonthlyUSD != nil {
		t.Errorf("monthly what-if without a volume")
	}
	if !slices.ContainsFunc(c.Notes, func(n string) bool { return strings.Contains(n, "mcpload cost") }) {
		t.Errorf("notes %q: want the cut said", c.Notes)
	}
	if rows := cost.WhatIf(big, pricing.Usage{}, 0); rows != nil {
		t.Errorf("what-if of no usage: %v", rows)
	}
}

func TestCatalogs(t *testing.T) {
	dir := t.TempDir()
	custom := filepath.Join(dir, "mine.yaml")
	synth.Must(t, os.WriteFile(custom, []byte("name: mine\nmodels:\n  - {model: gpt-4.1, input_per_mtok: 1, output_per_mtok: 1}\n"), 0o644))
	sc := func(catalog, baseline string) *scenarios.Scenario {
		return &scenarios.Scenario{Cost: &scenarios.Cost{Catalog: catalog, Baseline: baseline}}
	}
	name := func(c *pricing.Catalog) string {
		if c == nil {
			return "<nil>"
		}
		return c.Name
	}
	for _, tc := range []struct {
		sc            *scenarios.Scenario
		run, baseline string
	}{
		{nil, "list-prices", "<nil>"},
		{&scenarios.Scenario{}, "list-prices", "<nil>"},
		{sc("", ""), "list-prices", "<nil>"},
		{sc("relay", ""), "relay-example", "list-prices"},
		{sc(custom, ""), "mine", "list-prices"},
		{sc(custom, "relay-example"), "mine", "relay-example"},
		{sc("relay-example", "relay"), "relay-example", "<nil>"},
		{sc("", "list-prices"), "list-prices", "<nil>"},
		{sc("", custom), "list-prices", "mine"},
	} {
		run, base, err := cost.Catalogs(tc.sc)
		if err != nil || name(run) != tc.run || name(base) != tc.baseline {
			t.Errorf("Catalogs(%+v) = %s, %s, %v; want %s, %s", tc.sc, name(run), name(base), err, tc.run, tc.baseline)
		}
	}

	gone := filepath.Join(dir, "gone.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	synth.Must(t, os.WriteFile(bad, []byte("name: bad\nmodels: []\n"), 0o644))
	for _, tc := range []struct {
		sc   *scenarios.Scenario
		want []string
	}{
		{sc(gone, ""), []string{"cost.catalog", gone, "does not exist"}},
		{sc("", gone), []string{"cost.baseline", gone, "does not exist"}},
		{sc(bad, ""), []string{"cost.catalog", bad, "no models"}},
	} {
		_, _, err := cost.Catalogs(tc.sc)
		if err == nil {
			t.Errorf("Catalogs(%+v) accepted", tc.sc.Cost)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q lacks %q", err, w)
			}
		}
	}
}

// TestSummarizeUsesScenarioCost re-renders a run folder whose scenario has
// a cost: section, then again after its catalog file is gone.
func TestSummarizeUsesScenarioCost(t *testing.T) {
	catalog := filepath.Join(t.TempDir(), "relay.yaml")
	synth.Must(t, os.WriteFile(catalog, []byte("name: my-relay\nmodels:\n  - {model: gpt-4.1-mini, input_per_mtok: 0.1, output_per_mtok: 0.1}\n"), 0o644))
	r := synth.New(t, 2)
	r.Faults = fmt.Sprintf("cost: {catalog: %q, monthly: {conversations: 1M}, switch: {implementation_hours: 8, hourly_rate_usd: 150}}", catalog)
	for i := range 4 {
		r.Conversation(float64(i)/4, 100*time.Millisecond, "")
		r.Attempt(uint64(i), 0, 1, "model:primary/gpt-4.1-mini", float64(i)/4, record.OutcomeOK)
		r.Attempts[len(r.Attempts)-1].PromptTokens = 2_000
		r.Attempts[len(r.Attempts)-1].CompletionTokens = 500
	}
	dir := r.Write()
	s, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cost
	if c == nil || c.Catalog != "my-relay" || c.Baseline == nil || c.Baseline.Catalog != "list-prices" || c.Monthly == nil || c.Payback == nil {
		t.Fatalf("cost %+v: want the scenario's catalog, the list prices as baseline, monthly and payback", c)
	}
	// 10k tokens at $0.10/MTok = $0.001 for 4 conversations; 1M a month
	// is ×250k.
	near(t, "total", c.TotalUSD, 0.001, 1e-12)
	near(t, "monthly", c.Monthly.USD, 250, 1e-6)
	near(t, "implementation", c.Payback.ImplementationUSD, 1200, 0)
	md, err := os.ReadFile(filepath.Join(dir, markdown.File))
	synth.Must(t, err)
	for _, want := range []string{"#### Cost (catalog `my-relay`)", "| monthly at 1M conversations/month | $250.00", "| 12-month ROI |", "| gpt-4.1-mini |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	synth.Must(t, err)
	var doc map[string]any
	synth.Must(t, json.Unmarshal(b, &doc))
	for _, path := range []string{"cost.baseline.saving_percent", "cost.monthly.usd", "cost.payback.payback_months", "cost.payback.roi_12_month_percent", "cost.what_if"} {
		if _, ok := synth.Lookup(doc, path); !ok {
			t.Errorf("summary.json lacks %s", path)
		}
	}

	synth.Must(t, os.Remove(catalog))
	if _, err := report.Write(dir); err == nil || !strings.Contains(err.Error(), catalog) {
		t.Errorf("re-render without the catalog file: %v; want an error naming %s", err, catalog)
	}
}

func TestFormatCountAndUSD(t *testing.T) {
	for v, want := range map[float64]string{500e6: "500M", 2500: "2.5k", 1e6: "1M", 3e9: "3B", 999: "999", 40_000: "40k"} {
		if got := cost.FormatCount(v); got != want {
			t.Errorf("FormatCount(%v) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{40_800: "$40,800.00", 4000: "$4,000.00", 1_234_567.891: "$1,234,567.89", 600: "$600.00", 1.5: "$1.50",
		0.000123: "$0.000123", 0.0125: "$0.0125", 0: "$0", -3400: "-$3,400.00"} {
		if got := cost.USD(v); got != want {
			t.Errorf("USD(%v) = %q, want %q", v, got, want)
		}
	}
}
