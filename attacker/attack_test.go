package attacker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// jobFunc adapts a function to Job.
type jobFunc func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult

func (f jobFunc) Do(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
	return f(ctx, seq, slot, sink)
}

// withJob runs j instead of the scenario's job.
func withJob(j Job) Option { return func(o *options) { o.job = j } }

func testScenario(load scenarios.LoadShape) *scenarios.Scenario {
	return &scenarios.Scenario{Version: 1, Name: "test", Seed: 1, Load: load}
}

// sleepJob reports one attempt and one step, then sleeps for d(seq), or
// until ctx is done.
func sleepJob(d func(seq uint64) time.Duration) jobFunc {
	return func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		start := time.Now()
		sink.Attempt(&record.Attempt{Conversation: seq, Kind: record.StepModel, Key: "model:p/m", Attempt: 1,
			Start: start, LatencyUS: 1, Outcome: record.OutcomeOK, Status: 200, PromptTokens: 3})
		t := time.NewTimer(d(seq))
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return JobResult{Outcome: record.OutcomeCanceled, Err: ctx.Err().Error(), URL: "http://mock/"}
		}
		sink.Step(StepRecord{Conversation: seq, Kind: record.StepModel, Key: "model:p",
			Start: start, Latency: time.Since(start), Outcome: record.OutcomeOK})
		return JobResult{Outcome: record.OutcomeOK, Code: 200, BytesIn: 10, URL: "http://mock/"}
	}
}

// slotGuard fails the test if two jobs run in one slot at once, or a slot is
// out of range.
type slotGuard struct {
	t     *testing.T
	slots int
	mu    sync.Mutex
	busy  map[int]bool
	used  map[int]bool
}

func newSlotGuard(t *testing.T, slots int) *slotGuard {
	return &slotGuard{t: t, slots: slots, busy: map[int]bool{}, used: map[int]bool{}}
}

func (g *slotGuard) wrap(j Job) jobFunc {
	return func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		g.mu.Lock()
		if slot < 0 || slot >= g.slots {
			g.t.Errorf("hit %d in slot %d, want below %d", seq, slot, g.slots)
		}
		if g.busy[slot] {
			g.t.Errorf("hit %d in slot %d, which is busy", seq, slot)
		}
		g.busy[slot], g.used[slot] = true, true
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.busy[slot] = false
			g.mu.Unlock()
		}()
		return j.Do(ctx, seq, slot, sink)
	}
}

// runFiles is a run folder, read back.
type runFiles struct {
	run       record.Run
	results   []vegeta.Result // sorted by Seq
	attempts  []record.Attempt
	hists     map[string]*hdrhistogram.Histogram // merged over intervals
	intervals map[string]int
}

func readRunFolder(t *testing.T, dir string) runFiles {
	t.Helper()
	var f runFiles
	b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &f.run); err != nil {
		t.Fatalf("run.json: %v", err)
	}

	rf, err := os.Open(filepath.Join(dir, record.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	dec := vegeta.NewDecoder(rf)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("results.bin, after %d results: %v", len(f.results), err)
		}
		f.results = append(f.results, r)
	}
	sort.Slice(f.results, func(i, j int) bool { return f.results[i].Seq < f.results[j].Seq })

	f.attempts = readAttempts(t, dir)

	f.hists, f.intervals = readHlog(t, filepath.Join(dir, record.HistogramsFile))

	if _, err := os.Stat(filepath.Join(dir, record.ScenarioFile)); err != nil {
		t.Errorf("no scenario.yaml: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	return f
}

func readHlog(t testing.TB, path string) (map[string]*hdrhistogram.Histogram, map[string]int) {
	t.Helper()
	hf, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	merged, intervals := map[string]*hdrhistogram.Histogram{}, map[string]int{}
	lr := hdrhistogram.NewHistogramLogReader(hf)
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("histograms.hlog: %v", err)
		}
		if h == nil {
			break
		}
		m := merged[h.Tag()]
		if m == nil {
			m = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			merged[h.Tag()] = m
		}
		m.Merge(h)
		intervals[h.Tag()]++
	}
	return merged, intervals
}

func count(h *hdrhistogram.Histogram) int64 {
	if h == nil {
		return 0
	}
	return h.TotalCount()
}

