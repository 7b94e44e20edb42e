// Package synth writes run folders by hand for the tests of the report
// packages: the files the attacker would have written for a run whose every
// attempt, event and conversation the test chose.
package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
)

// Folder builds a run folder by hand.
type Folder struct {
	t     *testing.T
	Start time.Time
	Run   record.Run
	// Client and Faults are the client and faults sections of
	// scenario.yaml; with NoScenario, no scenario.yaml is written.
	Client, Faults string
	NoScenario     bool
	Attempts       []record.Attempt
	Events         []record.Event
	Results        []vegeta.Result
	// NoEvents leaves events.jsonl out, as a run without policies does.
	NoEvents bool
	// TornAttempts appends half a line to attempts.jsonl, as a crash does.
	TornAttempts bool
	seq          uint64
}

// New starts a folder of a run of seconds, with a 2 s client timeout.
func New(t *testing.T, seconds int) *Folder {
	t.Helper()
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return &Folder{
		t:      t,
		Start:  start,
		Client: "client: {timeout: 2s}",
		Run: record.Run{
			Scenario: "synthetic", Kind: "conversation", Seed: 7, Status: record.StatusComplete,
			Started: start, Ended: start.Add(time.Duration(seconds) * time.Second),
			Planned: time.Duration(seconds) * time.Second,
		},
	}
}

// At is the time sec seconds into the run.
func (s *Folder) At(sec float64) time.Time {
	return s.Start.Add(time.Duration(sec * float64(time.Second)))
}

// Attempt records one attempt of conversation conv's step, to key, sent at
// sec.
func (s *Folder) Attempt(conv uint64, step, n int, key string, sec float64, outcome string) {
	kind := record.StepModel
	if key[:4] == "tool" {
		kind = record.StepTool
	}
	s.Attempts = append(s.Attempts, record.Attempt{
		Conversation: conv, Step: step, Kind: kind, Key: key, Attempt: n,
		Start: s.At(sec), LatencyUS: 1000, Outcome: outcome,
	})
}

// Conversation records one conversation due at sec: ok when errText is
// empty, else failed with errText ("timeout: ..." or "dropped: ...").
func (s *Folder) Conversation(sec float64, latency time.Duration, errText string) {
	s.Results = append(s.Results, vegeta.Result{
		Seq: s.seq, Timestamp: s.At(sec), Latency: latency, Error: errText, Method: "POST",
	})
	s.seq++
	c := &s.Run.Conversations
	switch {
	case errText == "":
		c.Started++
		c.OK++
	case len(errText) >= 7 && errText[:7] == "dropped":
		c.Dropped++
	default:
		c.Started++
		c.Failed++
	}
}

// Event records one policy event.
func (s *Folder) Event(e record.Event) { s.Events = append(s.Events, e) }

// Keys and faults of the folder's scenario.
const (
	Primary   = "model:primary/gpt-4.1-mini"
	Secondary = "model:secondary/gpt-4.1-nano"
	Weather   = "tool:get_weather"
	HangFault = `faults:
  - {target: "provider:primary", kind: hang, from: 5s, for: 5s}`
)

// scenarioYAML is the folder's scenario.yaml, less its client and faults.
const scenarioYAML = `version: 1
name: synthetic
seed: 7
providers:
  primary: {base_url: mock, model: gpt-4.1-mini}
  secondary: {base_url: mock, model: gpt-4.1-nano}
tools:
  - name: get_weather
    inputSchema: {type: object, properties: {location: {type: string}}}
mcp_servers:
  tools: {url: mock}
conversation:
  provider: primary
  turns:
    - user: hi
      model:
        - tool_calls: [{name: get_weather, arguments: {location: Hanoi}}]
        - content: done
load:
  stages: [{rate: 10, duration: 20s}]
%s
%s
`

