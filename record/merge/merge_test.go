package merge

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
)

// fakeShard writes a shard folder: run.json, scenario.yaml and, when
// sigFigs > 0, a histograms.hlog of one interval at those settings.
type fakeShard struct {
	index, count int
	seed         int64
	scenario     string
	sigFigs      int
	noShard      bool
	achieved     float64
	status       string
}

func (f fakeShard) write(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	run := record.Run{
		Scenario: "s", Kind: "conversation", Seed: f.seed, Status: cmpOr(f.status, record.StatusComplete),
		Started: started, Ended: started.Add(time.Second),
		Conversations: record.Counts{Started: 10, OK: 9, Failed: 1, ByOutcome: map[string]uint64{"5xx": 1}},
		Rate:          record.RunRate{Target: 10, Achieved: f.achieved, Throughput: 9},
	}
	if !f.noShard {
		run.Shard = &record.Shard{Index: f.index, Count: f.count}
	}
	b, _ := json.Marshal(run)
	must(t, os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644))
	must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte("# source: "+dir+"\n"+cmpOr(f.scenario, "name: s\n")), 0o644))
	if f.sigFigs > 0 {
		file, err := os.Create(filepath.Join(dir, record.HistogramsFile))
		must(t, err)
		w := hdrhistogram.NewHistogramLogWriter(file)
		must(t, record.WriteHlogHeader(w, started))
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, f.sigFigs)
		must(t, h.RecordValue(1000+int64(f.index)))
		h.SetTag(record.LevelConversation)
		h.SetStartTimeMs(started.UnixMilli())
		h.SetEndTimeMs(started.UnixMilli() + 1000)
		must(t, w.OutputIntervalHistogram(h))
		must(t, file.Close())
	}
	return dir
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMergeRefuses: folders that are not the complete shards of one run
// are refused with an error that names the problem, and nothing is
// written.
func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	ok := func(i, n int) fakeShard { return fakeShard{index: i, count: n, seed: 1, sigFigs: 3} }
	for _, tc := range []struct {
		name   string
		shards []fakeShard
		want   string
	}{
		{"missing", []fakeShard{ok(0, 3), ok(2, 3)}, "missing shard(s) 1 of 3"},
		{"duplicate", []fakeShard{ok(0, 2), ok(0, 2), ok(1, 2)}, "shard 0 of 2 twice"},
		{"counts", []fakeShard{ok(0, 2), ok(1, 3)}, "is shard 1 of 3"},
		{"scenarios", []fakeShard{ok(0, 2), {index: 1, count: 2, seed: 1, sigFigs: 3, scenario: "name: other\n"}}, "shards of different scenarios"},
		{"seeds", []fakeShard{ok(0, 2), {index: 1, count: 2, seed: 2, sigFigs: 3}}, "shards of different seeds"},
		{"histograms", []fakeShard{ok(0, 2), {index: 1, count: 2, seed: 1, sigFigs: 2}}, "shards of different histogram settings"},
		{"whole run", []fakeShard{ok(0, 2), {noShard: true, seed: 1}}, "is a whole run, not a shard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			var dirs []string
			for i, f := range tc.shards {
				dirs = append(dirs, f.write(t, filepath.Join(root, "s"+strconv.Itoa(i))))
			}
			out := filepath.Join(root, "out")
			_, err := Merge(out, dirs)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Merge: %v; want a refusal saying %q", err, tc.want)
			}
			if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused merge wrote %s", out)
			}
		})
	}
}

// TestMergeRefusesAShardBeingWritten: a shard whose run still holds its
// lock is refused.
func TestMergeRefusesAShardBeingWritten(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	a := fakeShard{index: 0, count: 2, seed: 1}.write(t, filepath.Join(root, "0"))
	b := fakeShard{index: 1, count: 2, seed: 1}.write(t, filepath.Join(root, "1"))
	lock, err := record.LockRun(b)
	must(t, err)
	defer lock.Close()
	if _, err := Merge(filepath.Join(root, "out"), []string{a, b}); err == nil || !strings.Contains(err.Error(), "still being written") {
		t.Fatalf("Merge: %v; want a refusal of the shard being written", err)
	}
}

// TestMergeSumsCounters: counters and rates add up (each shard's rate over
// its own window), the status is the worst shard's, and run.json says
// which shards it came from; the histograms add up.
func TestMergeSumsCounters(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dirs := []string{
		fakeShard{index: 0, count: 2, seed: 1, sigFigs: 3, achieved: 5.5}.write(t, filepath.Join(root, record.ShardsDir, "0")),
		fakeShard{index: 1, count: 2, seed: 1, sigFigs: 3, achieved: 4.25, status: record.StatusInterrupted}.write(t, filepath.Join(root, record.ShardsDir, "1")),
	}
	found, err := ShardDirs(root)
	if err != nil || len(found) != 2 || found[0] != dirs[0] || found[1] != dirs[1] {
		t.Fatalf("ShardDirs = %v, %v", found, err)
	}
	run, err := Merge(root, found)
	must(t, err)
	c := run.Conversations
	if c.Started != 20 || c.OK != 18 || c.Failed != 2 || c.ByOutcome["5xx"] != 2 {
		t.Errorf("conversations %+v; want the sums", c)
	}
	if run.Rate.Achieved != 9.75 || run.Rate.Target != 20 || run.Rate.Throughput != 18 {
		t.Errorf("rate %+v; want the shards' rates summed, without their windows", run.Rate)
	}
	if run.Status != record.StatusInterrupted || run.Merged == nil || run.Merged.Shards != 2 || run.Merged.From[1].Status != record.StatusInterrupted {
		t.Errorf("status %s, merged %+v; want interrupted, from 2 shards", run.Status, run.Merged)
	}
	b, err := os.ReadFile(filepath.Join(root, record.HistogramsFile))
	must(t, err)
	var total int64
	for _, line := range strings.Split(string(b), "\n") {
		if iv, ok := record.ParseInterval([]byte(line)); ok && iv.Hist != nil {
			total += iv.Hist.TotalCount()
		}
	}
	if total != 2 {
		t.Errorf("merged histograms hold %d values; want 2", total)
	}
}

