package summary

import (
	"fmt"
	"math"
	"strings"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
)

// Harness is the harness's check of itself (summary.json's harness): how
// late it started arrivals, what the process spent, and whether the
// generator rather than the target was the limit. See docs/measuring.md,
// "The harness checks itself".
type Harness struct {
	// ScheduleLag is actual start less intended start over every arrival
	// that had one; ScheduleLagByStage the same per load stage ("1",
	// "2"...), when the load has several.
	ScheduleLag        *LagStats            `json:"schedule_lag"`
	ScheduleLagByStage map[string]*LagStats `json:"schedule_lag_by_stage,omitempty"`
	CPU                HarnessCPU           `json:"cpu"`
	GCPause            GCPause              `json:"gc_pause"`
	GoroutinesMax      int64                `json:"goroutines_max"`
	// HeapMaxBytes is the most live heap plus goroutine stacks sampled.
	HeapMaxBytes uint64 `json:"heap_max_bytes"`
	// RSSMaxBytes is the largest resident set sampled; absent off Linux.
	RSSMaxBytes uint64 `json:"rss_max_bytes,omitempty"`
	// InFlightMax is the most conversations in flight (peak_in_flight).
	InFlightMax int64 `json:"in_flight_max"`
	// BytesPerInFlight is memory per conversation in flight: live heap
	// plus goroutine stacks at the sample with the most conversations in
	// flight, less the same at the baseline (before the first arrival),
	// over that sample's conversations in flight. RSSPerInFlight is the
	// same with the resident set. Both are absent when no sample saw a
	// conversation in flight. With the in-process mock as the target,
	// the mock's side of each connection is in the figure too.
	BytesPerInFlight *int64 `json:"bytes_per_in_flight,omitempty"`
	RSSPerInFlight   *int64 `json:"rss_per_in_flight,omitempty"`
	// PeakSample is the sample those figures come from.
	PeakSample *PeakSample `json:"peak_sample,omitempty"`
	// Slots is the scheduler's slots (load.max_in_flight); Queued the
	// arrivals that found them all busy and waited, QueuedLate those of
	// them that started more than 1 ms late.
	Slots      int    `json:"slots"`
	Queued     uint64 `json:"queued"`
	QueuedLate uint64 `json:"queued_late"`
	// Saturated: the generator was the limit, by CPU (CPU.Saturated) or
	// by slots (at least 1% of arrivals queued more than 1 ms).
	Saturated bool `json:"saturated"`
	// Warnings say, in words, when the harness's limits show in the
	// figures, and what to do.
	Warnings []string `json:"warnings"`
}

// LagStats is a schedule-lag distribution in microseconds.
type LagStats struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_us"`
	P50   int64   `json:"p50_us"`
	P90   int64   `json:"p90_us"`
	P99   int64   `json:"p99_us"`
	P999  int64   `json:"p999_us"`
	Max   int64   `json:"max_us"`
}

// HarnessCPU is the process's CPU time over wall time, in cores.
type HarnessCPU struct {
	// Cores is the cores the process may use (GOMAXPROCS).
	Cores     int     `json:"cores"`
	MeanCores float64 `json:"mean_cores"`
	MaxCores  float64 `json:"max_cores"`
	// BusyPercent is the share of samples that used 90% of Cores or more;
	// Saturated is set when that is 20% of the run or more (two samples
	// at least).
	BusyPercent float64 `json:"busy_percent"`
	Saturated   bool    `json:"saturated"`
}

// GCPause is the stop-the-world GC pauses during the run. P99US and MaxUS
// are the upper edges of the runtime's histogram buckets.
type GCPause struct {
	Count   uint64  `json:"count"`
	P99US   int64   `json:"p99_us"`
	MaxUS   int64   `json:"max_us"`
	TotalMS float64 `json:"total_ms"`
}

// PeakSample is the sample with the most conversations in flight.
type PeakSample struct {
	TS       float64 `json:"t_s"`
	InFlight int64   `json:"in_flight"`
}

// The limits of saturation: a sustained share of busy CPU samples, and a
// share of arrivals that queued late.
const (
	cpuBusySharePercent = 20
	cpuBusyMinSamples   = 2
	queuedLatePercent   = 1
)

