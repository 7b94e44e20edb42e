// Package merge merges the run folders of the shards of one sharded run
// into one run folder, which report, compare, the thresholds, claims,
// cost, plots and `vegeta report` read as a normal run
// (docs/sharding.md):
//
//   - histograms.hlog: every shard's interval histograms, added tag by tag,
//     interval by interval (the n-th interval of every shard into the
//     n-th merged one), which is exact because every shard records with
//     the same histogram settings;
//   - results.bin: every result, in intended-start order, renumbered from
//     0, which is the order and numbering one process gives them;
//   - attempts.jsonl.gz and events.jsonl: every line, their conversation
//     renumbered as in results.bin, in the order of the time they were
//     written, as one process would interleave them;
//   - run.json: counters summed; rates summed from each shard's own
//     window, never from the union of the shards' timestamps.
package merge

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
)

// RefusedError is returned when the folders are not the complete shards of
// one run: a missing or duplicate shard, shards of different scenarios,
// seeds or histogram settings, a folder that is not a shard's or is still
// being written. Nothing was written.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "merge refused: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

func refuse(format string, a ...any) error { return &RefusedError{fmt.Errorf(format, a...)} }

// ShardDirs returns the shard folders in out's shards folder
// (record.ShardsDir), where sharded runs write them: every sub-folder,
// in order of the index its name gives.
func ShardDirs(out string) ([]string, error) {
	root := filepath.Join(out, record.ShardsDir)
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, refuse("%s: no such folder: a sharded run writes its shards there (--shards, --shard)", root)
	}
	if err != nil {
		return nil, err
	}
	type named struct {
		n   int
		dir string
	}
	var dirs []named
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			n = -1
		}
		dirs = append(dirs, named{n, filepath.Join(root, e.Name())})
	}
	if len(dirs) == 0 {
		return nil, refuse("%s holds no shard folders", root)
	}
	slices.SortFunc(dirs, func(a, b named) int { return cmp.Or(cmp.Compare(a.n, b.n), strings.Compare(a.dir, b.dir)) })
	out2 := make([]string, len(dirs))
	for i, d := range dirs {
		out2[i] = d.dir
	}
	return out2, nil
}

// shard is one shard's folder, as read.
type shard struct {
	dir      string
	run      record.Run
	scenario []byte
	hash     string
	// seqs maps the shard's conversation numbers to the merged ones.
	seqs map[uint64]uint64
	// offset is the shard's start less the merged run's.
	offset time.Duration
}

