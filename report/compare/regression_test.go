package compare

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/report/summary"
)

// compareSide is a synthetic run for compareSummaries: n conversations
// with ok of them ok, latencies spread evenly over 50-150 ms times scale
// (on a 2 ms grid, which keeps the mean's bootstrap cheap), one model step
// at a third of that, and cost usd.
func compareSide(t *testing.T, seed int64, ok uint64, scale, usd float64) (*summary.Summary, runfolder.Histograms) {
	t.Helper()
	const n = 1000
	hs := runfolder.Histograms{}
	conv := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	step := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for i := range n {
		us := scale * float64(51000+2000*(i%50))
		synth.Must(t, conv.RecordValue(int64(us)))
		synth.Must(t, step.RecordValue(int64(us/3)))
	}
	hs[record.LevelConversation] = conv
	hs[record.Tag(record.LevelStep, "model:primary")] = step
	s := &summary.Summary{
		Scenario: "synthetic", Kind: "conversation", Seed: seed, Status: record.StatusComplete,
		Conversations: summary.Conversations{Counts: record.Counts{Started: n, OK: ok, Failed: n - ok}},
		Tokens:        record.Tokens{Prompt: 900 * n, Completion: 100 * n},
		Cost:          &cost.Cost{Catalog: "list-prices", TotalUSD: usd},
		LatencyMS: summary.Latencies{
			Conversation: summary.StatsOf(conv),
			Step:         map[string]*summary.Stats{"model:primary": summary.StatsOf(step)},
		},
	}
	return s, hs
}

