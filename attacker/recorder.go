package attacker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/attacker/fdbudget"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/attacker/selfcheck"
	"github.com/mcpload/mcpload/record"
)

// droppedError is the Error of a dropped hit's Result in results.bin.
const droppedError = record.OutcomeDropped + ": max_in_flight reached"

// Recorder records a run into its folder as it goes: HDR histograms per tag
// (histograms.hlog, one interval at a time), attempts.jsonl.gz, events.jsonl
// (always created, empty when no policy acted), results.bin and run.json. It implements Sink for jobs, and records the conversation level
// for the scheduler.
//
// Memory stays flat however long the run: histograms are fixed-size and
// reset after each interval is written, and records go to disk as they come.
// Every file is written in whole records (lines, gob messages, interval
// lines), and flushed at least once an interval, so a crash or Ctrl-C leaves
// a readable partial run at most one interval old.
type Recorder struct {
	dir string

	// redact removes the run's keys from every key and error text a
	// record carries: a target names tools and writes error texts, and
	// both become histogram tags, file names and report lines. Nil for a
	// recorder built outside Run, which has no keys to hide.
	redact *secrets.Redactor

	meta record.Run // fixed fields of run.json

	hists histograms

	attemptsMu sync.Mutex
	attempts   *gzipFile
	eventsMu   sync.Mutex
	events     *chunkFile
	resultsMu  sync.Mutex
	results    *chunkFile
	encode     vegeta.Encoder

	// flushMu serializes Flush and Close, which write histograms.hlog and
	// run.json.
	flushMu       sync.Mutex
	hlog          *chunkFile
	hlogW         *hdrhistogram.HistogramLogWriter
	intervalStart time.Time
	closed        bool
	// spare keeps descriptors for run.json's rewrites, under flushMu.
	spare *fdbudget.Spares

	c counters
	// lag counts the arrivals that waited for a slot (schedlag.go), and
	// self samples the process (nil for a recorder built outside Run).
	lag  lagCounts
	self *selfcheck.Sampler
}

// counters are the run's counters, updated without locks on the hot path.
type counters struct {
	started, ok, failed, dropped atomic.Uint64
	convFailures                 outcomeCounts

	attempts, retries, steps atomic.Uint64
	stepAttempts             atomic.Uint64
	attemptOutcomes          outcomeCounts
	attemptProtos            outcomeCounts

	// Policy events.
	retriesByReason                     outcomeCounts
	fallbacks, breakerOpens, budgetOuts atomic.Uint64
	hedges, cacheHits, cacheMisses      atomic.Uint64

	prompt, completion, cached atomic.Int64
	invalidToolArgs            atomic.Uint64

	// streams sums the streams with a TPOT, by attempt key.
	streams streamSums

	// inFlight counts hits from just before their handoff to a worker
	// until their job returns: the scheduler's measure of busy slots.
	// running counts jobs between start and return, for PeakInFlight.
	inFlight, running, peakInFlight atomic.Int64
	// In Unix nanoseconds: first and last actual start, last end.
	firstStart, lastStart, lastEnd atomic.Int64
}

// NewRecorder creates the run files in dir, which must exist, and writes
// run.json with status running. run holds the run's metadata: Scenario,
// Kind, Seed, Version, Started, Planned and Rate.Target; the counters are the
// Recorder's.
func NewRecorder(dir string, run record.Run) (*Recorder, error) {
	r := &Recorder{dir: dir, meta: run, intervalStart: run.Started}
	r.hists.init()
	var err error
	open := func(name string) *chunkFile {
		if err != nil {
			return nil
		}
		var c *chunkFile
		c, err = createChunkFile(filepath.Join(dir, name))
		return c
	}
	// attempts.jsonl is the largest file by far: it is written
	// compressed, and a plain one left by an earlier run into the same
	// folder goes, so that readers do not take it for ours.
	if attempts := open(record.AttemptsFile + record.GzipSuffix); attempts != nil {
		r.attempts = newGzipFile(attempts)
		err = os.Remove(filepath.Join(dir, record.AttemptsFile))
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
	}
	r.events = open(record.EventsFile)
	r.results = open(record.ResultsFile)
	r.hlog = open(record.HistogramsFile)
	if err != nil {
		r.closeFiles()
		return nil, err
	}
	r.encode = vegeta.NewEncoder(r.results)
	r.spare = fdbudget.NewSpares(fdbudget.SpareFDs)

	// Interval times are relative to the run's start.
	r.hlogW = hdrhistogram.NewHistogramLogWriter(r.hlog)
	_ = record.WriteHlogHeader(r.hlogW, run.Started)
	if err := r.hlog.flush(); err != nil {
		r.closeFiles()
		return nil, err
	}

	if err := r.writeRun(r.snapshot(record.StatusRunning, time.Time{})); err != nil {
		r.closeFiles()
		return nil, err
	}
	return r, nil
}