// harnessOf judges run's harness figures and the schedule-lag histograms;
// nil for a run that predates them.
func harnessOf(run *record.Run, hs runfolder.Histograms) *Harness {
	r := run.Harness
	if r == nil {
		return nil
	}
	h := &Harness{
		ScheduleLag:   lagStats(hs[record.LevelScheduleLag]),
		GoroutinesMax: r.GoroutinesMax,
		HeapMaxBytes:  r.HeapMaxBytes,
		RSSMaxBytes:   r.RSSMaxBytes,
		InFlightMax:   run.PeakInFlight,
		Slots:         r.Slots,
		Queued:        r.Queued,
		QueuedLate:    r.QueuedLate,
		GCPause: GCPause{
			Count: r.GCPauses, P99US: r.GCPauseP99US, MaxUS: r.GCPauseMaxUS,
			TotalMS: Round3(float64(r.GCPauseTotalUS) / runfolder.USPerMS),
		},
		CPU: HarnessCPU{Cores: r.Cores, MaxCores: r.CPUMaxCores},
	}
	prefix := record.Tag(record.LevelScheduleLag, "stage:")
	for tag, hist := range hs {
		if n, ok := strings.CutPrefix(tag, prefix); ok {
			if h.ScheduleLagByStage == nil {
				h.ScheduleLagByStage = map[string]*LagStats{}
			}
			h.ScheduleLagByStage[n] = lagStats(hist)
		}
	}
	if r.WallSeconds > 0 {
		h.CPU.MeanCores = Round3(r.CPUSeconds / r.WallSeconds)
	}
	if r.Samples > 0 {
		h.CPU.BusyPercent = Round3(100 * float64(r.CPUBusySamples) / float64(r.Samples))
		h.CPU.Saturated = r.CPUBusySamples >= cpuBusyMinSamples && h.CPU.BusyPercent >= cpuBusySharePercent
	}
	if p := r.AtPeak; p.InFlight > 0 {
		h.PeakSample = &PeakSample{TS: p.T, InFlight: p.InFlight}
		per := func(at, base uint64) *int64 {
			v := int64(math.Round((float64(at) - float64(base)) / float64(p.InFlight)))
			return &v
		}
		h.BytesPerInFlight = per(p.HeapBytes, r.Baseline.HeapBytes)
		if p.RSSBytes > 0 && r.Baseline.RSSBytes > 0 {
			h.RSSPerInFlight = per(p.RSSBytes, r.Baseline.RSSBytes)
		}
	}
	slotsLate := false
	if lag := h.ScheduleLag; lag != nil {
		slotsLate = r.QueuedLate > 0 && 100*float64(r.QueuedLate) >= queuedLatePercent*float64(lag.Count)
	}
	h.Saturated = h.CPU.Saturated || slotsLate
	h.Warnings = harnessWarnings(h, slotsLate)
	return h
}

func lagStats(h *hdrhistogram.Histogram) *LagStats {
	if h == nil || h.TotalCount() == 0 {
		return nil
	}
	return &LagStats{
		Count: h.TotalCount(),
		Mean:  Round3(h.Mean()),
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
	}
}

// harnessWarnings says when the generator, not the target, shows in the
// figures: what it means, and what to do.
func harnessWarnings(h *Harness, slotsLate bool) []string {
	out := []string{}
	cpu := fmt.Sprintf("mcpload's process used %.1f of its %d cores on average, and 90%% or more of them in %.0f%% of the run",
		h.CPU.MeanCores, h.CPU.Cores, h.CPU.BusyPercent)
	slots := fmt.Sprintf("%d of %d arrivals waited more than 1 ms for a free slot because load.max_in_flight (%d) was full",
		h.QueuedLate, lagCount(h), h.Slots)
	if lag := h.ScheduleLag; lag != nil && lag.P99 > record.LagBoundUS {
		msg := fmt.Sprintf("Schedule lag p99 is %s (over 1 ms): mcpload started arrivals late, so the latencies measured from the intended start include up to that much of mcpload's own delay, which is not the target's latency. ",
			USText(lag.P99))
		switch {
		case slotsLate:
			msg += slots + ": raise load.max_in_flight, or set on_cap: drop to count such arrivals as dropped rather than queue them."
		case h.CPU.Saturated:
			msg += cpu + ": it is CPU-bound. Split the rate across processes or machines, or give mcpload more cores."
		default:
			msg += fmt.Sprintf("Neither its slots nor its cores were full, so the process was slow to wake (its longest GC pause was %s; other processes may have held the machine's cores). Rerun on a quieter machine, or with fewer arrivals per process.",
				USText(h.GCPause.MaxUS))
		}
		out = append(out, msg)
		if slotsLate && h.CPU.Saturated {
			out = append(out, "The generator is saturated: "+cpu+". Split the rate across processes or machines, or give mcpload more cores.")
		}
		return out
	}
	if h.CPU.Saturated {
		out = append(out, "The generator is saturated: "+cpu+", so its timings may drift and latencies may include its own delays. Split the rate across processes or machines, or give mcpload more cores.")
	}
	if slotsLate {
		out = append(out, "The generator ran out of slots: "+slots+", so their latencies include that wait. Raise load.max_in_flight, or set on_cap: drop.")
	}
	return out
}

func lagCount(h *Harness) int64 {
	if h.ScheduleLag == nil {
		return 0
	}
	return h.ScheduleLag.Count
}

// USText writes µs as a person reads them: "850 µs", "12.3 ms", "2.41 s".
func USText(us int64) string {
	switch {
	case us < 1000:
		return fmt.Sprintf("%d µs", us)
	case us < 1_000_000:
		return fmt.Sprintf("%.1f ms", float64(us)/1000)
	}
	return fmt.Sprintf("%.2f s", float64(us)/1e6)
}
