package attacker

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/record/merge"
	"github.com/mcpload/mcpload/report/compare"
	"github.com/mcpload/mcpload/report/runfolder"
	"github.com/mcpload/mcpload/scenarios"
)

// shardScenario is quickstart at a modest constant rate, for a short run.
func shardScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	sc.Seed = 7
	sc.Load.Arrival = scenarios.ArrivalConstant
	sc.Load.Stages = []scenarios.Stage{stage(12, time.Second, 0)}
	// Latencies long beside what n Run calls in one test process cost
	// each other on a loaded machine (separate processes, as on a
	// cluster, do not share a heap or a scheduler).
	ms := func(v int) scenarios.Duration { return scenarios.Duration(time.Duration(v) * time.Millisecond) }
	sc.Providers["primary"].Mock.Latency = scenarios.Latency{Dist: scenarios.DistUniform, Min: ms(150), Max: ms(250)}
	for _, tool := range sc.Tools {
		tool.Mock.Latency = scenarios.Latency{Dist: scenarios.DistUniform, Min: ms(100), Max: ms(150)}
	}
	return sc
}

// TestShardsMergeAsOneRun: n = 1, 2, 4 and 7 shards of quickstart against
// one mock, merged, against one process at the same rate and seed: the
// counts add up exactly and match the one process's, the merged histograms
// are the shards' summed bucket for bucket, results.bin holds every
// conversation once in intended-start order numbered from 0 (as `vegeta
// report` counts it), attempts point at those numbers, and the merged
// percentiles match the one process's within compare's noise.
func TestShardsMergeAsOneRun(t *testing.T) {
	t.Parallel()
	url := jobsStartMock(t, shardScenario(t), mockprovider.WithSeed(7))
	ctx := context.Background()
	for _, n := range []int{1, 2, 4, 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			if raceEnabled {
				// No percentiles are compared (below): the counts and
				// sums hold however busy the machine.
				t.Parallel()
			}
			// The one process runs beside the shards, from the same
			// instant: on a loaded machine, runs made one after the other
			// would differ by what else the machine did meanwhile.
			oneDir, out := t.TempDir(), t.TempDir()
			start := time.Now().Add(300 * time.Millisecond)
			dirs := make([]string, n)
			runs := make([]*record.Run, n)
			errs := make([]error, n+1)
			var one *record.Run
			var wg sync.WaitGroup
			wg.Go(func() {
				time.Sleep(time.Until(start))
				one, errs[n] = Run(ctx, shardScenario(t), oneDir, WithMockURL(url))
			})
			for i := range n {
				dirs[i] = filepath.Join(out, record.ShardsDir, strconv.Itoa(i))
				wg.Go(func() {
					runs[i], errs[i] = Run(ctx, shardScenario(t), dirs[i], WithMockURL(url),
						WithShard(ShardSpec{Index: i, Count: n, StartAt: start}))
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			for i, r := range runs {
				if r.Shard == nil || r.Shard.Index != i || r.Shard.Count != n || r.ScenarioHash != one.ScenarioHash {
					t.Fatalf("shard %d: run.json shard %+v, hash %s; want %d/%d of %s", i, r.Shard, r.ScenarioHash, i, n, one.ScenarioHash)
				}
			}
			// No SHARD_DIR: merge finds them in OUT/shards.
			found, err := merge.ShardDirs(out)
			if err != nil || !slices.Equal(found, dirs) {
				t.Fatalf("ShardDirs = %v, %v; want %v", found, err, dirs)
			}
			merged, err := merge.Merge(out, found)
			if err != nil {
				t.Fatal(err)
			}
			checkMergedCounts(t, merged, runs, one)
			checkMergedHistograms(t, out, dirs)
			checkMergedResults(t, out, merged)
			if !raceEnabled {
				// Under the race detector, on a loaded machine, the
				// runs' latencies are mostly the detector's:
				// TestShardsMergeKeepsPercentiles compares them there.
				checkMergedCompare(t, oneDir, out)
			}
		})
	}
}

func checkMergedCounts(t *testing.T, merged *record.Run, shards []*record.Run, one *record.Run) {
	t.Helper()
	var sum record.Counts
	first, last := int64(math.MaxInt64), int64(0)
	for _, r := range shards {
		sum.Started += r.Conversations.Started
		sum.OK += r.Conversations.OK
		sum.Failed += r.Conversations.Failed
		sum.Dropped += r.Conversations.Dropped
		if r.Conversations.Started > 0 {
			first, last = min(first, r.Shard.FirstStartNS), max(last, r.Shard.LastStartNS)
		}
	}
	// Started over the span of starts, put together from each shard's
	// own window in schedule time.
	achieved := float64(sum.Started) / time.Duration(last-first).Seconds()
	m := merged.Conversations
	if m.Started != sum.Started || m.OK != sum.OK || m.Failed != sum.Failed || m.Dropped != sum.Dropped {
		t.Errorf("merged conversations %+v; the shards' sum is %+v", m, sum)
	}
	if m.Started+m.Dropped != one.Conversations.Started+one.Conversations.Dropped || m.OK+m.Failed != m.Started {
		t.Errorf("merged %+v; one process %+v: every arrival of the one schedule must run once", m, one.Conversations)
	}
	if merged.Rate.Achieved != achieved || merged.Merged == nil || merged.Merged.Shards != len(shards) {
		t.Errorf("merged rate achieved %g, merged %+v; want %g over the shards' windows, from %d shards", merged.Rate.Achieved, merged.Merged, achieved, len(shards))
	}
	if !raceEnabled && math.Abs(merged.Rate.Achieved/one.Rate.Achieved-1) > 0.1 {
		t.Errorf("merged rate achieved %g; one process %g", merged.Rate.Achieved, one.Rate.Achieved)
	}
}

func checkMergedHistograms(t *testing.T, out string, dirs []string) {
	t.Helper()
	got, err := runfolder.ReadHistograms(out)
	if err != nil {
		t.Fatal(err)
	}
	want := runfolder.Histograms{}
	for _, d := range dirs {
		hs, err := runfolder.ReadHistograms(d)
		if err != nil {
			t.Fatal(err)
		}
		for tag, h := range hs {
			if want[tag] == nil {
				want[tag] = hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			}
			want[tag].Merge(h)
		}
	}
	if !slices.Equal(got.Tags(), want.Tags()) {
		t.Fatalf("merged tags %v; the shards' %v", got.Tags(), want.Tags())
	}
	for tag, h := range want {
		if !slices.Equal(got[tag].Export().Counts, h.Export().Counts) {
			t.Errorf("%s: the merged histogram (%d values) is not the shards' sum (%d values) bucket for bucket", tag, got[tag].TotalCount(), h.TotalCount())
		}
	}
	if got[record.LevelConversation] == nil || got[record.LevelConversation].TotalCount() == 0 {
		t.Error("no conversation histogram")
	}
}

func checkMergedResults(t *testing.T, out string, merged *record.Run) {
	t.Helper()
	f, err := os.Open(filepath.Join(out, record.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(bufio.NewReader(f))
	var m vegeta.Metrics
	var last time.Time
	n := uint64(0)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break
		}
		if r.Seq != n || r.Timestamp.Before(last) {
			t.Fatalf("result %d: seq %d at %s after %s; want seq from 0 in intended-start order", n, r.Seq, r.Timestamp, last)
		}
		last = r.Timestamp
		m.Add(&r)
		n++
	}
	m.Close()
	want := merged.Conversations.Started + merged.Conversations.Dropped
	if m.Requests != want || m.Success != float64(merged.Conversations.OK)/float64(want) {
		t.Errorf("results.bin: %d requests, success %g; want %d, %d ok", m.Requests, m.Success, want, merged.Conversations.OK)
	}
	// vegeta itself, when make bin/vegeta has built it.
	if bin, err := filepath.Abs("../bin/vegeta"); err == nil {
		if _, err := os.Stat(bin); err == nil {
			b, err := exec.Command(bin, "report", "-type=json", filepath.Join(out, record.ResultsFile)).Output()
			var rep struct{ Requests uint64 }
			if err != nil || json.Unmarshal(b, &rep) != nil || rep.Requests != want {
				t.Errorf("vegeta report: %s, %v; want %d requests", b, err, want)
			}
		}
	}
	convs := map[uint64]bool{}
	_, err = record.EachLine(out, record.AttemptsFile, func(line []byte) {
		var a record.Attempt
		if json.Unmarshal(line, &a) != nil || a.Conversation >= want {
			t.Errorf("attempt %s: conv out of results.bin's 0..%d", line, want-1)
			return
		}
		convs[a.Conversation] = true
	})
	if err != nil || uint64(len(convs)) != merged.Conversations.Started {
		t.Errorf("attempts name %d conversations (%v); want %d", len(convs), err, merged.Conversations.Started)
	}
}

func checkMergedCompare(t *testing.T, oneDir, out string) {
	t.Helper()
	c, err := compare.Runs(oneDir, out, compare.DefaultRegressionOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Regressions) > 0 || len(c.Improvements) > 0 {
		var rows []string
		for _, r := range c.Rows {
			if r.Verdict != "" && r.Verdict != compare.VerdictNoise {
				rows = append(rows, fmt.Sprintf("%s %s: %v -> %v", r.Metric, r.Verdict, *r.Base, *r.New))
			}
		}
		t.Errorf("merged vs one process: %v", rows)
	}
}

// seqLatency is a latency drawn from a conversation's number alone, from
// 100 to 400 ms.
func seqLatency(seq uint64) time.Duration {
	return 100*time.Millisecond + time.Duration(splitmix64(seq)%300)*time.Millisecond
}

// seqJob sleeps seqLatency(seq), and records one attempt and one step of
// exactly that latency: a job whose every figure but the conversation's
// wall-clock latency is a function of the global conversation number.
func seqJob() jobFunc {
	return func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		d := seqLatency(seq)
		start := time.Now()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return JobResult{Outcome: record.OutcomeCanceled, Err: ctx.Err().Error(), URL: "http://mock/"}
		}
		sink.Attempt(&record.Attempt{Conversation: seq, Kind: record.StepModel, Key: "model:p/m", Attempt: 1,
			Start: start, LatencyUS: d.Microseconds(), Outcome: record.OutcomeOK, Status: 200, PromptTokens: 3})
		sink.Step(StepRecord{Conversation: seq, Kind: record.StepModel, Key: "model:p", Start: start, Latency: d, Outcome: record.OutcomeOK})
		return JobResult{Outcome: record.OutcomeOK, Code: 200, BytesIn: 10, URL: "http://mock/"}
	}
}

