package selfcheck

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// inFlight is a Source whose conversations in flight the test sets.
type inFlight struct{ n atomic.Int64 }

func (f *inFlight) InFlight() int64 { return f.n.Load() }

// TestSampler samples this process from a baseline to a last sample:
// harness.jsonl holds every sample, and Harness their aggregate, its peak
// at the sample with the most in flight.
func TestSampler(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir, 5*time.Millisecond, 7)
	if err != nil {
		t.Fatal(err)
	}
	if s.Harness() != nil {
		t.Fatal("a harness before the first sample")
	}
	src := &inFlight{}
	src.n.Store(3)
	began := time.Now()
	s.Start(src, began)
	if h := s.Harness(); h == nil || h.Baseline.InFlight != 3 || h.Samples != 0 {
		t.Fatalf("after the baseline: %+v", h)
	}
	src.n.Store(9)
	time.Sleep(30 * time.Millisecond)
	src.n.Store(1)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	var samples []record.HarnessSample
	if _, err := record.EachLine(dir, record.HarnessFile, func(line []byte) {
		var smp record.HarnessSample
		if err := json.Unmarshal(line, &smp); err != nil {
			t.Errorf("harness.jsonl line %d: %v", len(samples)+1, err)
		}
		samples = append(samples, smp)
	}); err != nil {
		t.Fatal(err)
	}
	h := s.Harness()
	// The baseline and at least the last sample, whatever the ticker
	// managed on a loaded machine.
	if h == nil || len(samples) < 2 || h.Samples != len(samples)-1 {
		t.Fatalf("%d samples in %s, harness %+v", len(samples), record.HarnessFile, h)
	}
	if h.Baseline != samples[0] || samples[len(samples)-1].InFlight != 1 {
		t.Errorf("baseline %+v, first sample %+v, last %+v", h.Baseline, samples[0], samples[len(samples)-1])
	}
	var peak int64
	for _, smp := range samples {
		peak = max(peak, smp.InFlight)
		if smp.Goroutines <= 0 || smp.HeapBytes == 0 {
			t.Errorf("sample %+v: no goroutines or memory", smp)
		}
	}
	if h.AtPeak.InFlight != peak || h.Cores <= 0 || h.Slots != 7 || h.WallSeconds <= 0 {
		t.Errorf("harness %+v, peak in flight %d", h, peak)
	}
	h.Slots = 0
	if s.Harness().Slots != 7 {
		t.Error("Harness shares its aggregate with the caller")
	}
}
