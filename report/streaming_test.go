package report

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/markdown"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// streamHist is a histogram of values in µs.
func streamHist(us ...int64) *hdrhistogram.Histogram {
	h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for _, v := range us {
		_ = h.RecordValue(v)
	}
	return h
}

// streamRun is a run with two streamed model keys: gpt-4.1-mini fast
// (20 ms gaps), gpt-4.1 slow (60 ms gaps), and the stream sums behind
// their output rates.
func streamRun() (*record.Run, runfolder.Histograms) {
	const fast, slow = "model:p/gpt-4.1-mini", "model:p/gpt-4.1"
	run := &record.Run{
		Scenario: "s", Status: record.StatusComplete,
		Streams: map[string]record.StreamTotals{
			// 10 streams of 41 tokens in 2 s each: 400 tokens after the
			// first events, over 20 s.
			fast: {Streams: 10, CompletionTokens: 410, GenerationUS: 20_000_000},
			// 4 streams of 21 tokens in 4 s each: 80 over 16 s.
			slow: {Streams: 4, CompletionTokens: 84, GenerationUS: 16_000_000},
		},
	}
	var fastGaps, slowGaps []int64
	for i := range 100 {
		fastGaps = append(fastGaps, 20_000+int64(i)*10)
		slowGaps = append(slowGaps, 60_000+int64(i)*100)
	}
	hs := runfolder.Histograms{
		record.Tag(record.LevelInterToken, fast):                       streamHist(fastGaps...),
		record.Tag(record.LevelInterToken, slow):                       streamHist(slowGaps...),
		record.Tag(record.LevelInterToken, slow) + record.FailedSuffix: streamHist(5_000_000),
		record.Tag(record.LevelTPOT, fast):                             streamHist(40_000, 50_000, 50_000, 80_000),
		record.Tag(record.LevelTPOT, slow):                             streamHist(200_000),
		record.Tag(record.LevelFirstToolCall, fast):                    streamHist(300_000, 500_000),
		record.Tag(record.LevelToolArgsComplete, fast):                 streamHist(900_000),
		record.Tag(record.LevelTTFT, "model:p"):                        streamHist(250_000),
	}
	return run, hs
}

