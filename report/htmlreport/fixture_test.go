package htmlreport

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/confidence"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
)

// fixtureName has markup in it, to show that the page escapes what the
// run folder says.
const fixtureName = `fixture <script>alert("x")</script> & co`

// fixtureError is an error message with markup, as a provider might send.
const fixtureError = `upstream said <b>overloaded</b> & "retry later"`

func f64(v float64) *float64 { return &v }

func stats(n int64, p50 float64) *summary.Stats {
	return &summary.Stats{Count: n, Mean: p50 * 1.1, Min: p50 / 2, P50: p50, P90: p50 * 1.8, P95: p50 * 2, P99: p50 * 3, P999: p50 * 4, Max: p50 * 5}
}

// fixtureSummary is a summary with every section the page can show:
// a failed threshold, claims of each verdict, failures, resilience with a
// fault window and breaker transitions, and a cost with every projection.
func fixtureSummary() *summary.Summary {
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return &summary.Summary{
		Schema: summary.SummarySchema, Scenario: fixtureName, Kind: "conversation", Seed: 42,
		Version: "v0.0.0-test", Status: record.StatusComplete,
		Started: start, Ended: start.Add(30 * time.Second), DurationS: 30, PlannedS: 30,
		Rate: record.RunRate{Target: 20, Achieved: 19.9, Throughput: 18.2},
		Conversations: summary.Conversations{
			Counts:      record.Counts{Started: 600, OK: 540, Failed: 50, Dropped: 10, ByOutcome: map[string]uint64{"timeout": 42, "5xx": 8}},
			SuccessRate: 88.525,
		},
		LatencyMS: summary.Latencies{
			Conversation:       stats(540, 180),
			ConversationFailed: stats(50, 3000),
			Service:            stats(540, 175),
			Step:               map[string]*summary.Stats{"model:primary": stats(1080, 70), "tool:get_weather": stats(540, 18)},
			StepFailed:         map[string]*summary.Stats{"model:primary": stats(50, 3000)},
			Attempt:            map[string]*summary.Stats{"model:primary/gpt-4.1-mini": stats(1080, 69), "tool:get_weather": stats(540, 17)},
			AttemptFailed:      map[string]*summary.Stats{"model:primary/gpt-4.1-mini": stats(120, 2900)},
			TTFT:               map[string]*summary.Stats{},
		},
		Attempts: summary.Attempts{
			AttemptCounts: record.AttemptCounts{Total: 1800, Retries: 120, Fallbacks: 30, ByOutcome: map[string]uint64{"ok": 1680, "timeout": 100, "5xx": 20}, Steps: 1700, StepAttempts: 1800},
			Amplification: 1.059,
		},
		Tokens: record.Tokens{Prompt: 600000, Completion: 70000, Cached: 120000},
		Cost: &cost.Cost{
			TotalUSD: 1.2345, PerConversationUSD: 0.0020575, PerSuccessfulConversationUSD: 0.002286, RetryOverheadUSD: 0.05,
			CacheSavingsUSD: f64(0.1),
			ByModel: []cost.ModelCost{
				{Model: "primary/gpt-4.1-mini", Attempts: 1200, USD: f64(1.2345), RetryUSD: 0.05},
				{Model: "secondary/unknown-model", Attempts: 30},
			},
			Catalog: "list-prices", Complete: false,
			Assumptions: []string{cost.Assumption},
			Notes:       []string{"unknown-model is not in the list-prices catalog"},
			Baseline:    &cost.Baseline{Catalog: "relay-example", TotalUSD: 8.23, SavingUSD: 7, SavingPercent: 85, Complete: true},
			Monthly:     &cost.Monthly{Basis: "500M tokens/month", Scale: 746.27, USD: 921.27, Baseline: f64(6141.8)},
			Payback:     &cost.Payback{ImplementationHours: 40, HourlyRateUSD: 150, ImplementationUSD: 6000, MonthlySavingUSD: 5220.5, AnnualSavingUSD: 62646, PaybackMonths: f64(1.27), ROI12Percent: f64(944.1)},
			WhatIf: []cost.WhatIfRow{
				{Model: "deepseek-v3.2", Provider: "deepseek", InputPerMTok: 0.28, CachedInputPerMTok: f64(0.028), OutputPerMTok: 0.42, USD: 0.2, MonthlyUSD: f64(149.3)},
				{Model: "gpt-4.1-mini", Provider: "openai", InputPerMTok: 0.4, OutputPerMTok: 1.6, USD: 1.2345, MonthlyUSD: f64(921.27)},
			},
		},
		Thresholds: []summary.Threshold{
			{Expr: "success_rate >= 99%", Value: 88.525, Pass: false, Measured: "88.53%", Limit: "99%"},
			{Expr: "conversation.p99 < 2s", Value: 540, Pass: true, Measured: "540ms", Limit: "2s"},
			{Expr: "cost.total < $1", Pass: false, Limit: "$1", Note: "no value: the run was not priced"},
		},
		Claims: []summary.Claim{
			{Name: "<50 ms average latency", Source: "https://vendor.example/pricing", Expect: "attempt.model{provider=primary}.mean < 50ms", Verdict: summary.ClaimRefuted,
				Interval: confidence.Interval{Estimate: 75.9, Lo: 74, Hi: 78, N: 1080, Method: confidence.MethodBootstrap}, Measured: "75.9ms", Range: "[74ms, 78ms]"},
			{Name: "99% success", Expect: "success_rate >= 80%", Verdict: summary.ClaimHolds,
				Interval: confidence.Interval{Estimate: 0.885, Lo: 0.86, Hi: 0.91, N: 600, Method: confidence.MethodWilson}, Measured: "88.53%", Range: "[86%, 91%]"},
			{Name: "cheaper", Expect: "cost.saving >= 85%", Verdict: summary.ClaimInconclusive, Note: "no interval for a cost"},
		},
		Resilience: &summary.Resilience{
			Amplification: 1.059, Steps: 1700, StepAttempts: 1800,
			RetriesByReason: map[string]uint64{"timeout": 100, "5xx": 20},
			Fallbacks:       30, FallbackRoutes: map[string]uint64{"primary->secondary": 30},
			BreakerOpens: 1,
			Breaker: []summary.BreakerChange{
				{T: 12.5, Provider: "primary", From: "closed", To: "open"},
				{T: 17.5, Provider: "primary", From: "open", To: "half_open"},
				{T: 18, Provider: "primary", From: "half_open", To: "closed"},
			},
			Cache:         summary.CacheEffect{Hits: 40, Misses: 560, HitRate: 0.0667, TokensSaved: 40000},
			Conversations: summary.Fates{Offered: 600, OK: 540, Failed: 50, Dropped: 10, ByCause: map[string]uint64{"timeout": 42, "5xx": 8, "dropped": 10}, SuccessRate: 90},
			Goodput:       summary.Goodput{LimitS: 6, Count: 530, RatePerS: 17.7, Share: 88.3},
			Tokens:        summary.TokenSpend{Prompt: 600000, Completion: 70000, FailedPrompt: 9000, FailedCompletion: 100},
			Offered: map[string]summary.Load{
				"provider:primary": {Attempts: 1260, Failed: 120, PeakRPS: 93, MeanRPS: 42},
				"tool:get_weather": {Attempts: 540, PeakRPS: 30, MeanRPS: 18},
			},
			OfferedOutsideFaults: map[string]summary.Load{
				"provider:primary": {Attempts: 900, PeakRPS: 60, MeanRPS: 45},
				"tool:get_weather": {Attempts: 400, PeakRPS: 30, MeanRPS: 20},
			},
			FailingTargets:    []string{"provider:primary"},
			BaselineSuccess:   f64(0.99),
			RecoveryThreshold: 0.99,
			Faults: []summary.FaultWindow{{
				Name: "primary-slowdown", Target: "provider:primary", Kind: "latency", FromS: 10, EndS: 20,
				Offered:       map[string]summary.Load{"provider:primary": {Attempts: 360, Failed: 120, PeakRPS: 93, MeanRPS: 36}},
				Amplification: 1.4,
				Conversations: summary.Fates{Offered: 200, OK: 140, Failed: 50, Dropped: 10, ByCause: map[string]uint64{"timeout": 42, "5xx": 8, "dropped": 10}},
				Goodput:       135, RetriesByReason: map[string]uint64{"timeout": 100}, Fallbacks: 30,
				Recovered: true, RecoveryS: f64(2.5),
			}},
			Series: "timeseries.json",
		},
	}
}