// TestCoordinatedOmission stalls the target for 500ms at a fixed rate, with
// two slots and on_cap: queue. The hits that arrive during the stall wait
// for a slot; that wait is latency the users would see, so the conversation
// histogram must show it. The service time, from the actual start, must not:
// only the two stalled hits were slow to serve.
func TestCoordinatedOmission(t *testing.T) {
	dir := t.TempDir()
	guard := newSlotGuard(t, 2)
	job := sleepJob(func(seq uint64) time.Duration {
		if seq == 100 || seq == 101 {
			return 500 * time.Millisecond
		}
		return 2 * time.Millisecond
	})
	sc := testScenario(scenarios.LoadShape{
		Stages:      []scenarios.Stage{stage(100, 4*time.Second, 0)},
		MaxInFlight: 2,
		OnCap:       scenarios.OnCapQueue,
	})
	run, err := Run(context.Background(), sc, dir, withJob(guard.wrap(job)), WithInterval(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != record.StatusComplete {
		t.Errorf("status %s, want complete", run.Status)
	}
	if run.Conversations.Started != 400 || run.Conversations.OK != 400 || run.Conversations.Dropped != 0 {
		t.Errorf("conversations %+v, want 400 started and ok", run.Conversations)
	}
	if run.PeakInFlight != 2 {
		t.Errorf("peak in flight %d, want 2", run.PeakInFlight)
	}
	f := readRunFolder(t, dir)
	conv, service := f.hists[record.LevelConversation], f.hists[record.LevelService]
	if count(conv) != 400 || count(service) != 400 {
		t.Fatalf("histogram counts: conversation %d, service %d; want 400", count(conv), count(service))
	}
	if f.intervals[record.LevelConversation] < 2 {
		t.Errorf("conversation histogram in %d intervals, want several", f.intervals[record.LevelConversation])
	}
	p99c := time.Duration(conv.ValueAtQuantile(99)) * time.Microsecond
	p99s := time.Duration(service.ValueAtQuantile(99)) * time.Microsecond
	t.Logf("p99: conversation %s, service %s", p99c, p99s)
	if p99c < 400*time.Millisecond {
		t.Errorf("conversation p99 %s, want >= 400ms: the wait for a slot was omitted", p99c)
	}
	if p99s > 100*time.Millisecond {
		t.Errorf("service p99 %s, want far below the stall", p99s)
	}
	if len(guard.used) != 2 {
		t.Errorf("slots used: %v, want 0 and 1", guard.used)
	}
}

// TestDrop holds the only slot until every other arrival has been dropped.
func TestDrop(t *testing.T) {
	const arrivals = 20
	dir := t.TempDir()
	job := jobFunc(func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		rec := sink.(*Recorder)
		deadline := time.Now().Add(30 * time.Second)
		for rec.c.dropped.Load() < arrivals-1 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond)
		}
		return JobResult{Outcome: record.OutcomeOK, Code: 200}
	})
	sc := testScenario(scenarios.LoadShape{
		Stages:      []scenarios.Stage{stage(100, arrivals*10*time.Millisecond, 0)},
		MaxInFlight: 1,
		OnCap:       scenarios.OnCapDrop,
	})
	run, err := Run(context.Background(), sc, dir, withJob(job), WithInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	want := record.Counts{Started: 1, OK: 1, Dropped: arrivals - 1, ByOutcome: map[string]uint64{}}
	if run.Conversations.Started != want.Started || run.Conversations.OK != want.OK ||
		run.Conversations.Dropped != want.Dropped || run.Conversations.Failed != 0 {
		t.Errorf("conversations %+v, want %+v", run.Conversations, want)
	}
	f := readRunFolder(t, dir)
	if f.run.Conversations.Dropped != arrivals-1 {
		t.Errorf("run.json: %d dropped, want %d", f.run.Conversations.Dropped, arrivals-1)
	}
	if len(f.results) != arrivals {
		t.Fatalf("results.bin holds %d results, want %d", len(f.results), arrivals)
	}
	for i, r := range f.results {
		if r.Seq != uint64(i) {
			t.Fatalf("result %d has seq %d", i, r.Seq)
		}
		if i == 0 {
			if r.Code != 200 || r.Error != "" {
				t.Errorf("hit 0: code %d, error %q; want 200 and none", r.Code, r.Error)
			}
			continue
		}
		if r.Code != 0 || r.Error != "dropped: max_in_flight reached" {
			t.Errorf("hit %d: code %d, error %q; want a drop", i, r.Code, r.Error)
		}
	}
}

