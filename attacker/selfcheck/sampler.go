package selfcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"

	"github.com/mcpload/mcpload/record"
)

// The runtime metrics a sample reads.
const (
	metricGoroutines = "/sched/goroutines:goroutines"
	metricLiveHeap   = "/gc/heap/live:bytes"
	metricStacks     = "/memory/classes/heap/stacks:bytes"
	metricGCCycles   = "/gc/cycles/total:gc-cycles"
	// metricGCPauses is the distribution of stop-the-world GC pauses
	// (the same as /gc/pauses:seconds, which it replaced).
	metricGCPauses = "/sched/pauses/total/gc:seconds"
	// metricGCPauseCPU is GC pause time times GOMAXPROCS.
	metricGCPauseCPU = "/cpu/classes/gc/pause:cpu-seconds"
	metricCPUTotal   = "/cpu/classes/total:cpu-seconds"
	metricCPUIdle    = "/cpu/classes/idle:cpu-seconds"
)

var sampledMetrics = []string{
	metricGoroutines, metricLiveHeap, metricStacks, metricGCCycles,
	metricGCPauses, metricGCPauseCPU, metricCPUTotal, metricCPUIdle,
}

// Source is the run a Sampler samples: the conversations it has in flight.
type Source interface {
	InFlight() int64
}

// Sampler samples the process every interval, from its creation (the
// baseline, before any arrival) until Stop (a last sample).
type Sampler struct {
	src      Source
	began    time.Time
	interval time.Duration

	out *os.File // harness.jsonl
	rss *rssReader

	samples []metrics.Sample
	cores   int

	agg record.Harness
	// firstPauses and lastPauses are the GC pause histogram's counts at
	// the baseline and at the previous sample; firstPauseCPU the GC pause
	// CPU time at the baseline.
	firstPauses, lastPauses []uint64
	firstPauseCPU           float64
	lastCPU                 time.Duration
	lastAt                  time.Time
	cpuFirst                time.Duration
	buf                     bytes.Buffer

	stopc, done chan struct{}

	// mu guards latest, the aggregate as of the last sample, which
	// Harness reads from the recorder's goroutine.
	mu     sync.Mutex
	latest *record.Harness
}

// New creates harness.jsonl in dir, and readies a Sampler for a run of
// slots slots, sampled every interval once started. Its GC is forced
// here, before the run's start, so that it delays no arrival.
func New(dir string, interval time.Duration, slots int) (*Sampler, error) {
	out, err := os.Create(filepath.Join(dir, record.HarnessFile))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", record.HarnessFile, err)
	}
	s := &Sampler{
		interval: interval,
		out:      out,
		rss:      openRSS(),
		samples:  make([]metrics.Sample, len(sampledMetrics)),
		cores:    runtime.GOMAXPROCS(0),
		stopc:    make(chan struct{}),
		done:     make(chan struct{}),
	}
	for i, name := range sampledMetrics {
		s.samples[i].Name = name
	}
	s.agg.Cores, s.agg.Slots = s.cores, slots
	// The live heap is as of the last GC: one now, before any arrival,
	// makes the baseline of memory per conversation in flight current.
	runtime.GC()
	return s, nil
}

// Start takes the baseline sample of src, a run which began at began, and
// samples every interval until Stop.
func (s *Sampler) Start(src Source, began time.Time) {
	s.src, s.began = src, began
	s.sample(time.Now(), true)
	go s.loop()
}

// Abort closes the files of a Sampler never started.
func (s *Sampler) Abort() {
	s.rss.close()
	s.out.Close()
}

func (s *Sampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopc:
			return
		case now := <-t.C:
			s.sample(now, false)
		}
	}
}

// Stop takes a last sample and closes harness.jsonl.
func (s *Sampler) Stop() error {
	close(s.stopc)
	<-s.done
	s.sample(time.Now(), false)
	s.rss.close()
	if err := s.out.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", record.HarnessFile, err)
	}
	return nil
}

// Harness returns the process's aggregate as of the last sample; nil
// before the first. The scheduler's counts (Queued, QueuedLate) are the
// caller's to fill in.
func (s *Sampler) Harness() *record.Harness {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest == nil {
		return nil
	}
	h := *s.latest
	return &h
}