// Merge merges the shard folders dirs into the run folder out, which it
// creates; the caller holds out's lock. It returns the merged run.json. It
// refuses (*RefusedError), before writing anything, folders that are not
// the complete shards of one run.
func Merge(out string, dirs []string) (*record.Run, error) {
	shards, err := readShards(out, dirs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	run := mergeRuns(shards)
	w := &writer{out: out, shards: shards}
	if err := w.copyFile(record.ScenarioFile, shards[0].scenario); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(shards[0].dir, toolsFile)); err == nil {
		if err := w.copyFile(toolsFile, b); err != nil {
			return nil, err
		}
	}
	steps := []func() error{w.results, w.attempts, w.events, w.harness, w.histograms}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if w.damaged > 0 {
		run.Warnings = append(run.Warnings, fmt.Sprintf("merge skipped %d damaged records of the shards' files", w.damaged))
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := w.copyFile(record.RunFile, append(b, '\n')); err != nil {
		return nil, err
	}
	return run, nil
}

// toolsFile is the tools a run discovered (attacker.ToolsFile), which every
// shard discovers alike.
const toolsFile = "tools.json"

// readShards reads the shards' run.json and scenario.yaml, and checks that
// they are the complete shards of one run.
func readShards(out string, dirs []string) ([]*shard, error) {
	if len(dirs) == 0 {
		return nil, refuse("no shard folders to merge")
	}
	absOut, _ := filepath.Abs(out)
	var shards []*shard
	for _, dir := range dirs {
		if abs, _ := filepath.Abs(dir); abs == absOut {
			return nil, refuse("%s is both a shard and the merged folder", dir)
		}
		if h, writing := record.Writing(dir); writing {
			return nil, refuse("%s is still being written (%s): merge once every shard has finished", dir, h)
		}
		b, err := record.ReadRegular(filepath.Join(dir, record.RunFile), record.MaxDocumentBytes)
		if err != nil {
			return nil, refuse("%s is not a run folder: %v", dir, err)
		}
		s := &shard{dir: dir}
		if err := json.Unmarshal(b, &s.run); err != nil {
			return nil, refuse("%s: %s: %v", dir, record.RunFile, err)
		}
		if s.run.Shard == nil {
			return nil, refuse("%s is a whole run, not a shard: its %s has no shard (run it with --shard or --shards)", dir, record.RunFile)
		}
		s.scenario, err = os.ReadFile(filepath.Join(dir, record.ScenarioFile))
		if err != nil {
			return nil, refuse("%s: %v", dir, err)
		}
		s.hash = record.ScenarioHash(s.scenario)
		shards = append(shards, s)
	}
	first := shards[0]
	n := first.run.Shard.Count
	byIndex := make([]*shard, n)
	for _, s := range shards {
		sh := s.run.Shard
		switch {
		case sh.Count != n:
			return nil, refuse("%s is shard %d of %d, but %s is shard %d of %d", first.dir, first.run.Shard.Index, n, s.dir, sh.Index, sh.Count)
		case s.run.Seed != first.run.Seed:
			return nil, refuse("shards of different seeds: %s has seed %d, %s seed %d", first.dir, first.run.Seed, s.dir, s.run.Seed)
		case s.hash != first.hash:
			return nil, refuse("shards of different scenarios: %s ran %s (%s), %s ran %s (%s)", first.dir, first.run.Scenario, first.hash, s.dir, s.run.Scenario, s.hash)
		case sh.Index < 0 || sh.Index >= n:
			return nil, refuse("%s says it is shard %d of %d", s.dir, sh.Index, n)
		case byIndex[sh.Index] != nil:
			return nil, refuse("shard %d of %d twice: %s and %s", sh.Index, n, byIndex[sh.Index].dir, s.dir)
		}
		byIndex[sh.Index] = s
	}
	var missing []string
	for i, s := range byIndex {
		if s == nil {
			missing = append(missing, strconv.Itoa(i))
		}
	}
	if len(missing) > 0 {
		return nil, refuse("missing shard(s) %s of %d: every shard from 0 to %d is needed", strings.Join(missing, ", "), n, n-1)
	}
	if err := sameHistogramSettings(byIndex); err != nil {
		return nil, err
	}
	return byIndex, nil
}

// sameHistogramSettings checks that every shard recorded its histograms
// with the same settings, which exact merging needs: the first interval of
// each log says (one writer writes a whole log alike).
func sameHistogramSettings(shards []*shard) error {
	type settings struct{ lo, hi, sig int64 }
	var want *settings
	var wantDir string
	for _, s := range shards {
		for iv := range intervals(s.dir, new(int64), new(error)) {
			got := settings{iv.Hist.LowestTrackableValue(), iv.Hist.HighestTrackableValue(), iv.Hist.SignificantFigures()}
			if want == nil {
				want, wantDir = &got, s.dir
			} else if got != *want {
				return refuse("shards of different histogram settings: %s records from %d to %d at %d significant figures, %s from %d to %d at %d",
					wantDir, want.lo, want.hi, want.sig, s.dir, got.lo, got.hi, got.sig)
			}
			break
		}
	}
	return nil
}

// mergeRuns merges the shards' run.json: counters summed, the earliest
// start and the latest end, rates summed over each shard's own window.
func mergeRuns(shards []*shard) *record.Run {
	first := shards[0].run
	run := &record.Run{
		Scenario:     first.Scenario,
		Kind:         first.Kind,
		Seed:         first.Seed,
		Version:      first.Version,
		Status:       record.StatusComplete,
		Started:      first.Started,
		Ended:        first.Ended,
		Planned:      first.Planned,
		ScenarioHash: shards[0].hash,
		Merged:       &record.Merged{Shards: len(shards)},
	}
	warned := map[string]bool{}
	for _, s := range shards {
		r := &s.run
		if statusRank(r.Status) > statusRank(run.Status) {
			run.Status = r.Status
		}
		if run.StopReason == "" {
			run.StopReason = r.StopReason
		}
		if r.Started.Before(run.Started) {
			run.Started = r.Started
		}
		if r.Ended.IsZero() || run.Ended.IsZero() {
			run.Ended = time.Time{}
		} else if r.Ended.After(run.Ended) {
			run.Ended = r.Ended
		}
		run.Rate.Target += r.Rate.Target
		run.Rate.Achieved += r.Rate.Achieved
		run.Rate.Throughput += r.Rate.Throughput
		addCounts(&run.Conversations, r.Conversations)
		addAttempts(&run.Attempts, r.Attempts)
		run.Tokens.Prompt += r.Tokens.Prompt
		run.Tokens.Completion += r.Tokens.Completion
		run.Tokens.Cached += r.Tokens.Cached
		run.InvalidToolArgs += r.InvalidToolArgs
		run.PeakInFlight += r.PeakInFlight
		for k, v := range r.Streams {
			if run.Streams == nil {
				run.Streams = map[string]record.StreamTotals{}
			}
			t := run.Streams[k]
			t.Streams += v.Streams
			t.CompletionTokens += v.CompletionTokens
			t.GenerationUS += v.GenerationUS
			run.Streams[k] = t
		}
		run.Harness = mergeHarness(run.Harness, r.Harness)
		for _, w := range r.Warnings {
			if !warned[w] {
				warned[w] = true
				run.Warnings = append(run.Warnings, w)
			}
		}
		run.Merged.From = append(run.Merged.From, record.MergedShard{
			Index:         r.Shard.Index,
			Dir:           s.dir,
			Status:        r.Status,
			Started:       r.Started,
			Ended:         r.Ended,
			ScenarioHash:  s.hash,
			StartSkewNS:   r.Shard.StartSkewNS,
			ClockOffsetNS: r.Shard.ClockOffsetNS,
			Conversations: r.Conversations,
			Rate:          r.Rate,
		})
	}
	for _, s := range shards {
		s.offset = s.run.Started.Sub(run.Started)
	}
	scheduleRates(run, shards)
	return run
}

// scheduleRates computes the merged rates as one process computes its own
// (conversations started over the span of their starts; ok ones over that
// span and the wait for the last to end, as vegeta does), with the span
// put together in schedule time: each shard's first and last start and
// last end are measured from its own start, by its own clock, so neither
// the offsets between the shards' clocks nor a shard that started late
// stretch it. Shards that did not record their window keep the sum of
// their rates, each over its own span.
func scheduleRates(run *record.Run, shards []*shard) {
	first, last, end := int64(math.MaxInt64), int64(0), int64(0)
	for _, s := range shards {
		sh := s.run.Shard
		if s.run.Conversations.Started == 0 {
			continue
		}
		if sh.LastStartNS == 0 && sh.FirstStartNS == 0 {
			return
		}
		first, last, end = min(first, sh.FirstStartNS), max(last, sh.LastStartNS), max(end, sh.LastEndNS)
	}
	span := time.Duration(last - first).Seconds()
	if first == math.MaxInt64 || span <= 0 {
		return
	}
	run.Rate.Achieved = float64(run.Conversations.Started) / span
	run.Rate.Throughput = float64(run.Conversations.OK) / time.Duration(max(end, last)-first).Seconds()
}

// statusRank orders statuses from the best to the worst: the merged run
// has its worst shard's.
func statusRank(status string) int {
	switch status {
	case record.StatusComplete:
		return 0
	case record.StatusRunning:
		return 2
	case record.StatusInterrupted:
		return 3
	case record.StatusAborted:
		return 4
	case record.StatusFailed:
		return 5
	}
	return 1
}

func addCounts(to *record.Counts, c record.Counts) {
	to.Started += c.Started
	to.OK += c.OK
	to.Failed += c.Failed
	to.Dropped += c.Dropped
	to.ByOutcome = addMap(to.ByOutcome, c.ByOutcome)
	if to.ByOutcome == nil {
		to.ByOutcome = map[string]uint64{}
	}
}

func addAttempts(to *record.AttemptCounts, a record.AttemptCounts) {
	to.Total += a.Total
	to.Retries += a.Retries
	to.Fallbacks += a.Fallbacks
	to.ByOutcome = addMap(to.ByOutcome, a.ByOutcome)
	if to.ByOutcome == nil {
		to.ByOutcome = map[string]uint64{}
	}
	to.RetriesByReason = addMap(to.RetriesByReason, a.RetriesByReason)
	to.ByProto = addMap(to.ByProto, a.ByProto)
	to.BreakerOpens += a.BreakerOpens
	to.BudgetExhausted += a.BudgetExhausted
	to.Hedges += a.Hedges
	to.CacheHits += a.CacheHits
	to.CacheMisses += a.CacheMisses
	to.Steps += a.Steps
	to.StepAttempts += a.StepAttempts
}

func addMap(to, m map[string]uint64) map[string]uint64 {
	if len(m) == 0 {
		return to
	}
	if to == nil {
		to = make(map[string]uint64, len(m))
	}
	for k, v := range m {
		to[k] += v
	}
	return to
}

// mergeHarness merges the shards' checks of themselves. Each shard is its
// own process: counts and times add up, and per-process figures (cores,
// peaks, the longest GC pause) are the largest shard's.
func mergeHarness(to, h *record.Harness) *record.Harness {
	if h == nil {
		return to
	}
	if to == nil {
		c := *h
		return &c
	}
	to.Cores = max(to.Cores, h.Cores)
	to.Samples += h.Samples
	to.CPUBusySamples += h.CPUBusySamples
	to.CPUSeconds += h.CPUSeconds
	to.WallSeconds += h.WallSeconds
	to.CPUMaxCores = max(to.CPUMaxCores, h.CPUMaxCores)
	to.GCPauses += h.GCPauses
	to.GCPauseP99US = max(to.GCPauseP99US, h.GCPauseP99US)
	to.GCPauseMaxUS = max(to.GCPauseMaxUS, h.GCPauseMaxUS)
	to.GCPauseTotalUS += h.GCPauseTotalUS
	to.GoroutinesMax = max(to.GoroutinesMax, h.GoroutinesMax)
	to.HeapMaxBytes = max(to.HeapMaxBytes, h.HeapMaxBytes)
	to.RSSMaxBytes = max(to.RSSMaxBytes, h.RSSMaxBytes)
	if h.AtPeak.InFlight > to.AtPeak.InFlight {
		to.Baseline, to.AtPeak = h.Baseline, h.AtPeak
	}
	to.Slots += h.Slots
	to.Queued += h.Queued
	to.QueuedLate += h.QueuedLate
	return to
}

// writer writes the merged folder's files.
type writer struct {
	out     string
	shards  []*shard
	damaged int64
}

// copyFile writes b as the file name of the merged folder, atomically.
func (w *writer) copyFile(name string, b []byte) error {
	return writeAtomic(filepath.Join(w.out, name), func(f io.Writer) error {
		_, err := f.Write(b)
		return err
	})
}

// writeAtomic writes path, buffered, atomically (record.WriteFileAtomic).
func writeAtomic(path string, write func(io.Writer) error) error {
	return record.WriteFileAtomic(path, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 64<<10)
		return errors.Join(write(bw), bw.Flush())
	})
}

