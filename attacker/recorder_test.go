package attacker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// benchRecorder returns a Recorder whose attempts and results go to
// /dev/null, so that measurements are of the recorder, not the disk.
func benchRecorder(tb testing.TB) *Recorder {
	tb.Helper()
	r, err := NewRecorder(tb.TempDir(), record.Run{Scenario: "bench", Started: time.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range []*chunkFile{r.attempts.c, r.results} {
		null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			tb.Fatal(err)
		}
		c.f.Close()
		c.f = null
	}
	tb.Cleanup(func() { r.Close(record.StatusComplete) })
	return r
}

func attemptFor(i int) *record.Attempt {
	keys := [...]string{"model:a/m", "model:b/m", "tool:t0", "tool:t1", "tool:t2", "tool:t3", "tool:t4", "tool:t5", "tool:t6", "tool:t7"}
	outcome := record.OutcomeOK
	if i%7 == 0 {
		outcome = record.OutcomeTimeout
	}
	return &record.Attempt{
		Conversation: uint64(i), Kind: record.StepTool, Key: keys[i%len(keys)], Attempt: 1 + i%2,
		Start: time.Unix(1700000000, 0), LatencyUS: int64(100 + i%100000), Outcome: outcome, Status: 200,
		PromptTokens: 10, CompletionTokens: 5,
	}
}

// TestRecorderMemoryFlat records a million attempts across 10 tags (20
// histograms with failures) and checks that the heap does not grow with
// the count.
func TestRecorderMemoryFlat(t *testing.T) {
	n := 1_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	r := benchRecorder(t)
	for i := range 20_000 { // create every tag and warm the pools
		r.Attempt(attemptFor(i))
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	const workers = 4
	var next atomic.Int64
	done := make(chan struct{})
	for range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				r.Attempt(attemptFor(i))
				if i%100_000 == 0 {
					if err := r.Flush(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d attempts: heap %d -> %d bytes (%+d)", n, before.HeapAlloc, after.HeapAlloc, growth)
	if growth > 4<<20 {
		t.Errorf("heap grew by %d bytes over %d attempts; want flat", growth, n)
	}
	if got := r.c.attempts.Load(); got != uint64(n+20_000) {
		t.Errorf("%d attempts counted, want %d", got, n+20_000)
	}
	if tags := r.Tags(); len(tags) != 20 {
		t.Errorf("%d tags, want 20: %v", len(tags), tags)
	}
}

func TestRecorderFiles(t *testing.T) {
	dir := t.TempDir()
	started := time.Now()
	if err := os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte("name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := NewRecorder(dir, record.Run{Scenario: "s", Kind: "conversation", Seed: 9, Started: started})
	if err != nil {
		t.Fatal(err)
	}
	f := readRunFolder(t, dir) // readable from the start
	if f.run.Status != record.StatusRunning || f.run.Seed != 9 {
		t.Errorf("run.json at start: %+v", f.run)
	}
	r.Attempt(&record.Attempt{Key: "model:p/m", Attempt: 1, LatencyUS: 1500, Outcome: record.Outcome429, Status: 429})
	r.Event(&record.Event{Kind: record.EventRetry, Reason: record.Outcome429, Attempt: 1})
	r.Attempt(&record.Attempt{Key: "model:p/m", Attempt: 2, LatencyUS: 2500, Outcome: record.OutcomeOK, Status: 200, CachedTokens: 4})
	r.Step(StepRecord{Key: "model:p", Latency: 4 * time.Millisecond, Outcome: record.OutcomeOK, TTFT: time.Millisecond})
	r.Step(StepRecord{Key: "tool:with space,comma", Latency: time.Hour * 2, Outcome: record.OutcomeTimeout})
	r.InvalidToolArgs()
	r.started(started)
	r.conversation(0, started, started.Add(time.Millisecond), started.Add(5*time.Millisecond),
		JobResult{Outcome: record.OutcomeOK, Code: 200})
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	f = readRunFolder(t, dir) // flushed: everything so far is on disk
	if len(f.attempts) != 2 || len(f.results) != 1 {
		t.Errorf("after a flush: %d attempts, %d results; want 2 and 1", len(f.attempts), len(f.results))
	}
	run, err := r.Close(record.StatusComplete)
	if err != nil {
		t.Fatal(err)
	}
	if run.Attempts.Total != 2 || run.Attempts.Retries != 1 || run.Attempts.Steps != 2 ||
		run.Attempts.ByOutcome[record.Outcome429] != 1 || run.Tokens.Cached != 4 || run.InvalidToolArgs != 1 {
		t.Errorf("counters: %+v", run)
	}
	f = readRunFolder(t, dir)
	if f.run.Status != record.StatusComplete || f.run.Ended.IsZero() {
		t.Errorf("run.json at the end: status %s, ended %s", f.run.Status, f.run.Ended)
	}
	for tag, want := range map[string]int64{
		"attempt.model:p/m":        1,
		"attempt.model:p/m.failed": 1,
		"step.model:p":             1,
		"ttft.model:p":             1,
		"conversation":             1,
		"service":                  1,
		// Sanitized, and clamped at the histograms' highest value.
		"step.tool:with_space_comma.failed": 1,
	} {
		if got := count(f.hists[tag]); got != want {
			t.Errorf("%s holds %d, want %d (tags: %v)", tag, got, want, keys(f.hists))
		}
	}
	if got := f.hists["step.model:p"].Max(); got < 3990 || got > 4010 {
		t.Errorf("step.model:p max %dµs, want 4000", got)
	}
	hlog, _ := os.ReadFile(filepath.Join(dir, record.HistogramsFile))
	if !strings.HasPrefix(string(hlog), "#[Histogram log format version") || !strings.Contains(string(hlog), "#[StartTime: ") {
		t.Errorf("histograms.hlog lacks its header:\n%s", hlog)
	}
	if _, err := r.Close(record.StatusComplete); err == nil {
		t.Error("closing twice is not an error")
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func BenchmarkRecorder(b *testing.B) {
	b.Run("Attempt", func(b *testing.B) {
		r := benchRecorder(b)
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Attempt(attemptFor(int(next.Add(1))))
			}
		})
	})
	b.Run("Step", func(b *testing.B) {
		r := benchRecorder(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Step(StepRecord{Key: "model:p", Latency: time.Millisecond, Outcome: record.OutcomeOK})
			}
		})
	})
	b.Run("Conversation", func(b *testing.B) {
		r := benchRecorder(b)
		start := time.Now()
		var next atomic.Uint64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.conversation(next.Add(1), start, start, start.Add(time.Millisecond),
					JobResult{Outcome: record.OutcomeOK, Code: 200, URL: "http://127.0.0.1/v1"})
			}
		})
	})
}