// Attempt implements Sink.
func (r *Recorder) Attempt(a *record.Attempt) {
	if r.redact != nil {
		a.Key, a.Error = r.redact.Redact(a.Key), r.redact.Clip(a.Error)
	}
	line := getLine()
	// An Attempt always encodes; a failure here would be a bug in record.
	_ = line.enc.Encode(a)
	r.attemptsMu.Lock()
	r.attempts.write(line.buf.Bytes())
	r.attemptsMu.Unlock()
	putLine(line)

	r.hists.pair(record.LevelAttempt, a.Key).record(a.Outcome == record.OutcomeOK, a.LatencyUS)

	r.c.attempts.Add(1)
	if a.Kind != record.KindSession && a.Kind != record.KindServerRequest {
		r.c.stepAttempts.Add(1)
	}
	r.c.attemptOutcomes.add(a.Outcome)
	if a.Proto != "" {
		r.c.attemptProtos.add(a.Proto)
	}
	// The attempts classify implausible usage as bad_usage and zero it;
	// the counters take no count outside the range whatever sends it.
	if a.PromptTokens > 0 && a.PromptTokens <= record.MaxReportedTokens {
		r.c.prompt.Add(int64(a.PromptTokens))
	}
	if a.CompletionTokens > 0 && a.CompletionTokens <= record.MaxReportedTokens {
		r.c.completion.Add(int64(a.CompletionTokens))
	}
	if a.CachedTokens > 0 && a.CachedTokens <= record.MaxReportedTokens {
		r.c.cached.Add(int64(a.CachedTokens))
	}
	if a.OutputEvents > 0 {
		r.stream(a)
	}
}

// stream records the stream metrics of a streamed attempt, by its attempt
// key: the first tool call, the arguments complete, every inter-token gap
// and the TPOT in their histograms (failed attempts apart, as for
// latencies), and the sums behind output tokens per second.
func (r *Recorder) stream(a *record.Attempt) {
	ok := a.Outcome == record.OutcomeOK
	if a.FirstToolUS > 0 {
		r.hists.pair(record.LevelFirstToolCall, a.Key).record(ok, a.FirstToolUS)
	}
	if a.ArgsDoneUS > 0 {
		r.hists.pair(record.LevelToolArgsComplete, a.Key).record(ok, a.ArgsDoneUS)
	}
	if len(a.InterTokenUS) > 0 {
		r.hists.pair(record.LevelInterToken, a.Key).recordAll(ok, a.InterTokenUS)
	}
	if a.TPOTUS > 0 {
		r.hists.pair(record.LevelTPOT, a.Key).record(ok, a.TPOTUS)
		r.c.streams.add(a.Key, int64(a.CompletionTokens), a.GenUS)
	}
}

// Step implements Sink.
func (r *Recorder) Step(s StepRecord) {
	if r.redact != nil {
		s.Key = r.redact.Redact(s.Key)
	}
	r.hists.pair(record.LevelStep, s.Key).record(s.Outcome == record.OutcomeOK, s.Latency.Microseconds())
	if s.TTFT > 0 {
		// A step that failed after its first token (a stream cut short)
		// keeps its TTFT apart, as every failure is.
		r.hists.pair(record.LevelTTFT, s.Key).record(s.Outcome == record.OutcomeOK, s.TTFT.Microseconds())
	}
	r.c.steps.Add(1)
}

// Event implements Sink: one line of events.jsonl per event, and its
// counter. Cache misses are counted but not written: they are the common
// case, one per cached request, and say nothing a count does not.
func (r *Recorder) Event(e *record.Event) {
	switch e.Kind {
	case record.EventRetry:
		// Retries are counted here, not as attempts numbered above 1:
		// hedges and fallbacks number their attempts on, and are not
		// retries.
		r.c.retries.Add(1)
		r.c.retriesByReason.add(e.Reason)
	case record.EventFallback:
		r.c.fallbacks.Add(1)
	case record.EventBreaker:
		if e.To == record.BreakerOpen {
			r.c.breakerOpens.Add(1)
		}
	case record.EventBudgetExhausted:
		r.c.budgetOuts.Add(1)
	case record.EventHedge:
		r.c.hedges.Add(1)
	case record.EventCacheHit:
		r.c.cacheHits.Add(1)
	case record.EventCacheMiss:
		r.c.cacheMisses.Add(1)
		return
	}
	if r.redact != nil {
		e.Key = r.redact.Redact(e.Key)
	}
	line := getLine()
	_ = line.enc.Encode(e)
	r.eventsMu.Lock()
	r.events.write(line.buf.Bytes())
	r.eventsMu.Unlock()
	putLine(line)
}