// TestShardsMergeKeepsPercentiles: n = 1, 2, 4 and 7 shards of a job
// whose latencies are functions of the conversation's number: since the
// shards run the global schedule's conversations under their global
// numbers, the merged step and attempt histograms equal one process's
// bucket for bucket (their percentiles are one process's exactly, under
// the race detector too), and the conversation percentiles (wall-clock,
// from the global intended start) match within compare's noise.
func TestShardsMergeKeepsPercentiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sc := func() *scenarios.Scenario {
		s := shardScenario(t)
		s.Load.Stages = []scenarios.Stage{stage(40, 1500*time.Millisecond, 0)}
		return s
	}
	for _, n := range []int{1, 2, 4, 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			oneDir, out := t.TempDir(), t.TempDir()
			start := time.Now().Add(100 * time.Millisecond)
			errs := make([]error, n+1)
			dirs := make([]string, n)
			var wg sync.WaitGroup
			wg.Go(func() {
				time.Sleep(time.Until(start))
				_, errs[n] = Run(ctx, sc(), oneDir, withJob(seqJob()))
			})
			for i := range n {
				dirs[i] = filepath.Join(out, record.ShardsDir, strconv.Itoa(i))
				wg.Go(func() {
					_, errs[i] = Run(ctx, sc(), dirs[i], withJob(seqJob()), WithShard(ShardSpec{Index: i, Count: n, StartAt: start}))
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			if _, err := merge.Merge(out, dirs); err != nil {
				t.Fatal(err)
			}
			oneH, err := runfolder.ReadHistograms(oneDir)
			if err != nil {
				t.Fatal(err)
			}
			got, err := runfolder.ReadHistograms(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range []string{"step.model:p", "attempt.model:p/m"} {
				if got[tag] == nil || oneH[tag] == nil || !slices.Equal(got[tag].Export().Counts, oneH[tag].Export().Counts) {
					t.Errorf("%s: the merged histogram differs from one process's", tag)
				}
			}
			if !raceEnabled {
				// Under the race detector, n runs in one process
				// slow one another's timers more than one run's.
				checkMergedCompare(t, oneDir, out)
			}
		})
	}
}

// TestShardLateForStartAt: a shard that gets to --start-at late starts at
// once, and records how late, loudly; one on time waits for it.
func TestShardLateForStartAt(t *testing.T) {
	t.Parallel()
	sc := func() *scenarios.Scenario {
		s := shardScenario(t)
		s.Load.Stages = []scenarios.Stage{stage(20, 100*time.Millisecond, 0)}
		return s
	}
	late := time.Now().Add(-3 * time.Second)
	r, err := Run(context.Background(), sc(), t.TempDir(), withJob(seqJob()), WithShard(ShardSpec{Index: 0, Count: 2, StartAt: late}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Shard.StartSkewNS < (3*time.Second).Nanoseconds() || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "after --start-at") {
		t.Errorf("late shard: skew %s, warnings %q; want 3s or more, said", time.Duration(r.Shard.StartSkewNS), r.Warnings)
	}
	ahead := time.Now().Add(500 * time.Millisecond)
	r, err = Run(context.Background(), sc(), t.TempDir(), withJob(seqJob()), WithShard(ShardSpec{Index: 1, Count: 2, StartAt: ahead}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Started.Before(ahead) || r.Shard.StartSkewNS < 0 || (len(r.Warnings) != 0) != (r.Shard.StartSkewNS > lateStartWarning.Nanoseconds()) {
		t.Errorf("shard on time: started %s, skew %d, warnings %q; want from %s, a warning only if over a second late", r.Started, r.Shard.StartSkewNS, r.Warnings, ahead)
	}
}
