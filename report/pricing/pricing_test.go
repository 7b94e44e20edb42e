package pricing

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestDefaultCatalogListsTheIssueModels(t *testing.T) {
	c := Default()
	for _, m := range []string{"gpt-4.1", "gpt-4.1-mini", "claude-sonnet-4.5", "claude-haiku-4.5", "gemini-2.5-flash", "gemini-2.5-pro", "deepseek-v3.2"} {
		p, ok := c.Lookup(m)
		if !ok {
			t.Errorf("%s missing", m)
			continue
		}
		if p.Input <= 0 || p.Output <= 0 || p.Source == "" || p.Checked == "" {
			t.Errorf("%s: incomplete entry %+v", m, p)
		}
	}
	if p, _ := c.Lookup("claude-sonnet-4.5"); p.Input != 3 || p.Output != 15 {
		t.Errorf("sonnet 4.5 = %v/%v, want 3/15", p.Input, p.Output)
	}
}

func TestRelayExampleIsTheSeedTable(t *testing.T) {
	want := map[string]float64{"gpt-4.1": 1.20, "claude-sonnet-4.5": 2.25, "gemini-2.5-flash": 0.38, "deepseek-v3.2": 0.06}
	c := RelayExample()
	if len(c.Models) != len(want) {
		t.Fatalf("%d models, want %d", len(c.Models), len(want))
	}
	for m, v := range want {
		p, ok := c.Lookup(m)
		if !ok || p.Input != v || p.Output != v {
			t.Errorf("%s = %+v, want %v in and out", m, p, v)
		}
	}
}

func TestCostGolden(t *testing.T) {
	cached := 0.50
	p := Price{Input: 2, CachedInput: &cached, Output: 8}
	// 1,000,000 prompt of which 400,000 cached, 250,000 completion:
	// 600,000 × $2/M = $1.20; 400,000 × $0.50/M = $0.20; 250,000 × $8/M = $2.00
	// total $3.40.
	if got := p.Cost(Usage{Prompt: 1_000_000, Cached: 400_000, Completion: 250_000}); !near(got, 3.40) {
		t.Errorf("cost %v, want 3.40", got)
	}
	// No cached rate: cached tokens at the input rate, 1,000,000 × $2/M +
	// 250,000 × $8/M = $4.00.
	p.CachedInput = nil
	if got := p.Cost(Usage{Prompt: 1_000_000, Cached: 400_000, Completion: 250_000}); !near(got, 4.00) {
		t.Errorf("cost without cached rate %v, want 4.00", got)
	}
	// Relay DeepSeek at $0.06/M both ways: 500M tokens = $30.
	r, _ := RelayExample().Lookup("deepseek-v3.2")
	if got := r.Cost(Usage{Prompt: 400_000_000, Completion: 100_000_000}); !near(got, 30) {
		t.Errorf("relay 500M tokens %v, want 30", got)
	}
}

func TestLookupFallbacks(t *testing.T) {
	c := &Catalog{Models: []Price{{Model: "gpt-4.1", Input: 2}, {Model: "openai/gpt-4.1-mini", Input: 0.4}}}
	for model, want := range map[string]float64{"gpt-4.1": 2, "GPT-4.1": 2, "openai/gpt-4.1": 2, "gpt-4.1-mini": 0.4, "azure/GPT-4.1-MINI": 0.4} {
		p, ok := c.Lookup(model)
		if !ok || p.Input != want {
			t.Errorf("Lookup(%q) = %v, %v; want %v", model, p.Input, ok, want)
		}
	}
	if _, ok := c.Lookup("gpt-5"); ok {
		t.Error("gpt-5 found in a catalog without it")
	}
}

// TestLookupAPIIDs prices the ids the APIs themselves return against the
// names price lists use.
func TestLookupAPIIDs(t *testing.T) {
	c := Default()
	for model, want := range map[string]string{
		"claude-sonnet-4-5":          "claude-sonnet-4.5",
		"claude-sonnet-4-5-20250929": "claude-sonnet-4.5",
		"claude-haiku-4-5-20251001":  "claude-haiku-4.5",
		"gpt-4.1-2025-04-14":         "gpt-4.1",
		"gpt-4.1-mini-2025-04-14":    "gpt-4.1-mini",
		"models/gemini-2.5-flash":    "gemini-2.5-flash",
		"gemini-2.5-pro-latest":      "gemini-2.5-pro",
	} {
		p, ok := c.Lookup(model)
		if !ok || p.Model != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", model, p.Model, ok, want)
		}
	}
	// Another size or generation of the family must not match.
	for _, model := range []string{"claude-sonnet-4", "claude-opus-4-5", "gemini-2.5-flash-lite", "gpt-4.1-nano"} {
		if p, ok := c.Lookup(model); ok {
			t.Errorf("Lookup(%q) found %q", model, p.Model)
		}
	}
}

