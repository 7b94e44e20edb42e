package attacker

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// readHarnessSamples reads harness.jsonl.
func readHarnessSamples(t *testing.T, dir string) []record.HarnessSample {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, record.HarnessFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []record.HarnessSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s record.HarnessSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("harness.jsonl line %d: %v", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out
}

// TestScheduleLagRecorded runs two stages against the in-process mock: every
// arrival's schedule lag is in the schedule_lag histogram, once in all and
// once in its stage's, and the process was sampled from before the first
// arrival to the end.
func TestScheduleLagRecorded(t *testing.T) {
	sc := oneTurnScenario(scenarios.MockURL, scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(5 * time.Millisecond)}, 40, time.Second, 100)
	sc.Load.Stages = append(sc.Load.Stages, scenarios.Stage{Rate: 80, Duration: scenarios.Duration(time.Second)})
	url := jobsStartMock(t, sc)
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Run(context.Background(), sc, dir, WithMockURL(url), WithGetenv(func(string) string { return "sk-lag" }),
		WithInterval(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f := readRunFolder(t, dir)
	started := int64(run.Conversations.Started)
	if started < 100 {
		t.Fatalf("%d conversations started, want ~120", started)
	}
	all := f.hists[record.LevelScheduleLag]
	if all == nil {
		t.Fatalf("no %s histogram in %s", record.LevelScheduleLag, record.HistogramsFile)
	}
	if all.TotalCount() != started {
		t.Errorf("schedule lag recorded %d arrivals, %d started", all.TotalCount(), started)
	}
	if all.Min() < 0 {
		t.Errorf("schedule lag min %d µs: an arrival started before it was due", all.Min())
	}
	s1, s2 := f.hists[record.Tag(record.LevelScheduleLag, record.StageKey(1))], f.hists[record.Tag(record.LevelScheduleLag, record.StageKey(2))]
	if s1 == nil || s2 == nil {
		t.Fatalf("stage histograms missing: %v %v", s1, s2)
	}
	if s1.TotalCount()+s2.TotalCount() != started || s2.TotalCount() <= s1.TotalCount() {
		t.Errorf("stage counts %d + %d, want %d with the second (80/s) busier than the first (40/s)", s1.TotalCount(), s2.TotalCount(), started)
	}

	h := f.run.Harness
	if h == nil {
		t.Fatal("run.json has no harness")
	}
	samples := readHarnessSamples(t, dir)
	// A baseline, one every 250 ms over 2 s, and a last one.
	if len(samples) < 3 || h.Samples != len(samples)-1 {
		t.Fatalf("%d samples in %s, %d in run.json", len(samples), record.HarnessFile, h.Samples)
	}
	if samples[0].T > 0.2 || h.Baseline != samples[0] {
		t.Errorf("baseline %+v, want the first sample %+v, at the start", h.Baseline, samples[0])
	}
	var maxIn int64
	for i, s := range samples {
		if s.Goroutines <= 0 || s.HeapBytes == 0 {
			t.Errorf("sample %d: %+v: no goroutines or memory", i, s)
		}
		if i > 0 && (s.GCCycles < samples[i-1].GCCycles || s.T < samples[i-1].T) {
			t.Errorf("sample %d goes back: gc cycles %d after %d, t %v after %v", i, s.GCCycles, samples[i-1].GCCycles, s.T, samples[i-1].T)
		}
		if s.CPUCores < 0 {
			t.Errorf("sample %d: %v cores", i, s.CPUCores)
		}
		maxIn = max(maxIn, s.InFlight)
	}
	if h.AtPeak.InFlight != maxIn {
		t.Errorf("at_peak in flight %d, samples' max %d", h.AtPeak.InFlight, maxIn)
	}
	if h.Cores <= 0 || h.Slots != 100 || h.CPUSeconds <= 0 || h.WallSeconds < 1.5 || h.GoroutinesMax < samples[0].Goroutines {
		t.Errorf("harness %+v", h)
	}
	if _, err := os.Stat("/proc/self/statm"); err == nil && (h.RSSMaxBytes == 0 || h.Baseline.RSSBytes == 0) {
		t.Errorf("no RSS on Linux: %+v", h)
	}
}

// TestScheduleLagQueuedBehindSlots runs arrivals every 20 ms through one
// slot against answers of 100 ms: each arrival after the first waits for
// the slot, so it starts late, and the harness counts it as queued.
func TestScheduleLagQueuedBehindSlots(t *testing.T) {
	sc := oneTurnScenario(scenarios.MockURL, scenarios.Latency{Dist: scenarios.DistFixed, Value: scenarios.Duration(100 * time.Millisecond)}, 50, 600*time.Millisecond, 1)
	url := jobsStartMock(t, sc)
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Run(context.Background(), sc, dir, WithMockURL(url), WithGetenv(func(string) string { return "sk-lag" }))
	if err != nil {
		t.Fatal(err)
	}
	f := readRunFolder(t, dir)
	h, lag := run.Harness, f.hists[record.LevelScheduleLag]
	if h == nil || lag == nil {
		t.Fatalf("harness %+v, lag histogram %v", h, lag)
	}
	started := uint64(run.Conversations.Started)
	// Arrival n is due at 20n ms and starts no sooner than 100n ms.
	if h.Queued < started-1 || h.QueuedLate < started-2 || h.Slots != 1 {
		t.Errorf("queued %d (late %d) of %d started through %d slot", h.Queued, h.QueuedLate, started, h.Slots)
	}
	if p99 := lag.ValueAtQuantile(99); p99 <= record.LagBoundUS {
		t.Errorf("schedule lag p99 %d µs: the wait for the slot is not in it", p99)
	}
}

// BenchmarkScheduleLag is the hot path's cost of the harness's check:
// recording one arrival's lag, from many workers at once.
func BenchmarkScheduleLag(b *testing.B) {
	rec, err := NewRecorder(b.TempDir(), record.Run{Scenario: "lag", Started: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close(record.StatusComplete)
	lag := newLagHists(rec, 3)
	h := hit{intended: time.Now(), stage: 2}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.scheduleLag(h, time.Now(), lag)
		}
	})
}
