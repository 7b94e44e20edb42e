package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
)

// stormRun is 20 s at 10 conversations/s, each a model step then a tool
// step. From 5 s to 10 s the primary hangs: each model step takes three
// attempts, all sent in the second the step started, so the load offered
// to the primary triples in the window.
func stormRun(t *testing.T) *synth.Folder {
	s := synth.New(t, 20)
	s.Faults = synth.HangFault
	for sec := 0; sec < 20; sec++ {
		for j := 0; j < 10; j++ {
			conv := uint64(sec*10 + j)
			t0 := float64(sec) + 0.01*float64(j)
			if sec >= 5 && sec < 10 {
				s.Attempt(conv, 0, 1, synth.Primary, t0, record.OutcomeTimeout)
				s.Attempt(conv, 0, 2, synth.Primary, t0+0.3, record.OutcomeTimeout)
				s.Attempt(conv, 0, 3, synth.Primary, t0+0.6, record.OutcomeOK)
			} else {
				s.Attempt(conv, 0, 1, synth.Primary, t0, record.OutcomeOK)
			}
			s.Attempt(conv, 1, 1, synth.Weather, t0+0.8, record.OutcomeOK)
			s.Conversation(t0, 100*time.Millisecond, "")
		}
	}
	return s
}

func TestRetryStormShowsAsPeakOfferedLoad(t *testing.T) {
	dir := stormRun(t).Write()
	s, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := s.Resilience
	if r == nil {
		t.Fatal("a run with faults has no resilience block")
	}
	if !reflect.DeepEqual(r.FailingTargets, []string{"provider:primary"}) {
		t.Errorf("failing targets = %v, want [provider:primary]", r.FailingTargets)
	}
	if len(r.Faults) != 1 {
		t.Fatalf("faults = %+v, want one window", r.Faults)
	}
	f := r.Faults[0]
	if f.Name != "hang@provider:primary" || f.FromS != 5 || f.EndS != 10 || f.ToEnd {
		t.Errorf("window = %s %v-%v (to end %v), want hang@provider:primary 5-10", f.Name, f.FromS, f.EndS, f.ToEnd)
	}
	in, out := f.Offered["provider:primary"], r.OfferedOutsideFaults["provider:primary"]
	if in.PeakRPS != 30 || in.MeanRPS != 30 || in.Attempts != 150 || in.Failed != 100 {
		t.Errorf("primary during the window = %+v, want peak 30/s, mean 30/s, 150 attempts, 100 failed", in)
	}
	if out.PeakRPS != 10 || out.MeanRPS != 10 || out.Failed != 0 {
		t.Errorf("primary outside the window = %+v, want peak and mean 10/s, no failures", out)
	}
	if tool := f.Offered[synth.Weather]; tool.PeakRPS != 10 {
		t.Errorf("the tool's load in the window = %+v, want 10/s: retries of the model are not the tool's", tool)
	}
	// In the window: 50 model steps of 3 attempts, 50 tool steps of 1.
	if f.Amplification != 2 {
		t.Errorf("window amplification = %v, want 2 (200 attempts / 100 steps)", f.Amplification)
	}
	// The run: 400 steps, 500 attempts (run.json's counters are zero, so
	// the attempts stand in for them).
	if r.Steps != 400 || r.StepAttempts != 500 || r.Amplification != 1.25 {
		t.Errorf("run amplification = %v (%d/%d), want 1.25 (500/400)", r.Amplification, r.StepAttempts, r.Steps)
	}

	ts, err := summary.ReadTimeseries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.T) != 20 || len(ts.Offered["provider:primary"]) != 20 {
		t.Fatalf("series length = %d, %d, want 20 one-second intervals", len(ts.T), len(ts.Offered["provider:primary"]))
	}
	if got := ts.Offered["provider:primary"]; got[4] != 10 || got[5] != 30 || got[9] != 30 || got[10] != 10 {
		t.Errorf("offered series around the window = %v, want 10 then 30 from 5 to 9 then 10", got[3:12])
	}
	if a := ts.Amplification[7]; a == nil || *a != 2 {
		t.Errorf("amplification at 7 s = %v, want 2", a)
	}
	if len(ts.Faults) != 1 || ts.Faults[0].FromS != 5 || ts.Faults[0].EndS != 10 {
		t.Errorf("series faults = %+v, want the 5-10 s window", ts.Faults)
	}
}

// A plain run (the quickstart's kind): no faults, no policies, no
// events.jsonl. It still summarizes, without a resilience block.
func TestPlainRunHasNoResilienceBlock(t *testing.T) {
	s := synth.New(t, 3)
	s.NoEvents = true
	for i := 0; i < 30; i++ {
		s.Attempt(uint64(i), 0, 1, synth.Primary, float64(i)/10, record.OutcomeOK)
		s.Conversation(float64(i)/10, 50*time.Millisecond, "")
	}
	dir := s.Write()
	sum, err := Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resilience != nil {
		t.Errorf("plain run has a resilience block: %+v", sum.Resilience)
	}
	raw, err := os.ReadFile(filepath.Join(dir, record.SummaryFile))
	synth.Must(t, err)
	var doc map[string]any
	synth.Must(t, json.Unmarshal(raw, &doc))
	if _, ok := doc["resilience"]; ok {
		t.Error("summary.json of a plain run has a resilience key")
	}
	var b strings.Builder
	synth.Must(t, text.Print(&b, sum))
	if strings.Contains(b.String(), "Resilience") {
		t.Errorf("plain run prints a resilience block:\n%s", b.String())
	}
	// The series are written anyway, for plots.
	ts, err := summary.ReadTimeseries(dir)
	synth.Must(t, err)
	if len(ts.T) != 3 || ts.Conversations.OK[0] != 10 || ts.Offered["provider:primary"][2] != 10 {
		t.Errorf("series = %d intervals, ok %v, offered %v; want 3 intervals of 10", len(ts.T), ts.Conversations.OK, ts.Offered)
	}
}

// A folder with nothing but run.json (a run that recorded nothing) still
// summarizes.
func TestBareRunFolder(t *testing.T) {
	s := synth.New(t, 0)
	s.Run.Ended = time.Time{}
	s.NoScenario, s.NoEvents = true, true
	sum, err := Write(s.Write())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Resilience != nil {
		t.Error("bare run has a resilience block")
	}
}

func TestResilienceText(t *testing.T) {
	s := stormRun(t)
	s.Event(record.Event{Time: s.At(5.5), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
	s.Event(record.Event{Time: s.At(5.6), Kind: record.EventRetry, Reason: "timeout"})
	sum, err := Write(s.Write())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	synth.Must(t, text.Print(&b, sum))
	out := b.String()
	for _, want := range []string{
		"\nResilience\n",
		"1.25 (500 attempts, 400 steps)",
		"timeout 1",
		"primary open@5.5s",
		"hang@provider:primary",
		"5s-10s",
		"provider:primary 30/30.0 | 10/10.0",
		"0s after the window",
		"2.00; retries timeout 1",
		"Goodput",
		"100.00% before the first fault",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary text lacks %q:\n%s", want, out)
		}
	}
}