// TestRecorderEvents records one event of each kind: each is counted in
// run.json, and all but cache misses are lines of events.jsonl.
func TestRecorderEvents(t *testing.T) {
	dir := t.TempDir()
	r, err := NewRecorder(dir, record.Run{Scenario: "events", Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	events := []record.Event{
		{Kind: record.EventRetry, Reason: record.Outcome429, DelayMS: 1000, Attempt: 1},
		{Kind: record.EventRetry, Reason: record.Outcome429, DelayMS: 2000, Attempt: 2},
		{Kind: record.EventRetry, Reason: record.OutcomeTimeout, DelayMS: 5},
		{Kind: record.EventBudgetExhausted, Reason: record.Outcome5xx},
		{Kind: record.EventFallback, Provider: "primary", To: "secondary", Reason: record.Outcome5xx},
		{Kind: record.EventBreaker, Provider: "primary", From: record.BreakerClosed, To: record.BreakerOpen},
		{Kind: record.EventBreaker, Provider: "primary", From: record.BreakerOpen, To: record.BreakerHalfOpen},
		{Kind: record.EventBreaker, Provider: "primary", From: record.BreakerHalfOpen, To: record.BreakerOpen},
		{Kind: record.EventHedge, Provider: "primary"},
		{Kind: record.EventCacheHit, Provider: "primary"},
		{Kind: record.EventCacheMiss, Provider: "primary"},
		{Kind: record.EventCacheMiss, Provider: "primary"},
	}
	for i := range events {
		events[i].Time = time.Now()
		events[i].Conversation = uint64(i)
		r.Event(&events[i])
	}
	run, err := r.Close(record.StatusComplete)
	if err != nil {
		t.Fatal(err)
	}
	a := run.Attempts
	if a.RetriesByReason[record.Outcome429] != 2 || a.RetriesByReason[record.OutcomeTimeout] != 1 || a.BudgetExhausted != 1 ||
		a.Fallbacks != 1 || a.BreakerOpens != 2 || a.Hedges != 1 || a.CacheHits != 1 || a.CacheMisses != 2 {
		t.Fatalf("counts %+v", a)
	}
	data, err := os.ReadFile(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != len(events)-2 {
		t.Fatalf("%d lines, want %d", len(lines), len(events)-2)
	}
	var first record.Event
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Kind != record.EventRetry || first.DelayMS != 1000 || first.Reason != "429" {
		t.Fatalf("first line %s: %v", lines[0], err)
	}
}
