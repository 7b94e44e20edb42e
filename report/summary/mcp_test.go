package summary

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/pricing"
)

func TestSummarizeMCPAbsentAndCatalog(t *testing.T) {
	s := synth.New(t, 2)
	s.NoScenario = true
	s.Attempt(0, 0, 1, "model:primary/gpt-4.1-mini", 0.5, record.OutcomeOK)
	m, byCode, err := summarizeMCP(s.Write(), nil, nil)
	if err != nil || m != nil || byCode != nil {
		t.Errorf("no MCP measures: %+v, %v, %v", m, byCode, err)
	}

	ts := &ToolsSchemaCost{Dialects: dialectSchemas(map[string]int{"openai": 4000, "anthropic": 3600, "gemini": 3200})}
	cat := pricing.Default()
	ts.price(schemaModels(nil, cat))
	if len(ts.Models) != len(cat.Models) {
		t.Fatalf("%d models priced, catalog has %d", len(ts.Models), len(cat.Models))
	}
	wantTokens := map[string]int{"openai": 1000, "anthropic": 900, "gemini": 800}
	for i, mc := range ts.Models {
		p := cat.Models[i]
		if mc.Model != p.Model || mc.TokensEstimated != wantTokens[mc.API] || mc.InputPerMTok != p.Input {
			t.Errorf("%+v for %+v", mc, p)
		}
		switch {
		case strings.HasPrefix(p.Model, "claude") && mc.API != "anthropic",
			strings.HasPrefix(p.Model, "gemini") && mc.API != "gemini",
			strings.HasPrefix(p.Model, "gpt") && mc.API != "openai":
			t.Errorf("%s priced in %s", p.Model, mc.API)
		}
	}
}
