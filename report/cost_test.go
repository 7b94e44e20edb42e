package report

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
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
	writeJSONL(t, filepath.Join(dir, record.AttemptsFile), attempts, true)
	cached := 0.5
	cat := &pricing.Catalog{Name: "test", Models: []pricing.Price{
		{Model: "gpt-4.1", Input: 2, CachedInput: &cached, Output: 8},
		{Model: "deepseek-v3.2", Input: 0.06, Output: 0.06},
	}}
	s := &Summary{Conversations: Conversations{Counts: record.Counts{Started: 4, OK: 2}}}
	c, err := PriceRun(dir, s, cat)
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
	byName := map[string]ModelCost{}
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
	th := EvaluateThresholds(s, []string{"cost.per_conversation_usd < 2", "cost.total_usd < 4"})
	if !th[0].Pass || th[1].Pass || !strings.Contains(th[0].Note, "priced models only") {
		t.Errorf("thresholds %+v", th)
	}
}

func TestPriceRunCacheSavings(t *testing.T) {
	dir := t.TempDir()
	writeJSONL(t, filepath.Join(dir, record.AttemptsFile), []record.Attempt{
		{Kind: record.StepModel, Key: "model:p/gpt-4.1", Attempt: 1, Outcome: record.OutcomeOK, PromptTokens: 750_000, CompletionTokens: 250_000},
	}, false)
	cat := &pricing.Catalog{Name: "t", Models: []pricing.Price{{Model: "gpt-4.1", Input: 2, Output: 8}}}
	s := &Summary{Resilience: &Resilience{Cache: CacheEffect{Hits: 10, TokensSaved: 500_000}}}
	c, err := PriceRun(dir, s, cat)
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