// TestResultsBin checks that vegeta reads results.bin as its own: seqs
// 0..n-1, timestamps at the intended starts, failures counted as failures.
func TestResultsBin(t *testing.T) {
	const n = 50
	dir := t.TempDir()
	job := jobFunc(func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		if seq%10 == 0 {
			// A failure after a 200: vegeta must still count it failed.
			return JobResult{Outcome: record.OutcomeToolError, Code: 200, Err: "boom", URL: "http://mock/v1"}
		}
		return JobResult{Outcome: record.OutcomeOK, Code: 200, BytesIn: 10, URL: "http://mock/v1"}
	})
	var progress []Progress
	sc := testScenario(scenarios.LoadShape{Stages: []scenarios.Stage{stage(n, time.Second, 0)}})
	run, err := Run(context.Background(), sc, dir, withJob(job), WithInterval(100*time.Millisecond),
		WithProgress(func(p Progress) { progress = append(progress, p) }))
	if err != nil {
		t.Fatal(err)
	}
	f := readRunFolder(t, dir)
	if len(f.results) != n {
		t.Fatalf("%d results, want %d", len(f.results), n)
	}
	var m vegeta.Metrics
	for i, r := range f.results {
		if r.Seq != uint64(i) {
			t.Fatalf("result %d has seq %d, want seqs 0..%d", i, r.Seq, n-1)
		}
		if want := run.Started.Add(time.Duration(i) * time.Second / n); !r.Timestamp.Equal(want) {
			t.Errorf("hit %d: timestamp %s, want the intended start %s", i, r.Timestamp, want)
		}
		if r.Latency < 0 || r.Method != "POST" || r.URL != "http://mock/v1" {
			t.Errorf("hit %d: latency %s, method %q, url %q", i, r.Latency, r.Method, r.URL)
		}
		if i%10 == 0 && r.Error != "tool_error: boom" {
			t.Errorf("hit %d: error %q, want tool_error: boom", i, r.Error)
		}
		m.Add(&r)
	}
	m.Close()
	if m.Success != 0.9 {
		t.Errorf("vegeta success ratio %v, want 0.9", m.Success)
	}
	if f.run.Conversations.Failed != 5 || f.run.Conversations.ByOutcome[record.OutcomeToolError] != 5 {
		t.Errorf("run.json conversations %+v, want 5 tool errors", f.run.Conversations)
	}
	if f.run.Rate.Target != n {
		t.Errorf("target rate %v, want %d", f.run.Rate.Target, n)
	}
	if f.run.Rate.Achieved < n/2 || f.run.Rate.Achieved > 2*n {
		t.Errorf("achieved rate %v, want about %d", f.run.Rate.Achieved, n)
	}
	if len(progress) == 0 {
		t.Fatal("progress never reported")
	}
	last := progress[len(progress)-1]
	if last.Started != n || last.Completed != n || last.Failed != 5 || last.Planned != time.Second {
		t.Errorf("last progress %+v, want %d started and completed, 5 failed", last, n)
	}
}

// TestInterrupt cancels a run midway, as Ctrl-C does.
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sc := testScenario(scenarios.LoadShape{Stages: []scenarios.Stage{stage(200, 30*time.Second, 0)}})
	began := time.Now()
	run, err := Run(ctx, sc, dir,
		withJob(sleepJob(func(uint64) time.Duration { return 100 * time.Millisecond })),
		WithInterval(50*time.Millisecond),
		WithProgress(func(p Progress) {
			if p.Started >= 40 {
				cancel()
			}
		}))
	if err != nil {
		t.Fatalf("an interrupted run is not an error: %v", err)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("the run took %s to stop", took)
	}
	if run.Status != record.StatusInterrupted {
		t.Errorf("status %s, want interrupted", run.Status)
	}
	f := readRunFolder(t, dir)
	c := f.run.Conversations
	if f.run.Status != record.StatusInterrupted {
		t.Errorf("run.json status %s, want interrupted", f.run.Status)
	}
	if c.Started < 40 || c.Started != c.OK+c.Failed {
		t.Errorf("conversations %+v: want started = ok + failed, and at least 40", c)
	}
	if c.ByOutcome[record.OutcomeCanceled] == 0 || c.Failed != c.ByOutcome[record.OutcomeCanceled] {
		t.Errorf("conversations %+v: want the failures to be the cancelled ones in flight", c)
	}
	if got := uint64(len(f.results)); got != c.Started+c.Dropped {
		t.Errorf("results.bin holds %d results, want %d", got, c.Started+c.Dropped)
	}
	if got := uint64(len(f.attempts)); got != c.Started || f.run.Attempts.Total != got {
		t.Errorf("attempts.jsonl holds %d lines, run.json counts %d; want %d", got, f.run.Attempts.Total, c.Started)
	}
	if got := count(f.hists[record.LevelConversation+record.FailedSuffix]); uint64(got) != c.Failed {
		t.Errorf("conversation.failed holds %d, want %d", got, c.Failed)
	}
	if got := count(f.hists[record.LevelConversation]); uint64(got) != c.OK {
		t.Errorf("conversation holds %d, want %d", got, c.OK)
	}
	if f.run.Tokens.Prompt != int64(3*c.Started) {
		t.Errorf("prompt tokens %d, want %d", f.run.Tokens.Prompt, 3*c.Started)
	}
}