// sample reads the process, writes the sample and updates the aggregate.
func (s *Sampler) sample(now time.Time, baseline bool) {
	metrics.Read(s.samples)
	cpu := processCPU(s.samples)
	smp := record.HarnessSample{
		T:          round3(now.Sub(s.began).Seconds()),
		Goroutines: int64(s.uint(metricGoroutines)),
		HeapBytes:  s.uint(metricLiveHeap) + s.uint(metricStacks),
		RSSBytes:   s.rss.read(),
		InFlight:   s.src.InFlight(),
		GCCycles:   s.uint(metricGCCycles),
	}
	pauses := s.histogram(metricGCPauses)
	a := &s.agg
	if baseline {
		s.firstPauses = append([]uint64(nil), pauses.counts()...)
		s.firstPauseCPU = s.float(metricGCPauseCPU)
		s.cpuFirst = cpu
		a.Baseline, a.AtPeak = smp, smp
	} else {
		smp.GCPauseMaxUS = pauses.maxUS(s.lastPauses)
		wall := now.Sub(s.lastAt).Seconds()
		if wall > 0 {
			smp.CPUCores = round3((cpu - s.lastCPU).Seconds() / wall)
		}
		a.Samples++
		if smp.CPUCores >= record.CPUBusyShare*float64(s.cores) {
			a.CPUBusySamples++
		}
		a.CPUMaxCores = max(a.CPUMaxCores, smp.CPUCores)
		a.CPUSeconds = round3((cpu - s.cpuFirst).Seconds())
		a.WallSeconds = round3(now.Sub(s.began).Seconds())
		a.GCPauses = pauses.total(s.firstPauses)
		a.GCPauseP99US = pauses.quantileUS(s.firstPauses, 0.99)
		a.GCPauseMaxUS = pauses.maxUS(s.firstPauses)
		if s.cores > 0 {
			a.GCPauseTotalUS = int64(math.Round((s.float(metricGCPauseCPU) - s.firstPauseCPU) / float64(s.cores) * 1e6))
		}
		if smp.InFlight > a.AtPeak.InFlight {
			a.AtPeak = smp
		}
	}
	s.lastPauses = append(s.lastPauses[:0], pauses.counts()...)
	s.lastCPU, s.lastAt = cpu, now
	a.GoroutinesMax = max(a.GoroutinesMax, smp.Goroutines)
	a.HeapMaxBytes = max(a.HeapMaxBytes, smp.HeapBytes)
	a.RSSMaxBytes = max(a.RSSMaxBytes, smp.RSSBytes)
	latest := *a
	s.mu.Lock()
	s.latest = &latest
	s.mu.Unlock()

	s.buf.Reset()
	if err := json.NewEncoder(&s.buf).Encode(&smp); err == nil {
		// A sample lost to a full disk costs the plot a point, not the
		// run; the aggregate is in run.json.
		_, _ = s.out.Write(s.buf.Bytes())
	}
}

func (s *Sampler) value(name string) metrics.Value {
	for _, m := range s.samples {
		if m.Name == name {
			return m.Value
		}
	}
	return metrics.Value{}
}

// uint returns a uint64 metric, 0 when this runtime lacks it.
func (s *Sampler) uint(name string) uint64 {
	if v := s.value(name); v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

// float returns a float64 metric, 0 when this runtime lacks it.
func (s *Sampler) float(name string) float64 {
	if v := s.value(name); v.Kind() == metrics.KindFloat64 {
		return v.Float64()
	}
	return 0
}

func (s *Sampler) histogram(name string) pauseHist {
	if v := s.value(name); v.Kind() == metrics.KindFloat64Histogram {
		return pauseHist{v.Float64Histogram()}
	}
	return pauseHist{}
}

// runtimeCPU is the runtime's estimate of the CPU time its Ps were busy,
// for platforms without getrusage.
func runtimeCPU(samples []metrics.Sample) time.Duration {
	var total, idle float64
	for _, m := range samples {
		if m.Value.Kind() != metrics.KindFloat64 {
			continue
		}
		switch m.Name {
		case metricCPUTotal:
			total = m.Value.Float64()
		case metricCPUIdle:
			idle = m.Value.Float64()
		}
	}
	return time.Duration((total - idle) * 1e9)
}

// pauseHist is the runtime's cumulative histogram of GC pauses, in
// seconds; since counts only grow, a run's own pauses are the difference
// from the counts at its baseline.
type pauseHist struct{ h *metrics.Float64Histogram }

func (p pauseHist) counts() []uint64 {
	if p.h == nil {
		return nil
	}
	return p.h.Counts
}

// delta returns bucket i's count less base's.
func (p pauseHist) delta(base []uint64, i int) uint64 {
	n := p.h.Counts[i]
	if i < len(base) && base[i] <= n {
		n -= base[i]
	}
	return n
}

func (p pauseHist) total(base []uint64) uint64 {
	if p.h == nil {
		return 0
	}
	var n uint64
	for i := range p.h.Counts {
		n += p.delta(base, i)
	}
	return n
}

// upperUS is the upper edge of bucket i in µs; the last bucket's is
// infinite, so its lower edge stands for it.
func (p pauseHist) upperUS(i int) int64 {
	e := p.h.Buckets[i+1]
	if math.IsInf(e, 1) {
		e = p.h.Buckets[i]
	}
	return int64(math.Ceil(e * 1e6))
}

// quantileUS returns the upper edge of the bucket of quantile q of the
// pauses since base, 0 without pauses.
func (p pauseHist) quantileUS(base []uint64, q float64) int64 {
	total := p.total(base)
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var n uint64
	for i := range p.h.Counts {
		if n += p.delta(base, i); n >= rank {
			return p.upperUS(i)
		}
	}
	return 0
}

// maxUS returns the upper edge of the bucket of the longest pause since
// base, 0 without pauses.
func (p pauseHist) maxUS(base []uint64) int64 {
	if p.h == nil {
		return 0
	}
	for i := len(p.h.Counts) - 1; i >= 0; i-- {
		if p.delta(base, i) > 0 {
			return p.upperUS(i)
		}
	}
	return 0
}

// rssReader reads the resident set from /proc/self/statm, kept open so
// that a sample needs no descriptor when the run has filled the table.
// Where there is no /proc, it reads 0.
type rssReader struct {
	f   *os.File
	buf [128]byte
}

func openRSS() *rssReader {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return &rssReader{}
	}
	return &rssReader{f: f}
}

// read returns the resident set in bytes, 0 when unknown.
func (r *rssReader) read() uint64 {
	if r.f == nil {
		return 0
	}
	n, _ := r.f.ReadAt(r.buf[:], 0)
	// statm: size resident shared text lib data dt, in pages.
	fields := bytes.Fields(r.buf[:n])
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

func (r *rssReader) close() {
	if r.f != nil {
		r.f.Close()
	}
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
