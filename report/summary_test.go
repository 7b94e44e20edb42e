package report

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/text"
)

func TestSummaryFromRunFolder(t *testing.T) {
	dir := synth.HistogramFolder(t, false)
	s, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := s.LatencyMS.Conversation
	if c == nil || c.Count != 1000 {
		t.Fatalf("conversation stats = %+v, want 1000 merged values", c)
	}
	// 3 significant digits: values are within 0.1% of the exact percentile.
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"p50", c.P50, 500}, {"p90", c.P90, 900}, {"p99", c.P99, 990}, {"max", c.Max, 1000}, {"mean", c.Mean, 500.5}} {
		if math.Abs(tc.got-tc.want)/tc.want > 0.002 {
			t.Errorf("conversation %s = %v, want %v ±0.2%%", tc.name, tc.got, tc.want)
		}
	}
	if st := s.LatencyMS.StepFailed["model:primary"]; st == nil || st.Count != 1 || math.Abs(st.Max-30000) > 30 {
		t.Errorf("step_failed[model:primary] = %+v, want one value of 30000 ms", st)
	}
	if _, ok := s.LatencyMS.Step["model:primary"]; ok {
		t.Error("a failed step leaked into the success histograms")
	}
	if st := s.LatencyMS.Attempt["tool:get_weather"]; st == nil || math.Abs(st.P50-5) > 0.01 {
		t.Errorf("attempt[tool:get_weather] = %+v, want p50 5 ms", st)
	}
	if s.Conversations.SuccessRate != 98.02 { // 990 / (1000 started + 10 dropped)
		t.Errorf("success_rate = %v, want 98.02", s.Conversations.SuccessRate)
	}
	if s.Attempts.Amplification != 1.1 {
		t.Errorf("amplification = %v, want 1.1", s.Attempts.Amplification)
	}
	if s.DurationS != 10 {
		t.Errorf("duration_s = %v, want 10", s.DurationS)
	}

	// summary.json is the contract: check the documented keys exist.
	raw, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"rate.target", "rate.achieved", "conversations.started", "conversations.ok",
		"conversations.failed", "conversations.dropped", "latency_ms.conversation.p999", "attempts.total",
		"attempts.retries", "attempts.fallbacks", "attempts.by_outcome", "tokens", "cost", "thresholds"} {
		if _, ok := synth.Lookup(doc, path); !ok {
			t.Errorf("summary.json has no %s", path)
		}
	}

	hgrm, err := os.ReadFile(filepath.Join(dir, "conversation.hgrm"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(hgrm), "1/(1-Percentile)") || !strings.Contains(string(hgrm), "Total count    =         1000") {
		t.Errorf("conversation.hgrm is not an HdrHistogram percentile distribution:\n%.300s", hgrm)
	}
	if _, err := os.Stat(filepath.Join(dir, "step.model_primary.failed.hgrm")); err != nil {
		t.Errorf("no hgrm for the failed step: %v", err)
	}
}

func TestPrintText(t *testing.T) {
	s, err := Write(synth.HistogramFolder(t, false))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := text.Print(&b, s); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"[target, achieved, throughput]", "100.00/s, 99.50/s", "1000, 990, 10, 10", "timeout 10", "step model:primary (failed)", "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
	}
}