// InvalidToolArgs implements Sink.
func (r *Recorder) InvalidToolArgs() { r.c.invalidToolArgs.Add(1) }

// enter counts a hit about to be handed to a worker, and returns how many
// are now in flight, itself included.
func (r *Recorder) enter() int64 { return r.c.inFlight.Add(1) }

// leave counts a hit that was never handed over.
func (r *Recorder) leave() { r.c.inFlight.Add(-1) }

// finished counts a job that returned.
func (r *Recorder) finished() {
	r.c.running.Add(-1)
	r.c.inFlight.Add(-1)
}

// started counts a conversation that a worker starts at now.
func (r *Recorder) started(now time.Time) {
	r.c.started.Add(1)
	ns := now.UnixNano()
	r.c.firstStart.CompareAndSwap(0, ns)
	storeMax(&r.c.lastStart, ns)
	storeMax(&r.c.peakInFlight, r.c.running.Add(1))
}

// conversation records a finished unit of work: its latency from the
// intended start (conversation) and from the actual start (service), its
// Result in results.bin, and its fate.
func (r *Recorder) conversation(seq uint64, intended, start, end time.Time, res JobResult) {
	ok := res.Outcome == record.OutcomeOK
	latency := end.Sub(intended)
	r.hists.pair(record.LevelConversation, "").record(ok, latency.Microseconds())
	r.hists.pair(record.LevelService, "").record(ok, end.Sub(start).Microseconds())

	if ok {
		r.c.ok.Add(1)
	} else {
		r.c.failed.Add(1)
		r.c.convFailures.add(res.Outcome)
	}
	storeMax(&r.c.lastEnd, end.UnixNano())

	result := vegeta.Result{
		Seq:       seq,
		Code:      res.Code,
		Timestamp: intended,
		Latency:   latency,
		BytesIn:   res.BytesIn,
		Method:    "POST",
		URL:       res.URL,
	}
	if !ok {
		result.Error = res.Outcome
		if res.Err != "" {
			result.Error += ": " + r.redact.Clip(res.Err)
		}
		// vegeta counts success by status code alone, so a conversation
		// that failed after a 2xx (a tool error, a bad stream) would be a
		// success in `vegeta report`. Code 0 is what vegeta itself writes
		// for a failure without a usable response.
		if result.Code >= 200 && result.Code < 400 {
			result.Code = 0
		}
	}
	r.writeResult(&result)
}

// dropped records a hit that found every slot busy at its intended start.
func (r *Recorder) dropped(seq uint64, intended time.Time) {
	r.c.dropped.Add(1)
	r.writeResult(&vegeta.Result{
		Seq:       seq,
		Timestamp: intended,
		Error:     droppedError,
		Method:    "POST",
	})
}

func (r *Recorder) writeResult(res *vegeta.Result) {
	r.resultsMu.Lock()
	defer r.resultsMu.Unlock()
	if err := r.encode(res); err != nil {
		r.results.setErr(fmt.Errorf("encoding result %d: %w", res.Seq, err))
	}
	r.results.commit()
}

// InFlight returns the conversations running now.
func (r *Recorder) InFlight() int64 { return r.c.running.Load() }

// Flush writes the histograms of the interval since the last flush to
// histograms.hlog, resets them, flushes attempts.jsonl, events.jsonl and
// results.bin, and rewrites run.json with status running.
func (r *Recorder) Flush() error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if r.closed {
		return errors.New("recorder: flush after close")
	}
	return r.flushLocked(time.Now(), record.StatusRunning, time.Time{})
}

// Close flushes everything a last time, writes run.json with status (which
// should be record.StatusComplete or StatusInterrupted), closes the files
// and returns the final Run.
func (r *Recorder) Close(status string) (*record.Run, error) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	if r.closed {
		return nil, errors.New("recorder: closed twice")
	}
	r.closed = true
	// The run is over, but its connections may still fill the table:
	// the last writes get the spare descriptors.
	r.spare.Release()
	now := time.Now()
	err := r.flushLocked(now, status, now)
	err = errors.Join(err, r.closeFiles())
	run := r.snapshot(status, now)
	return &run, err
}