// TestMergeRenumbersInIntendedOrder: shards whose conversation numbers are
// not the global order (Poisson shards number theirs I, I+N...) merge into
// results numbered from 0 in intended-start order, and every attempt and
// event follows its conversation to its new number.
func TestMergeRenumbersInIntendedOrder(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// Shard s's k-th conversation is numbered s+2k, intended at these ms.
	at := [][]int{{0, 7, 8, 30}, {3, 4, 20}}
	var dirs []string
	for s, times := range at {
		dir := fakeShard{index: s, count: 2, seed: 1}.write(t, filepath.Join(root, record.ShardsDir, strconv.Itoa(s)))
		dirs = append(dirs, dir)
		f, err := os.Create(filepath.Join(dir, record.ResultsFile))
		must(t, err)
		enc := vegeta.NewEncoder(f)
		var attempts, events strings.Builder
		// Written in an order of completion, not of intended start.
		for _, k := range []int{len(times) - 1, 0, 1, 2}[:len(times)] {
			seq := uint64(s + 2*k)
			ts := t0.Add(time.Duration(times[k]) * time.Millisecond)
			must(t, enc.Encode(&vegeta.Result{Seq: seq, Timestamp: ts, Code: 200, Method: "POST"}))
			b, _ := json.Marshal(record.Attempt{Conversation: seq, Start: ts, Key: "model:p/m", Outcome: record.OutcomeOK})
			attempts.Write(append(b, '\n'))
			b, _ = json.Marshal(record.Event{Conversation: seq, Time: ts, Kind: record.EventRetry})
			events.Write(append(b, '\n'))
		}
		must(t, f.Close())
		must(t, os.WriteFile(filepath.Join(dir, record.AttemptsFile), []byte(attempts.String()), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, record.EventsFile), []byte(events.String()), 0o644))
	}
	_, err := Merge(root, dirs)
	must(t, err)

	f, err := os.Open(filepath.Join(root, record.ResultsFile))
	must(t, err)
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	seqAt := map[time.Time]uint64{}
	var last time.Time
	for n := uint64(0); ; n++ {
		var r vegeta.Result
		if dec.Decode(&r) != nil {
			if n != 7 {
				t.Fatalf("%d results; want 7", n)
			}
			break
		}
		if r.Seq != n || r.Timestamp.Before(last) {
			t.Fatalf("result %d: seq %d at %s after %s; want renumbered in intended order", n, r.Seq, r.Timestamp, last)
		}
		last, seqAt[r.Timestamp] = r.Timestamp, r.Seq
	}
	check := func(name string, conv func(line []byte) (uint64, time.Time)) {
		n := 0
		_, err := record.EachLine(root, name, func(line []byte) {
			n++
			c, ts := conv(line)
			if want, ok := seqAt[ts]; !ok || c != want {
				t.Errorf("%s: %s has conv %d; its conversation is now %d", name, line, c, want)
			}
		})
		must(t, err)
		if n != 7 {
			t.Errorf("%s: %d lines; want 7", name, n)
		}
	}
	check(record.AttemptsFile, func(line []byte) (uint64, time.Time) {
		var a record.Attempt
		must(t, json.Unmarshal(line, &a))
		return a.Conversation, a.Start
	})
	check(record.EventsFile, func(line []byte) (uint64, time.Time) {
		var e record.Event
		must(t, json.Unmarshal(line, &e))
		return e.Conversation, e.Time
	})
}

// TestMergeRatesInScheduleTime: the merged rates are one process's,
// started (ok) over the span of the shards' windows put together in
// schedule time, each measured from its own start: a shard that started
// an hour late, or whose clock is an hour off, does not stretch it.
func TestMergeRatesInScheduleTime(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var dirs []string
	for i, w := range [][3]int64{{10, 900, 1000}, {60, 1960, 1990}} {
		dir := fakeShard{index: i, count: 2, seed: 1, achieved: 1}.write(t, filepath.Join(root, record.ShardsDir, strconv.Itoa(i)))
		b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
		must(t, err)
		var r record.Run
		must(t, json.Unmarshal(b, &r))
		ms := int64(time.Millisecond)
		r.Shard.FirstStartNS, r.Shard.LastStartNS, r.Shard.LastEndNS = w[0]*ms, w[1]*ms, w[2]*ms
		r.Started = r.Started.Add(time.Duration(i) * time.Hour)
		b, _ = json.Marshal(r)
		must(t, os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644))
		dirs = append(dirs, dir)
	}
	run, err := Merge(filepath.Join(root, "out"), dirs)
	must(t, err)
	// 20 started from 10 ms to 1960 ms; 18 ok to 1990 ms.
	if want := 20 / 1.95; math.Abs(run.Rate.Achieved-want) > 1e-9 || math.Abs(run.Rate.Throughput-18/1.98) > 1e-9 {
		t.Errorf("rate %+v; want achieved %g, throughput %g", run.Rate, want, 18/1.98)
	}
}
