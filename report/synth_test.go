package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/mcpload/mcpload/record"
)

// synthRun builds a run folder by hand: the files the attacker would have
// written for a run whose every attempt, event and conversation the test
// chose.
type synthRun struct {
	t     *testing.T
	start time.Time
	run   record.Run
	// scenario is the client and faults sections of scenario.yaml; with
	// noScenario, no scenario.yaml is written.
	client, faults string
	noScenario     bool
	attempts       []record.Attempt
	events         []record.Event
	results        []vegeta.Result
	// noEvents leaves events.jsonl out, as a run without policies does.
	noEvents bool
	// tornAttempts appends half a line to attempts.jsonl, as a crash does.
	tornAttempts bool
	seq          uint64
}

func newSynthRun(t *testing.T, seconds int) *synthRun {
	t.Helper()
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return &synthRun{
		t:      t,
		start:  start,
		client: "client: {timeout: 2s}",
		run: record.Run{
			Scenario: "synthetic", Kind: "conversation", Seed: 7, Status: record.StatusComplete,
			Started: start, Ended: start.Add(time.Duration(seconds) * time.Second),
			Planned: time.Duration(seconds) * time.Second,
		},
	}
}

// at is the time sec seconds into the run.
func (s *synthRun) at(sec float64) time.Time {
	return s.start.Add(time.Duration(sec * float64(time.Second)))
}

// attempt records one attempt of conversation conv's step, to key, sent at
// sec.
func (s *synthRun) attempt(conv uint64, step, n int, key string, sec float64, outcome string) {
	kind := record.StepModel
	if key[:4] == "tool" {
		kind = record.StepTool
	}
	s.attempts = append(s.attempts, record.Attempt{
		Conversation: conv, Step: step, Kind: kind, Key: key, Attempt: n,
		Start: s.at(sec), LatencyUS: 1000, Outcome: outcome,
	})
}

// conversation records one conversation due at sec: ok when errText is
// empty, else failed with errText ("timeout: ..." or "dropped: ...").
func (s *synthRun) conversation(sec float64, latency time.Duration, errText string) {
	s.results = append(s.results, vegeta.Result{
		Seq: s.seq, Timestamp: s.at(sec), Latency: latency, Error: errText, Method: "POST",
	})
	s.seq++
	c := &s.run.Conversations
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

func (s *synthRun) event(e record.Event) { s.events = append(s.events, e) }

const synthScenario = `version: 1
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

// write writes the folder and returns its path.
func (s *synthRun) write() string {
	t := s.t
	t.Helper()
	dir := t.TempDir()
	b, err := json.Marshal(s.run)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644))
	if !s.noScenario {
		yaml := fmt.Sprintf(synthScenario, s.client, s.faults)
		must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte(yaml), 0o644))
	}
	writeJSONL(t, filepath.Join(dir, record.AttemptsFile), s.attempts, s.tornAttempts)
	if !s.noEvents {
		writeJSONL(t, filepath.Join(dir, record.EventsFile), s.events, false)
	}
	f, err := os.Create(filepath.Join(dir, record.ResultsFile))
	must(t, err)
	w := bufio.NewWriter(f)
	enc := vegeta.NewEncoder(w)
	for i := range s.results {
		must(t, enc.Encode(&s.results[i]))
	}
	must(t, w.Flush())
	must(t, f.Close())
	s.writeHistograms(dir)
	return dir
}

// writeHistograms logs the ok conversations' latencies as one interval,
// as the recorder would.
func (s *synthRun) writeHistograms(dir string) {
	t := s.t
	h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
	for _, r := range s.results {
		if r.Error == "" {
			must(t, h.RecordValue(r.Latency.Microseconds()))
		}
	}
	if h.TotalCount() == 0 {
		return
	}
	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	must(t, err)
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	must(t, lw.OutputLogFormatVersion())
	must(t, lw.OutputStartTime(s.start.UnixMilli()))
	must(t, lw.OutputLegend())
	h.SetTag(record.LevelConversation)
	h.SetStartTimeMs(s.start.UnixMilli())
	h.SetEndTimeMs(s.run.Ended.UnixMilli())
	must(t, lw.OutputIntervalHistogram(h))
	must(t, w.Flush())
	must(t, f.Close())
}

func writeJSONL[T any](t *testing.T, path string, items []T, torn bool) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range items {
		must(t, enc.Encode(&items[i]))
	}
	if torn {
		_, _ = w.WriteString(`{"conv":99999,"step":0,"kind":"model","key":"model:prim`)
	}
	must(t, w.Flush())
	must(t, f.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