func (r *Recorder) flushLocked(now time.Time, status string, ended time.Time) error {
	r.hists.writeInterval(r.hlogW, r.intervalStart, now)
	r.intervalStart = now
	errs := []error{r.hlog.flush()}

	r.attemptsMu.Lock()
	errs = append(errs, r.attempts.flush())
	r.attemptsMu.Unlock()

	r.eventsMu.Lock()
	errs = append(errs, r.events.flush())
	r.eventsMu.Unlock()

	r.resultsMu.Lock()
	errs = append(errs, r.results.flush())
	r.resultsMu.Unlock()

	err := r.writeRun(r.snapshot(status, ended))
	if status == record.StatusRunning && policy.IsLocal(err) {
		// The table is full mid-run: run.json stays one interval old,
		// and the next flush or Close rewrites it.
		err = nil
	}
	return errors.Join(append(errs, err)...)
}

func (r *Recorder) closeFiles() error {
	r.spare.Release()
	var errs []error
	if r.attempts != nil {
		errs = append(errs, r.attempts.close())
	}
	for _, c := range []*chunkFile{r.events, r.results, r.hlog} {
		if c != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(errs...)
}

// Snapshot returns run.json as of now, with status running.
func (r *Recorder) Snapshot() record.Run { return r.snapshot(record.StatusRunning, time.Time{}) }

func (r *Recorder) snapshot(status string, ended time.Time) record.Run {
	run := r.meta
	run.Status = status
	run.Ended = ended
	run.Conversations = record.Counts{
		// Load the fates before started: a conversation is counted started
		// before it can end, so ok+failed never exceeds started here.
		OK:        r.c.ok.Load(),
		Failed:    r.c.failed.Load(),
		Dropped:   r.c.dropped.Load(),
		ByOutcome: r.c.convFailures.snapshot(),
	}
	run.Conversations.Started = r.c.started.Load()
	run.Attempts = record.AttemptCounts{
		Total:           r.c.attempts.Load(),
		Retries:         r.c.retries.Load(),
		Fallbacks:       r.c.fallbacks.Load(),
		ByOutcome:       r.c.attemptOutcomes.snapshot(),
		RetriesByReason: r.c.retriesByReason.snapshot(),
		ByProto:         r.c.attemptProtos.snapshot(),
		BreakerOpens:    r.c.breakerOpens.Load(),
		BudgetExhausted: r.c.budgetOuts.Load(),
		Hedges:          r.c.hedges.Load(),
		CacheHits:       r.c.cacheHits.Load(),
		CacheMisses:     r.c.cacheMisses.Load(),
		Steps:           r.c.steps.Load(),
		StepAttempts:    r.c.stepAttempts.Load(),
	}
	run.Tokens = record.Tokens{
		Prompt:     r.c.prompt.Load(),
		Completion: r.c.completion.Load(),
		Cached:     r.c.cached.Load(),
	}
	run.InvalidToolArgs = r.c.invalidToolArgs.Load()
	run.PeakInFlight = r.c.peakInFlight.Load()
	run.Streams = r.c.streams.snapshot()
	run.Harness = r.harness()

	// As vegeta computes them: Rate over the span of starts, Throughput
	// over that span plus the wait for the last to finish.
	first, last, end := r.c.firstStart.Load(), r.c.lastStart.Load(), r.c.lastEnd.Load()
	run.Rate.Achieved = float64(run.Conversations.Started)
	run.Rate.Throughput = float64(run.Conversations.OK)
	if span := time.Duration(last - first).Seconds(); first != 0 && span > 0 {
		run.Rate.Achieved /= span
		run.Rate.Throughput /= time.Duration(max(end, last) - first).Seconds()
	}
	if run.Shard != nil && first != 0 {
		// A copy: meta's is shared with other snapshots.
		sh := *run.Shard
		began := run.Started.UnixNano()
		sh.FirstStartNS, sh.LastStartNS, sh.LastEndNS = first-began, last-began, max(end, last)-began
		run.Shard = &sh
	}
	return run
}

// writeRun writes run.json atomically, so that a reader never sees half of
// it.
func (r *Recorder) writeRun(run record.Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", record.RunFile, err)
	}
	b = append(b, '\n')
	err = r.spare.Retry(func() error { return writeFileAtomic(filepath.Join(r.dir, record.RunFile), b) })
	r.spare.Refill()
	return err
}

