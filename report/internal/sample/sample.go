// Package sample holds a synthetic summary for the tests of the packages
// that judge and render one.
package sample

import (
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
)

// Summary is a synthetic run: 200 offered, 190 ok, 6 failed, 4
// dropped, two providers' model keys and two tools.
func Summary() *summary.Summary {
	st := func(p50, p95, p99 float64, n int64) *summary.Stats {
		return &summary.Stats{Count: n, Mean: p50 * 1.1, Min: p50 / 4, P50: p50, P90: p95 * 0.9, P95: p95, P99: p99, P999: p99 * 1.5, Max: p99 * 2}
	}
	return &summary.Summary{
		Scenario:      "synthetic",
		Status:        record.StatusComplete,
		Rate:          record.RunRate{Target: 20, Achieved: 19.9, Throughput: 19},
		Conversations: summary.Conversations{Counts: record.Counts{Started: 196, OK: 190, Failed: 6, Dropped: 4}, SuccessRate: 95},
		Attempts:      summary.Attempts{AttemptCounts: record.AttemptCounts{Total: 900, Retries: 12, Fallbacks: 3, Steps: 600, StepAttempts: 630}, Amplification: 1.05},
		Tokens:        record.Tokens{Prompt: 1000, Completion: 200, Cached: 50},
		LatencyMS: summary.Latencies{
			Conversation: st(150, 300, 2410, 190),
			Service:      st(140, 290, 900, 190),
			Step: map[string]*summary.Stats{
				"model:primary":    st(60, 700, 900, 380),
				"model:secondary":  st(80, 850, 1200, 20),
				"tool:get_weather": st(20, 30, 31, 380),
			},
			Attempt: map[string]*summary.Stats{
				"model:primary/gpt-4.1-mini": st(60, 700, 900, 390),
				"model:primary/gpt-4.1":      st(90, 750, 950, 10),
				"tool:get_weather":           st(20, 30, 31, 380),
				"mcp:tools/initialize":       st(1, 2, 3, 6),
			},
			TTFT: map[string]*summary.Stats{},
		},
		InvalidToolArgs: 2,
	}
}