func TestLoadLiteLLM(t *testing.T) {
	const doc = `{
  "sample_spec": {"max_tokens": "LEGACY", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "one of https://docs.litellm.ai/docs/providers"},
  "gpt-4.1": {"input_cost_per_token": 2e-06, "output_cost_per_token": 8e-06, "cache_read_input_token_cost": 5e-07, "litellm_provider": "openai", "mode": "chat"},
  "dall-e-3": {"output_cost_per_image": 0.04, "mode": "image_generation"},
  "deepseek/deepseek-chat": {"input_cost_per_token": 2.8e-07, "output_cost_per_token": 4.2e-07, "litellm_provider": "deepseek"}
}`
	path := filepath.Join(t.TempDir(), "model_prices_and_context_window.json")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "model_prices_and_context_window" {
		t.Errorf("name %q", c.Name)
	}
	p, ok := c.Lookup("openai/gpt-4.1")
	if !ok || p.Input != 2 || p.Output != 8 || p.CachedInput == nil || *p.CachedInput != 0.5 || p.Provider != "openai" {
		t.Fatalf("gpt-4.1 = %+v, %v", p, ok)
	}
	if p, ok := c.Lookup("deepseek-chat"); !ok || p.Input != 0.28 || p.Output != 0.42 || p.CachedInput != nil {
		t.Errorf("deepseek-chat = %+v, %v", p, ok)
	}
	if _, ok := c.Lookup("dall-e-3"); ok {
		t.Error("image model without token prices was loaded")
	}
}

func TestLoadYAMLOverrideAndErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	os.WriteFile(good, []byte("models:\n  - model: my-model\n    input_per_mtok: 1\n    output_per_mtok: 2\n"), 0o644)
	c, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "mine" || len(c.Models) != 1 {
		t.Errorf("catalog %+v", c)
	}
	for name, body := range map[string]string{
		"empty.yaml":   "models: []\n",
		"neg.yaml":     "models:\n  - model: x\n    input_per_mtok: -1\n",
		"dup.yaml":     "models:\n  - model: x\n  - model: x\n",
		"nocost.json":  `{"a": {"mode": "chat"}}`,
		"garbage.yaml": "models: [",
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(body), 0o644)
		if _, err := Load(path); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if c, err := Open("relay"); err != nil || c.Name != RelayName {
		t.Errorf("Open(relay) = %v, %v", c, err)
	}
}

// TestHostileUsageNeverPricesBelowZero: counts a target reported (negative,
// or large enough to wrap an int64 sum) add nothing negative and saturate,
// so that a run's cost never falls below 0 nor wraps.
func TestHostileUsageNeverPricesBelowZero(t *testing.T) {
	p := Price{Model: "m", Input: 0.4, Output: 1.6}
	var u Usage
	for _, v := range []Usage{{Prompt: 1000}, {Prompt: -20_000_000}, {Prompt: 9e18, Completion: 9e18}, {Prompt: 9e18, Completion: 9e18, Cached: -5}} {
		u = u.Add(v)
		if c := p.Cost(u); !(c >= 0) || math.IsInf(c, 0) {
			t.Fatalf("after %+v: usage %+v costs %v", v, u, c)
		}
	}
	if u.Prompt != math.MaxInt64 || u.Completion != math.MaxInt64 || u.Cached != 0 {
		t.Fatalf("usage %+v, want saturated counts and no negative cached", u)
	}
	if c := p.Cost(Usage{Prompt: -20_000_000, Completion: -1}); c != 0 {
		t.Fatalf("negative usage costs %v", c)
	}
	if _, err := Parse("x", []byte("name: x\nmodels:\n  - {model: m, input_per_mtok: .inf, output_per_mtok: 1}\n")); err == nil {
		t.Fatal("an infinite price was accepted")
	}
}
