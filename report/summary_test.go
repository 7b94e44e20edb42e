package report

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/text"
)

// writeRunFolder writes a run.json and an interval log in which tag
// "conversation" holds 1..1000 ms spread over two intervals, plus a failed
// step and an attempt key.
func writeRunFolder(t *testing.T, tornTail bool) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	run := record.Run{
		Scenario: "synthetic", Kind: "conversation", Seed: 7, Status: record.StatusComplete,
		Started: start, Ended: start.Add(10 * time.Second), Planned: 10 * time.Second,
		Rate:          record.RunRate{Target: 100, Achieved: 99.5, Throughput: 98},
		Conversations: record.Counts{Started: 1000, OK: 990, Failed: 10, Dropped: 10, ByOutcome: map[string]uint64{"timeout": 10}},
		Attempts:      record.AttemptCounts{Total: 5520, StepAttempts: 5500, Retries: 500, Steps: 5000, ByOutcome: map[string]uint64{"ok": 5400, "timeout": 100}},
	}
	b, _ := json.Marshal(run)
	if err := os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}

	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	_ = lw.OutputLogFormatVersion()
	_ = lw.OutputStartTime(start.UnixMilli())
	_ = lw.OutputLegend()
	out := func(tag string, from, to int64, i int) {
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		for v := from; v <= to; v++ {
			_ = h.RecordValue(v * 1000) // ms -> µs
		}
		h.SetTag(tag)
		h.SetStartTimeMs(start.Add(time.Duration(i) * time.Second).UnixMilli())
		h.SetEndTimeMs(start.Add(time.Duration(i+1) * time.Second).UnixMilli())
		if err := lw.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
	}
	out("conversation", 1, 500, 0)
	out("conversation", 501, 1000, 1)
	out("step.model:primary.failed", 30000, 30000, 1)
	out("attempt.tool:get_weather", 5, 5, 1)
	w.Flush()
	if tornTail {
		f.WriteString("Tag=conversation,2.000,1.000,9.9,HISTFAAAA") // cut mid-line
	}
	f.Close()
	return dir
}

func TestSummaryFromRunFolder(t *testing.T) {
	dir := writeRunFolder(t, false)
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

func TestTornLogKeepsWholeIntervals(t *testing.T) {
	dir := writeRunFolder(t, true)
	hs, err := runfolder.ReadHistograms(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := hs["conversation"].TotalCount(); n != 1000 {
		t.Errorf("conversation count = %d after a torn tail, want the 1000 whole-line values", n)
	}
}

func TestPrintText(t *testing.T) {
	s, err := Write(writeRunFolder(t, false))
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