// results merges results.bin: every shard's results, sorted by intended
// start (the global schedule's order), renumbered from 0. Results are
// small (about a hundred bytes) and held in memory to be sorted.
func (w *writer) results() error {
	type result struct {
		shard int
		r     vegeta.Result
	}
	var all []result
	for i, s := range w.shards {
		f, err := os.Open(filepath.Join(s.dir, record.ResultsFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		dec := vegeta.NewDecoder(bufio.NewReaderSize(f, 64<<10))
		for {
			var r vegeta.Result
			err := dec.Decode(&r)
			if err == io.EOF {
				break
			}
			if err != nil {
				// A torn tail (a crash mid-write) or damage: what came
				// before is kept.
				w.damaged++
				break
			}
			all = append(all, result{i, r})
		}
		f.Close()
	}
	slices.SortStableFunc(all, func(a, b result) int {
		return cmp.Or(a.r.Timestamp.Compare(b.r.Timestamp), cmp.Compare(a.r.Seq, b.r.Seq), cmp.Compare(a.shard, b.shard))
	})
	for _, s := range w.shards {
		s.seqs = map[uint64]uint64{}
	}
	for i := range all {
		w.shards[all[i].shard].seqs[all[i].r.Seq] = uint64(i)
	}
	return writeAtomic(filepath.Join(w.out, record.ResultsFile), func(f io.Writer) error {
		enc := vegeta.NewEncoder(f)
		for i := range all {
			all[i].r.Seq = uint64(i)
			if err := enc.Encode(&all[i].r); err != nil {
				return err
			}
		}
		return nil
	})
}

// conv maps a shard's conversation number to the merged one. A
// conversation with no result (cut short by a crash) keeps a number past
// the others', unique to its shard.
func (w *writer) conv(shard int, seq uint64) uint64 {
	if n, ok := w.shards[shard].seqs[seq]; ok {
		return n
	}
	return 1<<62 + seq
}

// attempts merges attempts.jsonl, compressed, in the order the attempts
// ended.
func (w *writer) attempts() error {
	seqs, errs := shardLines[record.Attempt](w, record.AttemptsFile)
	ended := func(a *record.Attempt) time.Time { return a.Start.Add(time.Duration(a.LatencyUS) * time.Microsecond) }
	err := writeAtomic(filepath.Join(w.out, record.AttemptsFile+record.GzipSuffix), func(f io.Writer) error {
		zw := gzip.NewWriter(f)
		enc := json.NewEncoder(zw)
		err := mergeStreams(seqs, func(a, b *record.Attempt) int { return ended(a).Compare(ended(b)) }, func(shard int, a *record.Attempt) error {
			a.Conversation = w.conv(shard, a.Conversation)
			return enc.Encode(a)
		})
		return errors.Join(err, zw.Close())
	})
	if err != nil {
		return err
	}
	// A plain attempts.jsonl left from before would be read as ours.
	if err := os.Remove(filepath.Join(w.out, record.AttemptsFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return errors.Join(errs...)
}

// events merges events.jsonl in time order.
func (w *writer) events() error {
	seqs, errs := shardLines[record.Event](w, record.EventsFile)
	err := writeAtomic(filepath.Join(w.out, record.EventsFile), func(f io.Writer) error {
		enc := json.NewEncoder(f)
		return mergeStreams(seqs, func(a, b *record.Event) int { return a.Time.Compare(b.Time) }, func(shard int, e *record.Event) error {
			e.Conversation = w.conv(shard, e.Conversation)
			return enc.Encode(e)
		})
	})
	return errors.Join(append(errs, err)...)
}

// harness merges every shard's samples of itself, their times counted from
// the merged run's start.
func (w *writer) harness() error {
	seqs, errs := shardLines[record.HarnessSample](w, record.HarnessFile)
	for i, s := range w.shards {
		base, off := seqs[i], s.offset.Seconds()
		seqs[i] = func(yield func(record.HarnessSample) bool) {
			for h := range base {
				h.T += off
				if !yield(h) {
					return
				}
			}
		}
	}
	err := writeAtomic(filepath.Join(w.out, record.HarnessFile), func(f io.Writer) error {
		enc := json.NewEncoder(f)
		return mergeStreams(seqs, func(a, b *record.HarnessSample) int { return cmp.Compare(a.T, b.T) }, func(_ int, h *record.HarnessSample) error {
			return enc.Encode(h)
		})
	})
	return errors.Join(append(errs, err)...)
}

// shardLines returns the records of every shard's JSONL file name, and
// the errors reading each, filled in as the records are read.
func shardLines[T any](w *writer, name string) ([]iter.Seq[T], []error) {
	seqs, errs := make([]iter.Seq[T], len(w.shards)), make([]error, len(w.shards))
	for i, s := range w.shards {
		seqs[i] = jsonLines[T](s.dir, name, &w.damaged, &errs[i])
	}
	return seqs, errs
}

// jsonLines yields the records of the JSONL file name in dir (or its
// compressed form), skipping and counting damaged lines into damaged; an
// error reading the file goes to *err.
func jsonLines[T any](dir, name string, damaged *int64, errp *error) iter.Seq[T] {
	return func(yield func(T) bool) {
		stopped := false
		d, err := record.EachLine(dir, name, func(line []byte) {
			if stopped {
				return
			}
			var v T
			if json.Unmarshal(line, &v) != nil {
				*damaged++
				return
			}
			stopped = !yield(v)
		})
		*damaged += d.Lines
		if d.Bytes > 0 {
			*damaged++
		}
		if err != nil {
			*errp = fmt.Errorf("%s: %w", dir, err)
		}
	}
}
