package summary

import (
	"encoding/json"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/runfolder"
)

// lagHistograms holds a schedule-lag histogram of n arrivals, late of
// them over the 1 ms bound (5 ms) and the rest at 50 µs.
func lagHistograms(n, late int) runfolder.Histograms {
	h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for i := range n {
		v := int64(50)
		if i < late {
			v = 5000
		}
		_ = h.RecordValue(v)
	}
	return runfolder.Histograms{record.LevelScheduleLag: h}
}

// harnessRun is a run of 1000 arrivals on 2 cores, 10 seconds sampled.
func harnessRun() *record.Run {
	return &record.Run{
		PeakInFlight: 2000,
		Harness: &record.Harness{
			Cores: 2, Samples: 10, CPUSeconds: 5, WallSeconds: 10, CPUMaxCores: 1,
			Slots:    10000,
			Baseline: record.HarnessSample{HeapBytes: 10 << 20, RSSBytes: 40 << 20},
			AtPeak:   record.HarnessSample{T: 4, InFlight: 2000, HeapBytes: 10<<20 + 2000*30_000, RSSBytes: 40<<20 + 2000*50_000},
		},
	}
}

// TestHarnessJudgesItself: a clean run has no warning; a CPU held at its
// cores, slots that made arrivals wait, and a lag neither explains each
// give their own warning, which says what to do.
func TestHarnessJudgesItself(t *testing.T) {
	for _, tc := range []struct {
		name      string
		late      int // of 1000 arrivals
		busy      int // of 10 samples
		queued    uint64
		saturated bool
		want      []string // in the warnings, in order
	}{
		{name: "clean", late: 5, busy: 1},
		{name: "cpu", late: 5, busy: 3, saturated: true,
			want: []string{"The generator is saturated: mcpload's process used 0.5 of its 2 cores on average, and 90% or more of them in 30% of the run", "give mcpload more cores"}},
		{name: "cpu and lag", late: 20, busy: 3, saturated: true,
			want: []string{"Schedule lag p99 is 5.0 ms (over 1 ms)", "not the target's latency", "it is CPU-bound"}},
		{name: "slots", late: 20, busy: 1, queued: 15, saturated: true,
			want: []string{"Schedule lag p99 is 5.0 ms", "15 of 1000 arrivals waited more than 1 ms for a free slot because load.max_in_flight (10000) was full", "on_cap: drop"}},
		{name: "slow to wake", late: 20, busy: 1, queued: 5,
			want: []string{"Schedule lag p99 is 5.0 ms", "Neither its slots nor its cores were full", "quieter machine"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := harnessRun()
			run.Harness.CPUBusySamples = tc.busy
			run.Harness.Queued, run.Harness.QueuedLate = tc.queued, tc.queued
			h := harnessOf(run, lagHistograms(1000, tc.late))
			if h.Saturated != tc.saturated {
				t.Errorf("saturated %v, want %v (cpu %+v)", h.Saturated, tc.saturated, h.CPU)
			}
			all := strings.Join(h.Warnings, "\n")
			if len(tc.want) == 0 && len(h.Warnings) > 0 {
				t.Errorf("warnings %q, want none", h.Warnings)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(all[at:], w)
				if i < 0 {
					t.Fatalf("warnings lack %q after byte %d:\n%s", w, at, all)
				}
				at += i + len(w)
			}
		})
	}
}

// TestHarnessMemoryPerInFlight: memory per conversation in flight is the
// growth from the baseline to the sample with the most in flight, over
// them; a run that predates the harness has none, and a clean one writes
// warnings as [].
func TestHarnessMemoryPerInFlight(t *testing.T) {
	h := harnessOf(harnessRun(), lagHistograms(1000, 0))
	if h.BytesPerInFlight == nil || *h.BytesPerInFlight != 30_000 || h.RSSPerInFlight == nil || *h.RSSPerInFlight != 50_000 {
		t.Errorf("per in flight: heap %v, rss %v; want 30000 and 50000", h.BytesPerInFlight, h.RSSPerInFlight)
	}
	if h.PeakSample == nil || h.PeakSample.InFlight != 2000 || h.CPU.MeanCores != 0.5 || h.InFlightMax != 2000 {
		t.Errorf("harness %+v", h)
	}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"warnings":[]`) {
		t.Errorf("warnings not an empty list: %s", b)
	}
	if harnessOf(&record.Run{}, nil) != nil {
		t.Error("a run without harness figures got some")
	}
	none := harnessRun()
	none.Harness.AtPeak = record.HarnessSample{}
	if h := harnessOf(none, nil); h.BytesPerInFlight != nil || h.ScheduleLag != nil {
		t.Errorf("nothing in flight and no lag, yet %+v", h)
	}
}