func row(t *testing.T, c *RunComparison, metric string) Row {
	t.Helper()
	for _, r := range c.Rows {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %q in %v", metric, c.Rows)
	return Row{}
}

func TestCompareSummariesLatency(t *testing.T) {
	bs, bh := compareSide(t, 1, 1000, 1, 1)
	cases := []struct {
		scale   float64
		verdict string
	}{
		{1.5, VerdictRegression},
		{1.02, VerdictNoise},
		{1.08, VerdictNoise}, // a real change, but within the 10% tolerance
		{0.6, VerdictImprovement},
	}
	for _, c := range cases {
		ns, nh := compareSide(t, 2, 1000, c.scale, 1)
		cmp := compareSummaries(bs, bh, ns, nh, DefaultRegressionOptions)
		for _, metric := range []string{"conversation p50", "conversation p90", "conversation mean", "step model:primary p50"} {
			r := row(t, cmp, metric)
			if r.Verdict != c.verdict {
				t.Errorf("×%v %s: %s, want %s (ratio %+v)", c.scale, metric, r.Verdict, c.verdict, r.Ratio)
			}
			if r.Ratio == nil || r.Ratio.Lo > c.scale*1.01 || r.Ratio.Hi < c.scale*0.99 {
				t.Errorf("×%v %s: ratio interval %+v misses the true ratio", c.scale, metric, r.Ratio)
			}
		}
		if got := slices.Contains(cmp.Regressions, "conversation p50"); got != (c.verdict == VerdictRegression) {
			t.Errorf("×%v: regressions %v", c.scale, cmp.Regressions)
		}
		if got := slices.Contains(cmp.Improvements, "conversation p50"); got != (c.verdict == VerdictImprovement) {
			t.Errorf("×%v: improvements %v", c.scale, cmp.Improvements)
		}
	}

	// A tighter tolerance catches the 8% slowdown.
	ns, nh := compareSide(t, 2, 1000, 1.08, 1)
	cmp := compareSummaries(bs, bh, ns, nh, RegressionOptions{Tolerance: 0.02, RateTolerance: 0.5})
	if r := row(t, cmp, "conversation mean"); r.Verdict != VerdictRegression {
		t.Errorf("×1.08 at 2%% tolerance: %s (%+v)", r.Verdict, r.Ratio)
	}
	if r := row(t, cmp, "conversation p50"); r.DeltaPercent == nil || *r.DeltaPercent < 7 || *r.DeltaPercent > 9 {
		t.Errorf("p50 delta %% = %v, want about 8", r.DeltaPercent)
	}
}

func TestCompareSummariesRateAndCost(t *testing.T) {
	bs, bh := compareSide(t, 1, 1000, 1, 1.0)
	cases := []struct {
		ok                  uint64
		usd                 float64
		rateTol             float64
		rateVerdict, costV  string
		regressed, improved bool
	}{
		// 98% against 100%: the intervals part and the drop is 2 points.
		{980, 0.98, 0.5, VerdictRegression, VerdictNoise, true, false},
		// The same drop, within a 3-point rate tolerance.
		{980, 0.98, 3, VerdictNoise, VerdictNoise, false, false},
		// 99.8%: the intervals overlap, whatever the tolerance.
		{998, 0.998, 0, VerdictNoise, VerdictNoise, false, false},
		// Same rate, 20% dearer per successful conversation.
		{1000, 1.2, 0.5, VerdictNoise, VerdictRegression, true, false},
		// Half the price.
		{1000, 0.5, 0.5, VerdictNoise, VerdictImprovement, false, true},
	}
	for _, c := range cases {
		ns, nh := compareSide(t, 2, c.ok, 1, c.usd)
		cmp := compareSummaries(bs, bh, ns, nh, RegressionOptions{Tolerance: 0.10, RateTolerance: c.rateTol})
		rate := row(t, cmp, "success rate")
		if rate.Verdict != c.rateVerdict || rate.BaseInterval == nil || rate.NewInterval == nil {
			t.Errorf("%d ok, tolerance %v: success rate %s, want %s (%+v → %+v)", c.ok, c.rateTol, rate.Verdict, c.rateVerdict, rate.BaseInterval, rate.NewInterval)
		}
		cost := row(t, cmp, "cost per successful conversation")
		if cost.Verdict != c.costV {
			t.Errorf("$%v for %d ok: cost %s, want %s", c.usd, c.ok, cost.Verdict, c.costV)
		}
		if got := len(cmp.Regressions) > 0; got != c.regressed {
			t.Errorf("%d ok, $%v: regressions %v", c.ok, c.usd, cmp.Regressions)
		}
		if got := len(cmp.Improvements) > 0; got != c.improved {
			t.Errorf("%d ok, $%v: improvements %v", c.ok, c.usd, cmp.Improvements)
		}
		if r := row(t, cmp, "ok conversations"); r.Verdict != "" || *r.Delta != float64(c.ok)-1000 {
			t.Errorf("ok row %+v", r)
		}
	}

	// No cost section: no verdict, and a note.
	ns, nh := compareSide(t, 2, 1000, 1, 1)
	ns.Cost = nil
	cmp := compareSummaries(bs, bh, ns, nh, DefaultRegressionOptions)
	if r := row(t, cmp, "cost per successful conversation"); r.Verdict != "" || r.Note == "" || r.New != nil {
		t.Errorf("no cost: %+v", r)
	}
}

func TestRunComparisonOutput(t *testing.T) {
	bs, bh := compareSide(t, 1, 1000, 1, 1)
	ns, nh := compareSide(t, 2, 1000, 1.5, 1)
	ns.Scenario = "other"
	cmp := compareSummaries(bs, bh, ns, nh, DefaultRegressionOptions)
	cmp.Base.Dir, cmp.New.Dir = "results/base", "results/new"

	var md bytes.Buffer
	synth.Must(t, cmp.WriteMarkdown(&md))
	lines := strings.Split(md.String(), "\n")
	if !strings.HasPrefix(lines[0], "### mcpload compare: ❌") || !strings.Contains(lines[0], "regressions: conversation p50") {
		t.Errorf("markdown starts %q", lines[0])
	}
	if !strings.Contains(md.String(), "| conversation mean | 100.0ms | 150.0ms | +50.0ms | +50.0% | ×1.50 [") {
		t.Errorf("markdown table:\n%s", md.String())
	}
	if !strings.Contains(md.String(), "different scenarios") {
		t.Errorf("markdown does not note the scenarios differ:\n%s", md.String())
	}

	var text bytes.Buffer
	synth.Must(t, cmp.WriteText(&text))
	if !strings.Contains(text.String(), "Verdict: ") || !strings.Contains(text.String(), "within noise") {
		t.Errorf("text:\n%s", text.String())
	}

	var js bytes.Buffer
	synth.Must(t, cmp.WriteJSON(&js))
	var back RunComparison
	synth.Must(t, json.Unmarshal(js.Bytes(), &back))
	if back.Schema != RunComparisonSchema || len(back.Rows) != len(cmp.Rows) || !slices.Equal(back.Regressions, cmp.Regressions) {
		t.Errorf("json round trip: %+v", back)
	}
}

func TestRunFolder(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	synth.Must(t, os.Mkdir(run, 0o755))
	synth.Must(t, os.WriteFile(filepath.Join(run, record.RunFile), []byte("{}"), 0o644))
	if err := RunFolder(run); err != nil {
		t.Errorf("a run folder: %v", err)
	}
	cmp := filepath.Join(root, "cmp")
	synth.Must(t, os.Mkdir(cmp, 0o755))
	synth.Must(t, os.WriteFile(filepath.Join(cmp, "comparison.json"), []byte(`{"policies":[{"name":"a"},{"name":"b"}]}`), 0o644))
	for dir, want := range map[string]string{
		filepath.Join(root, "nope"):        "no such folder",
		cmp:                                "compare one policy's run, such as " + filepath.Join(cmp, "a") + " (policies: a, b)",
		root:                               "not a run folder",
		filepath.Join(run, record.RunFile): "is a file",
	} {
		if err := RunFolder(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("RunFolder(%s) = %v, want %q", dir, err, want)
		}
	}
}