// fixtureAttempts are the attempts.jsonl lines of the fixture: successes
// and failures of a model and a tool, with errors worth escaping.
func fixtureAttempts() []record.Attempt {
	var out []record.Attempt
	add := func(n int, key, outcome, err string) {
		kind := record.StepModel
		if key[:4] == "tool" {
			kind = record.StepTool
		}
		for range n {
			out = append(out, record.Attempt{Conversation: uint64(len(out)), Kind: kind, Key: key, Attempt: 1, Outcome: outcome, Error: err})
		}
	}
	add(30, "model:primary/gpt-4.1-mini", "ok", "")
	add(12, "tool:get_weather", "ok", "")
	add(7, "model:primary/gpt-4.1-mini", "timeout", `Post "http://127.0.0.1:4000/v1/chat/completions": context deadline exceeded`)
	add(3, "model:primary/gpt-4.1-mini", "5xx", fixtureError)
	add(2, "tool:get_weather", "tool_error", "")
	return out
}

// fixtureScenario stands for the resolved scenario.yaml.
const fixtureScenario = "# resolved\nversion: 1\nname: \"fixture <script>\"\nseed: 42\nload:\n  stages: [{rate: 20, duration: 30s}]\n"

// writeFixtureRun writes a run folder with the fixture's attempts, its
// scenario and, when nplots > 0, that many PNG plots, and returns it.
func writeFixtureRun(t *testing.T, dir string, nplots int) []plot.File {
	t.Helper()
	writeAttempts(t, dir, fixtureAttempts())
	must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte(fixtureScenario), 0o644))
	return writePlots(t, dir, nplots)
}

