package cost_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/pricing"
)

const vendorScenario = `version: 1
name: vendors
providers:
  ds: {api: openai, base_url: "https://api.deepseek.com/v1", model: deepseek-v3.2}
  claude: {api: anthropic, base_url: "https://api.anthropic.com/v1", model: claude-haiku-4.5}
  or: {api: openai, base_url: "https://openrouter.ai/api/v1", model: deepseek-chat}
mcp_servers:
  tools: {url: mock}
tools:
  - name: get_weather
    inputSchema: {type: object}
conversation:
  provider: ds
  turns:
    - user: hi
      model: [{content: done}]
load:
  stages: [{rate: 1, duration: 1s}]
`

// TestPriceRunNamesEntry prices each provider's model on a LiteLLM map
// where several vendors sell it: the row names the entry used, which is
// the provider's own vendor's, and what-if lists chat models only.
func TestPriceRunNamesEntry(t *testing.T) {
	dir, s := usageRun(t, 3, 3,
		modelAttempt("ds/deepseek-v3.2", record.OutcomeOK, 1_000_000, 0, 1_000_000),
		modelAttempt("claude/claude-haiku-4.5", record.OutcomeOK, 1_000_000, 0, 0),
		modelAttempt("or/deepseek-chat", record.OutcomeOK, 1_000_000, 0, 0))
	synth.Must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte(vendorScenario), 0o644))
	cat, err := pricing.Load("../pricing/testdata/litellm-ambiguous.json")
	synth.Must(t, err)
	c, err := cost.PriceRun(dir, measured(s), cat)
	synth.Must(t, err)
	want := map[string]struct {
		entry, provider string
		usd             float64
	}{
		"ds/deepseek-v3.2":        {"deepseek/deepseek-v3.2", "deepseek", 0.28 + 0.40},
		"claude/claude-haiku-4.5": {"claude-haiku-4-5", "anthropic", 1.00},
		"or/deepseek-chat":        {"openrouter/deepseek/deepseek-chat", "openrouter", 0.14},
	}
	for _, m := range c.ByModel {
		w, ok := want[m.Model]
		if !ok || m.USD == nil || m.CatalogEntry != w.entry || m.CatalogProvider != w.provider {
			t.Errorf("%s priced as %q (%s), want %q (%s)", m.Model, m.CatalogEntry, m.CatalogProvider, w.entry, w.provider)
			continue
		}
		near(t, m.Model, *m.USD, w.usd, 1e-9)
	}
	for _, r := range cost.WhatIf(cat, c.Usage(), 0) {
		if r.Model == "sample_spec" || r.Model == "text-embedding-3-small" || r.Model == "embed-english-v3.0" || r.Model == "azure_ai/Cohere-embed-v3-english" {
			t.Errorf("what-if lists %s, not a chat model", r.Model)
		}
	}
}