func TestSummaryStreaming(t *testing.T) {
	run, hs := streamRun()
	s := summary.NewSummary(run, hs)
	l := s.LatencyMS
	fast, slow := "model:p/gpt-4.1-mini", "model:p/gpt-4.1"
	if it := l.InterToken[fast]; it == nil || it.Count != 100 || it.Min < 19.9 || it.Max > 21.1 {
		t.Fatalf("inter_token %s: %+v", fast, it)
	}
	// Failures are kept out of the successes.
	if it := l.InterToken[slow]; it == nil || it.Count != 100 || it.Max > 80 {
		t.Fatalf("inter_token %s: %+v", slow, it)
	}
	if ft := l.FirstToolCall[fast]; ft == nil || ft.Count != 2 || l.ToolArgsComplete[fast] == nil || l.TPOT[fast].Count != 4 || len(l.FirstToolCall) != 1 {
		t.Fatalf("stream levels %+v %+v %+v", l.FirstToolCall, l.ToolArgsComplete, l.TPOT)
	}
	if len(s.Streaming) != 2 {
		t.Fatalf("streaming %+v", s.Streaming)
	}
	// The ratio of sums: (tokens - one per stream) over the generation time.
	for key, want := range map[string]float64{fast: 400.0 / 20, slow: 80.0 / 16} {
		st := s.Streaming[key]
		if st == nil || math.Abs(st.OutputTokensPerS-want) > 1e-9 || st.Streams != run.Streams[key].Streams {
			t.Fatalf("%s: %+v, want %g tokens/s", key, st, want)
		}
	}
	// Per stream, the rate is 1/TPOT: the median TPOT of 50 ms is 20/s,
	// and the slow end (p10) is the inverse of TPOT's p90, 80 ms.
	if p := s.Streaming[fast].PerStream; p == nil || math.Abs(p.P50-20) > 0.05 || math.Abs(p.P10-12.5) > 0.05 || p.P1 > p.P10 {
		t.Fatalf("per stream %+v", p)
	}

	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"inter_token":{`, `"tpot":{`, `"first_tool_call":{`, `"tool_args_complete":{`, `"streaming":{`, `"output_tokens_per_s":20`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary.json lacks %s", want)
		}
	}

	// A run without streams has none of it.
	plain := summary.NewSummary(&record.Run{Scenario: "s"}, runfolder.Histograms{record.Tag(record.LevelAttempt, fast): streamHist(1000)})
	b, _ = json.Marshal(plain)
	for _, absent := range []string{"inter_token", "tpot", "first_tool_call", "tool_args_complete", "streaming"} {
		if strings.Contains(string(b), `"`+absent+`"`) {
			t.Errorf("summary.json of a run without streams has %s: %s", absent, b)
		}
	}
}

func TestStreamingThresholds(t *testing.T) {
	run, hs := streamRun()
	s := summary.NewSummary(run, hs)
	for _, tc := range []struct {
		expr     string
		value    float64
		pass     bool
		measured string
		note     string
	}{
		{"inter_token.model.p99 < 80ms", 69.8, true, "69.8ms", "model:p/gpt-4.1 of 2 keys"},
		{"inter_token.model{model=gpt-4.1-mini}.p50 >= 20ms", 20.5, true, "20.5ms", ""},
		{"inter_token.model{provider=p}.max < 50ms", 69.95, false, "70ms", "model:p/gpt-4.1 of 2 keys"},
		{"first_tool_call.model.p90 < 1s", 500.2, true, "500.2ms", ""},
		{"tool_args_complete.model.count == 1", 1, true, "1", ""},
		{"tpot.model{model=gpt-4.1}.p50 < 100ms", 200.1, false, "200.1ms", ""},
		// Output rates: the smallest over the keys decides a >.
		{"output_tokens_per_s > 30", 5, false, "5/s", "model:p/gpt-4.1 of 2 keys"},
		{"output_tokens_per_s{model=gpt-4.1-mini} > 15/s", 20, true, "20/s", ""},
		{"output_tokens_per_s < 25", 20, true, "20/s", "model:p/gpt-4.1-mini of 2 keys"},
	} {
		got := thresholds.Evaluate(s, []string{tc.expr})[0]
		if math.Abs(got.Value-tc.value) > 0.11 || got.Pass != tc.pass || got.Measured != tc.measured || got.Note != tc.note {
			t.Errorf("%s: got value %g pass %v measured %q note %q; want %g %v %q %q",
				tc.expr, got.Value, got.Pass, got.Measured, got.Note, tc.value, tc.pass, tc.measured, tc.note)
		}
	}
	// Nothing to measure is a failure, with the reason.
	for _, expr := range []string{"output_tokens_per_s{provider=other} > 1", "inter_token.model{provider=other}.p99 < 1s"} {
		got := thresholds.Evaluate(s, []string{expr})[0]
		if got.Pass || !strings.HasPrefix(got.Note, "no value: ") || !strings.Contains(got.Note, "provider=other") {
			t.Errorf("%s: %+v", expr, got)
		}
	}
	plain := summary.NewSummary(&record.Run{Scenario: "s"}, runfolder.Histograms{})
	if got := thresholds.Evaluate(plain, []string{"output_tokens_per_s > 1"})[0]; got.Pass || got.Note == "" {
		t.Errorf("no streams: %+v", got)
	}
}

func TestStreamingThresholdParse(t *testing.T) {
	th, err := scenarios.ParseThreshold("output_tokens_per_s{provider=p,model=m} >= 30/s")
	if err != nil || th.Kind != scenarios.MetricRate || len(th.Filters) != 2 || th.Limit != 30 || th.Stat != "" {
		t.Fatalf("%+v, %v", th, err)
	}
	th, err = scenarios.ParseThreshold("tpot.model{provider=p}.p90 < 40ms")
	if err != nil || th.Metric != "tpot.model" || th.Stat != "p90" || th.Limit != 40 {
		t.Fatalf("%+v, %v", th, err)
	}
	for bad, want := range map[string]string{
		"inter_token.model < 80ms":         "missing a statistic",
		"output_tokens_per_s{tool=x} > 1":  "takes the tag filters provider, model",
		"first_tool_call.model.p99 < 5":    "no unit",
		"output_tokens_per_s.p50 > 30":     "output_tokens_per_s is not a latency and takes no statistic",
		"tpot.model{model=m}.p99.9 < 10ms": "",
	} {
		_, err := scenarios.ParseThreshold(bad)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", bad, err, want)
		}
	}
}

func TestStreamingText(t *testing.T) {
	run, hs := streamRun()
	s := summary.NewSummary(run, hs)
	var b strings.Builder
	if err := text.Print(&b, s); err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	if err := markdown.Write(&md, s); err != nil {
		t.Fatal(err)
	}
	for out, wants := range map[string][]string{
		b.String():  {"Output rate", "[tokens/s model:p/gpt-4.1-mini]", "20.0 over 10 streams; per stream p50 20.0, p10 12.5", "inter-token model:p/gpt-4.1 ", "first tool call model:p/gpt-4.1-mini", "tpot model:p/gpt-4.1-mini"},
		md.String(): {"| output rate (tokens/s) |", "| model:p/gpt-4.1-mini | 10 | 20.0 | 20.0 | 12.5 |", "| inter-token model:p/gpt-4.1-mini |"},
	} {
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("lacks %q:\n%s", want, out)
			}
		}
	}
}