func writeAttempts(t *testing.T, dir string, attempts []record.Attempt) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, record.AttemptsFile))
	must(t, err)
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range attempts {
		must(t, enc.Encode(&attempts[i]))
	}
	must(t, w.Flush())
	must(t, f.Close())
}

// writePlots draws n fake plots, PNGs of a line on a grid, into
// dir/plots, as the plot package would, and returns their files.
func writePlots(t *testing.T, dir string, n int) []plot.File {
	t.Helper()
	if n == 0 {
		return nil
	}
	must(t, os.MkdirAll(filepath.Join(dir, plot.Dir), 0o755))
	var files []plot.File
	for i := range n {
		name := fmt.Sprintf("fake-%d", i)
		png := filepath.ToSlash(filepath.Join(plot.Dir, name+".png"))
		svg := filepath.ToSlash(filepath.Join(plot.Dir, name+".svg"))
		writePNG(t, filepath.Join(dir, png), 640+40*i, 300, i)
		must(t, os.WriteFile(filepath.Join(dir, svg), []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0o644))
		files = append(files, plot.File{
			Name: name, PNG: png, SVG: svg,
			Title:   fmt.Sprintf("Fake plot %d <i>", i),
			Caption: fmt.Sprintf("Caption %d: how to read it & why.", i),
		})
	}
	return files
}

func writePNG(t *testing.T, path string, w, h, seed int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{255, 255, 255, 255}
			if x%80 == 0 || y%60 == 0 {
				c = color.RGBA{225, 228, 232, 255}
			}
			if line := h - 20 - (x*(h-40)/w+seed*17)%(h-40); y >= line-1 && y <= line+1 {
				c = color.RGBA{9, 105, 218, 255}
			}
			img.Set(x, y, c)
		}
	}
	f, err := os.Create(path)
	must(t, err)
	must(t, png.Encode(f, img))
	must(t, f.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fixtureComparison writes a comparison folder with one policy folder per
// name, each with its summary.json and report.html, the first failing
// a threshold, and returns the comparison.
func fixtureComparison(t *testing.T, dir string, names ...string) *compare.Comparison {
	t.Helper()
	cmp := &compare.Comparison{Schema: compare.ComparisonSchema, Scenario: "incident <replay>", Seed: 7, FailingTargets: []string{"provider:primary"}}
	for i, name := range names {
		pdir := filepath.Join(dir, name)
		must(t, os.MkdirAll(pdir, 0o755))
		s := fixtureSummary()
		s.Scenario = cmp.Scenario
		if i > 0 {
			s.Thresholds = []summary.Threshold{{Expr: "success_rate >= 50%", Pass: true, Measured: "90%", Limit: "50%"}}
			s.Claims = nil
		}
		b, err := json.Marshal(s)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(pdir, record.SummaryFile), b, 0o644))
		writeFixtureRun(t, pdir, 0)
		must(t, Write(pdir, s, nil))
		row := compare.PolicyRow{
			Name: name, Description: "policy " + name + " <desc>", Dir: pdir, Status: record.StatusComplete,
			SuccessRate: 60 + 10*float64(i), Offered: 1000, OK: uint64(600 + 100*i), Failed: uint64(300 - 100*i), Dropped: 100,
			P50MS: f64(200 + float64(i)), P99MS: f64(3450 - 1000*float64(i)), Amplification: 1.12, PeakFailingRPS: f64(93),
			RecoveryS: f64(0), GoodputShare: 60 + 10*float64(i), Tokens: 738468, Retries: 358, Fallbacks: uint64(i),
		}
		if i == 1 {
			row.P99MS, row.P50MS, row.RecoveryS, row.NeverRecovered = nil, nil, nil, true
		}
		cmp.Policies = append(cmp.Policies, row)
	}
	return cmp
}