// writeFileAtomic writes b to a temporary file next to path and renames it
// over path.
func writeFileAtomic(path string, b []byte) error {
	return record.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// storeMax raises v to x if x is larger.
func storeMax(v *atomic.Int64, x int64) {
	for {
		old := v.Load()
		if x <= old || v.CompareAndSwap(old, x) {
			return
		}
	}
}

// outcomeCounts counts by outcome. Outcomes are few and known early, so the
// map is read-locked on the hot path and written once per new outcome.
type outcomeCounts struct {
	mu sync.RWMutex
	m  map[string]*atomic.Uint64
}

func (o *outcomeCounts) add(outcome string) {
	o.mu.RLock()
	n := o.m[outcome]
	o.mu.RUnlock()
	if n == nil {
		o.mu.Lock()
		if o.m == nil {
			o.m = map[string]*atomic.Uint64{}
		}
		if n = o.m[outcome]; n == nil {
			n = new(atomic.Uint64)
			o.m[outcome] = n
		}
		o.mu.Unlock()
	}
	n.Add(1)
}

func (o *outcomeCounts) snapshot() map[string]uint64 {
	o.mu.RLock()
	defer o.mu.RUnlock()
	s := make(map[string]uint64, len(o.m))
	for k, n := range o.m {
		s[k] = n.Load()
	}
	return s
}

// streamSums sums, by attempt key, the streams whose output rate was
// measured (record.StreamTotals). Keys are few and known early, so the map
// is read-locked on the hot path, as outcomeCounts is.
type streamSums struct {
	mu sync.RWMutex
	m  map[string]*streamSum
}

type streamSum struct{ streams, tokens, genUS atomic.Int64 }

func (s *streamSums) add(key string, tokens, genUS int64) {
	s.mu.RLock()
	n := s.m[key]
	s.mu.RUnlock()
	if n == nil {
		s.mu.Lock()
		if s.m == nil {
			s.m = map[string]*streamSum{}
		}
		if n = s.m[key]; n == nil {
			n = new(streamSum)
			s.m[key] = n
		}
		s.mu.Unlock()
	}
	n.streams.Add(1)
	n.tokens.Add(tokens)
	n.genUS.Add(genUS)
}

// snapshot returns the sums, nil when no stream was measured.
func (s *streamSums) snapshot() map[string]record.StreamTotals {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.m) == 0 {
		return nil
	}
	out := make(map[string]record.StreamTotals, len(s.m))
	for k, n := range s.m {
		out[k] = record.StreamTotals{Streams: n.streams.Load(), CompletionTokens: n.tokens.Load(), GenerationUS: n.genUS.Load()}
	}
	return out
}

// histograms holds one interval histogram per tag, created on first use.
type histograms struct {
	mu    sync.RWMutex
	pairs map[pairKey]*histPair
	// order lists the tags in creation order, for a stable log.
	order []*tagHist
}

type pairKey struct{ level, key string }

// histPair is the success and failure histograms of a level and key.
type histPair struct{ ok, failed *tagHist }

func (h *histograms) init() { h.pairs = map[pairKey]*histPair{} }

// pair returns the histograms of level and key, creating them on first use.
func (h *histograms) pair(level, key string) *histPair {
	k := pairKey{level, key}
	h.mu.RLock()
	p := h.pairs[k]
	h.mu.RUnlock()
	if p != nil {
		return p
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if p = h.pairs[k]; p == nil {
		tag := sanitizeTag(record.Tag(level, key))
		p = &histPair{ok: newTagHist(tag), failed: newTagHist(tag + record.FailedSuffix)}
		h.pairs[k] = p
		h.order = append(h.order, p.ok, p.failed)
	}
	return p
}

// record records a latency in microseconds in the success or the failure
// histogram.
func (p *histPair) record(ok bool, us int64) {
	if ok {
		p.ok.record(us)
	} else {
		p.failed.record(us)
	}
}

// recordAll records latencies in microseconds in the success or the
// failure histogram, under one lock.
func (p *histPair) recordAll(ok bool, us []int64) {
	if ok {
		p.ok.recordAll(us)
	} else {
		p.failed.recordAll(us)
	}
}

// writeInterval writes every non-empty histogram as an interval from start
// to end, and resets it.
func (h *histograms) writeInterval(w *hdrhistogram.HistogramLogWriter, start, end time.Time) {
	h.mu.RLock()
	order := h.order
	h.mu.RUnlock()
	for _, t := range order {
		t.writeInterval(w, start, end)
	}
}

// tagHist is the histogram of one tag. Recording swaps into a spare at each
// interval, so the lock is held for a swap, not for an encoding.
type tagHist struct {
	tag   string
	mu    sync.Mutex
	live  *hdrhistogram.Histogram
	spare *hdrhistogram.Histogram
}

func newTagHist(tag string) *tagHist {
	return &tagHist{
		tag:   tag,
		live:  hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs),
		spare: hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs),
	}
}