// TestUnbounded runs a rate-0 stage: each freed slot starts the next hit.
func TestUnbounded(t *testing.T) {
	dir := t.TempDir()
	guard := newSlotGuard(t, 3)
	sc := testScenario(scenarios.LoadShape{
		Stages:      []scenarios.Stage{stage(0, 300*time.Millisecond, 0)},
		MaxInFlight: 3,
		OnCap:       scenarios.OnCapDrop, // ignored at rate 0
	})
	job := guard.wrap(sleepJob(func(uint64) time.Duration { return 5 * time.Millisecond }))
	run, err := Run(context.Background(), sc, dir, withJob(job), WithInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := run.Conversations
	if c.Started < 6 || c.Dropped != 0 || c.OK != c.Started {
		t.Errorf("conversations %+v: want a few dozen, none dropped", c)
	}
	if run.PeakInFlight != 3 {
		t.Errorf("peak in flight %d, want 3", run.PeakInFlight)
	}
	f := readRunFolder(t, dir)
	for i, r := range f.results {
		if r.Seq != uint64(i) {
			t.Fatalf("result %d has seq %d", i, r.Seq)
		}
		// The intended start is the actual start, so latency is service time.
		if r.Latency > time.Second {
			t.Errorf("hit %d: latency %s", i, r.Latency)
		}
	}
}

func TestRunRefusesBeforeLoad(t *testing.T) {
	t.Run("bad load", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(context.Background(), testScenario(scenarios.LoadShape{}), dir)
		if err == nil {
			t.Fatal("no error for a load without stages")
		}
		if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
			t.Errorf("run folder created for a refused run: %v", serr)
		}
	})
	t.Run("job refused", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		sc := testScenario(scenarios.LoadShape{Stages: []scenarios.Stage{stage(1, time.Second, 0)}})
		sc.Conversation = &scenarios.Conversation{Provider: "nowhere"}
		_, err := Run(context.Background(), sc, dir, WithGetenv(func(string) string { return "" }))
		if err == nil {
			t.Fatal("no error for a conversation with an undefined provider")
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			t.Errorf("run folder populated for a refused run: %v", entries)
		}
	})
}

// countPacer puts n hits at time 0, so the scheduler dispatches as fast as
// it can: a measure of the dispatch path.
type countPacer uint64

func (n countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(n)
}
func (countPacer) Rate(time.Duration) float64 { return 0 }

func BenchmarkScheduler(b *testing.B) {
	for _, slots := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("slots=%d", slots), func(b *testing.B) {
			rec := benchRecorder(b)
			s := &scheduler{
				pacer: countPacer(b.N),
				job: jobFunc(func(context.Context, uint64, int, Sink) JobResult {
					return JobResult{Outcome: record.OutcomeOK, Code: 200}
				}),
				rec:   rec,
				slots: slots,
			}
			b.ReportAllocs()
			b.ResetTimer()
			s.run(context.Background(), time.Now())
			b.StopTimer()
			if got := rec.c.ok.Load(); got != uint64(b.N) {
				b.Fatalf("%d ok, want %d", got, b.N)
			}
		})
	}
}

// TestSchedulerWithVegetaPacer runs the scheduler on vegeta's own constant
// pacer, which never stops: the planned duration bounds it.
func TestSchedulerWithVegetaPacer(t *testing.T) {
	rec, err := NewRecorder(t.TempDir(), record.Run{Started: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	s := &scheduler{
		pacer:   vegeta.ConstantPacer{Freq: 100, Per: time.Second},
		planned: 200 * time.Millisecond,
		job:     sleepJob(func(uint64) time.Duration { return time.Millisecond }),
		rec:     rec,
		slots:   4,
	}
	s.run(context.Background(), time.Now())
	run, err := rec.Close(record.StatusComplete)
	if err != nil {
		t.Fatal(err)
	}
	// vegeta's first hit is one interval in: 10ms, 20ms, ... 190ms.
	if run.Conversations.Started != 19 || run.Conversations.OK != 19 {
		t.Errorf("conversations %+v, want 19", run.Conversations)
	}
}
