package record

import "strconv"

// The harness's check of itself: how late arrivals started, and what the
// process spent doing it. The attacker records the schedule lag of each
// arrival in histograms.hlog and samples the process every interval into
// HarnessFile; run.json carries the aggregate (Run.Harness), and the
// report judges it (summary.json's harness object).

// HarnessFile is the per-interval samples of the process: one
// HarnessSample per line.
const HarnessFile = "harness.jsonl"

// LevelScheduleLag is the histogram level of schedule lag: an arrival's
// actual start less its intended start, in µs. The tag is the level alone
// for the whole run, and StageKey(n) for stage n when the load has more
// than one stage. Arrivals of a rate-0 stage (as fast as possible) have no
// intended start and are not recorded.
const LevelScheduleLag = "schedule_lag"

// StageKey is the histogram key of load stage n, counted from 1.
func StageKey(n int) string { return "stage:" + strconv.Itoa(n) }

// HarnessSample is the process as of one sampling instant, one line of
// HarnessFile.
type HarnessSample struct {
	// T is seconds since the run's start.
	T float64 `json:"t"`
	// CPUCores is the process's CPU time (user and system) since the
	// previous sample over the wall time between them: 1.5 is one and a
	// half cores busy.
	CPUCores float64 `json:"cpu_cores"`
	// Goroutines is the goroutines alive.
	Goroutines int64 `json:"goroutines"`
	// HeapBytes is the heap's live objects as of the last GC plus the
	// goroutine stacks: memory retained, without the garbage that waits
	// for the next GC.
	HeapBytes uint64 `json:"heap_bytes"`
	// RSSBytes is the resident set (Linux VmRSS); 0 where unknown.
	RSSBytes uint64 `json:"rss_bytes,omitempty"`
	// InFlight is the conversations running.
	InFlight int64 `json:"in_flight"`
	// GCCycles counts the GC cycles completed since the process started.
	GCCycles uint64 `json:"gc_cycles"`
	// GCPauseMaxUS is the longest stop-the-world GC pause since the
	// previous sample (the upper edge of the runtime's bucket), 0 if none.
	GCPauseMaxUS int64 `json:"gc_pause_max_us,omitempty"`
}

// Harness is the aggregate of a run's samples and of the scheduler's own
// counts, in run.json.
type Harness struct {
	// Cores is GOMAXPROCS: the cores the process may run Go code on.
	Cores int `json:"cores"`
	// Samples counts the samples taken, and CPUBusySamples those in which
	// the process used 90% of Cores or more.
	Samples        int `json:"samples"`
	CPUBusySamples int `json:"cpu_busy_samples"`
	// CPUSeconds is the process's CPU time over WallSeconds, the time
	// sampled; CPUMaxCores the busiest sample's cores.
	CPUSeconds  float64 `json:"cpu_s"`
	WallSeconds float64 `json:"wall_s"`
	CPUMaxCores float64 `json:"cpu_max_cores"`

	// GC pauses during the run (stop-the-world, from the runtime's
	// histogram): their count, the upper edges of the buckets of their
	// p99 and longest, and their total.
	GCPauses       uint64 `json:"gc_pauses"`
	GCPauseP99US   int64  `json:"gc_pause_p99_us"`
	GCPauseMaxUS   int64  `json:"gc_pause_max_us"`
	GCPauseTotalUS int64  `json:"gc_pause_total_us"`

	GoroutinesMax int64  `json:"goroutines_max"`
	HeapMaxBytes  uint64 `json:"heap_max_bytes"`
	RSSMaxBytes   uint64 `json:"rss_max_bytes,omitempty"`

	// Baseline is the first sample, taken before the first arrival;
	// AtPeak the sample with the most conversations in flight (the first
	// of equals).
	Baseline HarnessSample `json:"baseline"`
	AtPeak   HarnessSample `json:"at_peak"`

	// Slots is the most conversations the scheduler runs at once
	// (load.max_in_flight, or its bound when uncapped).
	Slots int `json:"slots"`
	// Queued counts arrivals that found every slot busy at their
	// intended start and waited for one (on_cap: queue); QueuedLate
	// those of them that started more than LagBoundUS late.
	Queued     uint64 `json:"queued"`
	QueuedLate uint64 `json:"queued_late"`
}

// LagBoundUS is the schedule lag, in µs, beyond which an arrival started
// late: a p99 above it means the harness's own delays show in latencies.
const LagBoundUS = 1000

// CPUBusyShare is the share of a core count at or above which a sample
// counts as busy.
const CPUBusyShare = 0.9