func (t *tagHist) record(us int64) {
	// Clamp into range rather than lose the value: a latency over an hour
	// still happened, and the lowest bucket holds sub-microsecond ones.
	us = min(max(us, record.HistLowest), record.HistHighest)
	t.mu.Lock()
	_ = t.live.RecordValue(us)
	t.mu.Unlock()
}

func (t *tagHist) recordAll(us []int64) {
	t.mu.Lock()
	for _, v := range us {
		_ = t.live.RecordValue(min(max(v, record.HistLowest), record.HistHighest))
	}
	t.mu.Unlock()
}

func (t *tagHist) writeInterval(w *hdrhistogram.HistogramLogWriter, start, end time.Time) {
	t.mu.Lock()
	if t.live.TotalCount() == 0 {
		t.mu.Unlock()
		return
	}
	h := t.live
	t.live, t.spare = t.spare, h
	t.mu.Unlock()

	h.SetTag(t.tag)
	h.SetStartTimeMs(start.UnixMilli())
	h.SetEndTimeMs(end.UnixMilli())
	// The writer only fails on a bad tag, which sanitizeTag rules out, or
	// on the buffer, which cannot fail.
	_ = w.OutputIntervalHistogram(h)
	h.Reset()
}

// sanitizeTag replaces what the log format forbids in a tag.
func sanitizeTag(tag string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, tag)
}

// Tags returns the histogram tags created so far, sorted.
func (r *Recorder) Tags() []string {
	r.hists.mu.RLock()
	defer r.hists.mu.RUnlock()
	tags := make([]string, 0, len(r.hists.order))
	for _, t := range r.hists.order {
		tags = append(tags, t.tag)
	}
	sort.Strings(tags)
	return tags
}

// lineBuf is a reusable JSON encoder for attempts.jsonl lines.
type lineBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var linePool = sync.Pool{New: func() any {
	l := new(lineBuf)
	l.enc = json.NewEncoder(&l.buf)
	return l
}}

func getLine() *lineBuf { return linePool.Get().(*lineBuf) }

func putLine(l *lineBuf) {
	l.buf.Reset()
	linePool.Put(l)
}

// chunkFile buffers whole records and writes them to a file in large chunks,
// only between records, so the file never ends inside one. It is not safe
// for concurrent use; its owner locks.
type chunkFile struct {
	f   *os.File
	buf []byte
	err error
}

// chunkSize is how much a chunkFile buffers before writing.
const chunkSize = 64 << 10

func createChunkFile(path string) (*chunkFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Base(path), err)
	}
	return &chunkFile{f: f, buf: make([]byte, 0, 2*chunkSize)}, nil
}

// Write appends p to the buffer; it is how encoders write into a chunkFile.
// The caller calls commit after each whole record.
func (c *chunkFile) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// write appends a whole record.
func (c *chunkFile) write(p []byte) {
	c.buf = append(c.buf, p...)
	c.commit()
}

// commit marks the end of a record, and writes the buffer once it is large.
func (c *chunkFile) commit() {
	if len(c.buf) >= chunkSize {
		_ = c.flush()
	}
}

func (c *chunkFile) setErr(err error) {
	if c.err == nil {
		c.err = err
	}
}

// flush writes the buffer. The first error sticks: later records are
// dropped rather than written after a gap.
func (c *chunkFile) flush() error {
	if len(c.buf) > 0 && c.err == nil {
		if _, err := c.f.Write(c.buf); err != nil {
			c.setErr(fmt.Errorf("writing %s: %w", filepath.Base(c.f.Name()), err))
		}
	}
	c.buf = c.buf[:0]
	return c.err
}

func (c *chunkFile) close() error {
	err := c.flush()
	if cerr := c.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("closing %s: %w", filepath.Base(c.f.Name()), cerr)
	}
	return err
}
