package pricing

import "testing"

// TestLookupForLiteLLM prices ids that several LiteLLM entries answer to
// (real entries, copied from model_prices_and_context_window.json into
// testdata): each provider gets its own vendor's entry, never the first
// reseller's by name.
func TestLookupForLiteLLM(t *testing.T) {
	c, err := Load("testdata/litellm-ambiguous.json")
	if err != nil {
		t.Fatal(err)
	}
	deepseek := Vendor("openai", "https://api.deepseek.com/v1")
	anthropic := Vendor("anthropic", "https://api.anthropic.com/v1")
	openrouter := Vendor("openai", "https://openrouter.ai/api/v1")
	for _, tc := range []struct {
		model, vendor, want string
	}{
		// deepseek-v3.2 names DeepSeek's own entry, Bedrock's deepseek.v3.2
		// (2.2x the price) and OpenRouter's.
		{"deepseek-v3.2", deepseek, "deepseek/deepseek-v3.2"},
		{"deepseek-v3.2", Vendor("openai", "mock"), "deepseek/deepseek-v3.2"}, // the model's maker
		{"deepseek-v3.2", "", "deepseek/deepseek-v3.2"},
		{"deepseek-v3.2", openrouter, "openrouter/deepseek/deepseek-v3.2"},
		// deepseek-chat: DeepSeek's at 0.28, OpenRouter's at 0.14.
		{"deepseek-chat", deepseek, "deepseek/deepseek-chat"},
		{"deepseek-chat", openrouter, "openrouter/deepseek/deepseek-chat"},
		// claude-haiku-4.5 is OpenRouter's spelling; Anthropic's id is
		// claude-haiku-4-5, and Bedrock's another.
		{"claude-haiku-4.5", anthropic, "claude-haiku-4-5"},
		{"claude-haiku-4.5", "", "claude-haiku-4-5"},
		{"claude-haiku-4.5", Vendor("openai", "http://127.0.0.1:8080/v1"), "claude-haiku-4-5"},
		{"claude-haiku-4.5", openrouter, "openrouter/anthropic/claude-haiku-4.5"},
		{"anthropic/claude-haiku-4.5", openrouter, "openrouter/anthropic/claude-haiku-4.5"},
		{"claude-sonnet-4-5-20250929", anthropic, "claude-sonnet-4-5"},
		// The exact id wins whatever the provider.
		{"claude-haiku-4-5-20251001", openrouter, "claude-haiku-4-5-20251001"},
		{"gemini-2.5-flash", Vendor("openai", "https://api.deepinfra.com/v1/openai"), "deepinfra/google/gemini-2.5-flash"},
	} {
		p, ok := c.LookupFor(tc.model, tc.vendor)
		if !ok || p.Model != tc.want {
			t.Errorf("LookupFor(%q, %q) = %q, %t; want %q", tc.model, tc.vendor, p.Model, ok, tc.want)
		}
	}
	if _, ok := c.Lookup("sample_spec"); ok {
		t.Error("sample_spec was loaded as a model")
	}
	// DeepSeek's entries name their cached rate input_cost_per_token_cache_hit.
	if p, _ := c.LookupFor("deepseek-v3.2", deepseek); p.CachedInput == nil || *p.CachedInput != 0.028 || p.Input != 0.28 || p.Output != 0.4 {
		t.Errorf("deepseek/deepseek-v3.2 rates %+v, want 0.28, cached 0.028, 0.40", p)
	}
}

func TestVendor(t *testing.T) {
	for _, tc := range []struct{ api, url, want string }{
		{"openai", "https://api.openai.com/v1", VendorOpenAI},
		{"anthropic", "https://api.anthropic.com/v1", VendorAnthropic},
		{"gemini", "https://generativelanguage.googleapis.com/v1beta", VendorGemini},
		{"openai", "https://api.deepseek.com", VendorDeepSeek},
		{"openai", "https://openrouter.ai/api/v1", VendorOpenRouter},
		{"openai", "https://my-team.openai.azure.com/openai", "azure"},
		{"anthropic", "mock", VendorAnthropic},
		{"gemini", "http://127.0.0.1:4000/v1beta", VendorGemini},
	} {
		if got := Vendor(tc.api, tc.url); got != tc.want {
			t.Errorf("Vendor(%q, %q) = %q, want %q", tc.api, tc.url, got, tc.want)
		}
	}
}

// TestEmbeddedCachedRates: the models whose providers bill cache reads
// carry the rate, so that a run's cached tokens are not priced at input.
func TestEmbeddedCachedRates(t *testing.T) {
	c := Default()
	for model, want := range map[string]float64{"claude-sonnet-4.5": 0.30, "claude-haiku-4.5": 0.10, "gemini-2.5-flash": 0.03, "deepseek-chat": 0.028} {
		p, ok := c.LookupFor(model, "")
		if !ok || p.Model != model || p.CachedInput == nil || *p.CachedInput != want {
			t.Errorf("%s: %+v, want its own entry with cached input %.3f", model, p, want)
		}
	}
}
