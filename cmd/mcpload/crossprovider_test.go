package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	comparereport "github.com/mcpload/mcpload/report/compare"
)

// TestCrossProviderRun runs the embedded cross-provider scenario as a user
// would: one command carries the same tool-use conversation through the
// OpenAI, Anthropic and Gemini dialects of the mock, with its tools on the
// mock's MCP server, and the comparison sets the three side by side under
// the same metric names.
func TestCrossProviderRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "xp")
	code, stdout, stderr := mcpload(t, "run", "cross-provider", "--duration", "2s", "--out", dir, "--progress", "off")
	if code != exitPass {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "comparison.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cmp comparereport.Comparison
	if err := json.Unmarshal(b, &cmp); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-flash"}
	if len(cmp.Policies) != len(want) {
		t.Fatalf("%d runs compared, want %d", len(cmp.Policies), len(want))
	}
	var offered uint64
	for _, row := range cmp.Policies {
		model, ok := want[row.Name]
		if !ok || row.Provider != row.Name || row.API != row.Name || row.Model != model {
			t.Errorf("row %q: provider %q, api %q, model %q", row.Name, row.Provider, row.API, row.Model)
		}
		if row.OK == 0 || row.SuccessRate != 100 {
			t.Errorf("%s: %d ok, %.2f%% success", row.Name, row.OK, row.SuccessRate)
		}
		// The same seed and load offer the same conversations to each.
		if offered == 0 {
			offered = row.Offered
		} else if row.Offered != offered {
			t.Errorf("%s: %d offered, the first run %d", row.Name, row.Offered, offered)
		}
		if row.TTFTP50MS == nil || *row.TTFTP50MS <= 0 {
			t.Errorf("%s: no TTFT, though every provider streams", row.Name)
		}
		if row.ITLP50MS == nil || row.OutputTokensPerS == nil || *row.OutputTokensPerS <= 0 {
			t.Errorf("%s: inter-token p50 %v, output tokens/s %v: want both for a stream", row.Name, row.ITLP50MS, row.OutputTokensPerS)
		}
		if row.CostPerOKUSD == nil || *row.CostPerOKUSD <= 0 {
			t.Errorf("%s: no cost per ok conversation: is %s in the price list?", row.Name, model)
		}

		// Each run spoke its own dialect to its own provider, and ran
		// the tools through MCP.
		s := readSummary(t, filepath.Join(dir, row.Name))
		key := record.AttemptModelKey(row.Name, model)
		if st := s.LatencyMS.Attempt[key]; st == nil || st.Count == 0 {
			t.Errorf("%s: no attempts under %s (have %v)", row.Name, key, keys(s.LatencyMS.Attempt))
		}
		for k := range s.LatencyMS.Attempt {
			if strings.HasPrefix(k, record.StepModel+":") && k != key {
				t.Errorf("%s: attempts under %s too", row.Name, k)
			}
		}
		if st := s.LatencyMS.Step[record.ToolKey("get_weather")]; st == nil || uint64(st.Count) < 2*row.OK {
			t.Errorf("%s: get_weather steps %v, want two per ok conversation", row.Name, st)
		}
	}
	for _, name := range []string{"OpenAI Chat Completions; openai: gpt-4.1 (openai)", "anthropic: claude-sonnet-4-5 (anthropic)", "TTFT p50", "cost per ok conversation"} {
		md, _ := os.ReadFile(filepath.Join(dir, "comparison.md"))
		if !strings.Contains(string(md), name) {
			t.Errorf("comparison.md lacks %q", name)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