// Write writes the folder and returns its path.
func (s *Folder) Write() string {
	t := s.t
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(s.Run)
	if err != nil {
		t.Fatal(err)
	}
	Must(t, os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644))
	if !s.NoScenario {
		yaml := fmt.Sprintf(scenarioYAML, s.Client, s.Faults)
		Must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte(yaml), 0o644))
	}
	WriteJSONL(t, filepath.Join(dir, record.AttemptsFile), s.Attempts, s.TornAttempts)
	if !s.NoEvents {
		WriteJSONL(t, filepath.Join(dir, record.EventsFile), s.Events, false)
	}
	f, err := os.Create(filepath.Join(dir, record.ResultsFile))
	Must(t, err)
	w := bufio.NewWriter(f)
	enc := vegeta.NewEncoder(w)
	for i := range s.Results {
		Must(t, enc.Encode(&s.Results[i]))
	}
	Must(t, w.Flush())
	Must(t, f.Close())
	s.writeHistograms(dir)
	return dir
}

// writeHistograms logs the ok conversations' latencies as one interval,
// as the recorder would.
func (s *Folder) writeHistograms(dir string) {
	t := s.t
	h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for _, r := range s.Results {
		if r.Error == "" {
			Must(t, h.RecordValue(r.Latency.Microseconds()))
		}
	}
	if h.TotalCount() == 0 {
		return
	}
	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	Must(t, err)
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	Must(t, lw.OutputLogFormatVersion())
	Must(t, lw.OutputStartTime(s.Start.UnixMilli()))
	Must(t, lw.OutputLegend())
	h.SetTag(record.LevelConversation)
	h.SetStartTimeMs(s.Start.UnixMilli())
	h.SetEndTimeMs(s.Run.Ended.UnixMilli())
	Must(t, lw.OutputIntervalHistogram(h))
	Must(t, w.Flush())
	Must(t, f.Close())
}

// WriteJSONL writes items to path, one JSON line each, and half a line
// more when torn, as a crash leaves it.
func WriteJSONL[T any](t *testing.T, path string, items []T, torn bool) {
	t.Helper()
	f, err := os.Create(path)
	Must(t, err)
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range items {
		Must(t, enc.Encode(&items[i]))
	}
	if torn {
		_, _ = w.WriteString(`{"conv":99999,"step":0,"kind":"model","key":"model:prim`)
	}
	Must(t, w.Flush())
	Must(t, f.Close())
}

// Must fails t on err.
func Must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Lookup finds the value at a dotted path of a decoded JSON document.
func Lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// HistogramFolder writes a run.json and an interval log in which tag
// "conversation" holds 1..1000 ms spread over two intervals, plus a failed
// step and an attempt key.
func HistogramFolder(t *testing.T, tornTail bool) string {
	t.Helper()
	dir := t.TempDir()
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	run := record.Run{
		Scenario: "synthetic", Kind: "conversation", Seed: 7, Status: record.StatusComplete,
		Started: start, Ended: start.Add(10 * time.Second), Planned: 10 * time.Second,
		Rate:          record.RunRate{Target: 100, Achieved: 99.5, Throughput: 98},
		Conversations: record.Counts{Started: 1000, OK: 990, Failed: 10, Dropped: 10, ByOutcome: map[string]uint64{"timeout": 10}},
		Attempts:      record.AttemptCounts{Total: 5520, StepAttempts: 5500, Retries: 500, Steps: 5000, ByOutcome: map[string]uint64{"ok": 5400, "timeout": 100}},
	}
	b, _ := json.Marshal(run)
	if err := os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644); err != nil {
		t.Fatal(err)
	}

	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	_ = lw.OutputLogFormatVersion()
	_ = lw.OutputStartTime(start.UnixMilli())
	_ = lw.OutputLegend()
	out := func(tag string, from, to int64, i int) {
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		for v := from; v <= to; v++ {
			_ = h.RecordValue(v * 1000) // ms -> µs
		}
		h.SetTag(tag)
		h.SetStartTimeMs(start.Add(time.Duration(i) * time.Second).UnixMilli())
		h.SetEndTimeMs(start.Add(time.Duration(i+1) * time.Second).UnixMilli())
		if err := lw.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
	}
	out("conversation", 1, 500, 0)
	out("conversation", 501, 1000, 1)
	out("step.model:primary.failed", 30000, 30000, 1)
	out("attempt.tool:get_weather", 5, 5, 1)
	w.Flush()
	if tornTail {
		f.WriteString("Tag=conversation,2.000,1.000,9.9,HISTFAAAA") // cut mid-line
	}
	f.Close()
	return dir
}
