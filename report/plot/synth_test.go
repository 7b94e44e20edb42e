package plot

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

// synthRun builds a run folder by hand, as the attacker would have
// written it, from attempts, events and conversations the test chose.
type synthRun struct {
	t        *testing.T
	start    time.Time
	run      record.Run
	client   string
	faults   string
	load     string
	attempts []record.Attempt
	events   []record.Event
	results  []vegeta.Result
	// hists are the latencies per histogram tag per second, in µs.
	hists map[string]map[int][]int64
	seq   uint64
}

func newSynthRun(t *testing.T, seconds int) *synthRun {
	t.Helper()
	start := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	return &synthRun{
		t:      t,
		start:  start,
		client: "client: {timeout: 2s}",
		load:   "load: {stages: [{rate: 10, duration: 4s, ramp: 2s}, {rate: 20, duration: 6s}]}",
		hists:  map[string]map[int][]int64{},
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

// attempt records one attempt, sent at sec, with its tokens.
func (s *synthRun) attempt(conv uint64, step, n int, key string, sec float64, outcome string) {
	kind := record.StepModel
	if key[:4] == "tool" {
		kind = record.StepTool
	}
	a := record.Attempt{
		Conversation: conv, Step: step, Kind: kind, Key: key, Attempt: n,
		Start: s.at(sec), LatencyUS: 50_000, Outcome: outcome,
	}
	if kind == record.StepModel {
		a.PromptTokens, a.CompletionTokens = 200, 20
	}
	s.attempts = append(s.attempts, a)
	s.run.Attempts.Total++
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

// latency records a value in tag's histogram of second sec.
func (s *synthRun) latency(tag string, sec int, d time.Duration) {
	if s.hists[tag] == nil {
		s.hists[tag] = map[int][]int64{}
	}
	s.hists[tag][sec] = append(s.hists[tag][sec], d.Microseconds())
}

func (s *synthRun) event(e record.Event) { s.events = append(s.events, e) }

const synthScenario = `version: 1
name: synthetic
seed: 7
providers:
  primary: {base_url: mock, model: gpt-4.1-mini, mock: {limits: {rpm: 600}}}
  secondary: {base_url: mock, model: gemini-2.5-flash}
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
%s
%s
%s
`

// write writes the folder into dir (a fresh temporary one when empty)
// and returns its path.
func (s *synthRun) write(dir string) string {
	t := s.t
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	must(t, os.MkdirAll(dir, 0o755))
	b, err := json.Marshal(s.run)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644))
	yaml := fmt.Sprintf(synthScenario, s.load, s.client, s.faults)
	must(t, os.WriteFile(filepath.Join(dir, record.ScenarioFile), []byte(yaml), 0o644))
	writeJSONL(t, filepath.Join(dir, record.AttemptsFile), s.attempts)
	writeJSONL(t, filepath.Join(dir, record.EventsFile), s.events)

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

// writeHistograms writes histograms.hlog as the recorder does: one
// interval per second, times relative to the run's start (BaseTime).
func (s *synthRun) writeHistograms(dir string) {
	t := s.t
	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	must(t, err)
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	startMs := s.start.UnixMilli()
	lw.SetBaseTime(startMs)
	must(t, lw.OutputLogFormatVersion())
	must(t, lw.OutputComment(fmt.Sprintf("[BaseTime: %.3f (seconds since epoch)]", float64(startMs)/1000)))
	must(t, lw.OutputLegend())
	seconds := int(s.run.Ended.Sub(s.start) / time.Second)
	for sec := range seconds {
		for tag, bySec := range s.hists {
			values := bySec[sec]
			if len(values) == 0 {
				continue
			}
			h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
			for _, v := range values {
				must(t, h.RecordValue(v))
			}
			h.SetTag(tag)
			h.SetStartTimeMs(startMs + int64(sec)*1000)
			h.SetEndTimeMs(startMs + int64(sec+1)*1000)
			must(t, lw.OutputIntervalHistogram(h))
		}
	}
	must(t, w.Flush())
	must(t, f.Close())
}

func writeJSONL[T any](t *testing.T, path string, items []T) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range items {
		must(t, enc.Encode(&items[i]))
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

// Keys of the synthetic runs.
const (
	primary   = "model:primary/gpt-4.1-mini"
	secondary = "model:secondary/gemini-2.5-flash"
	weather   = "tool:get_weather"
)

// stormRun is a run of 12 s at 5 conversations/s, each a model step and a
// tool step. From 4 s to 7 s the primary answers 503: the client retries
// once and falls back to the secondary, its breaker opens, and the
// conversations of those seconds take longer.
func stormRun(t *testing.T, faulty bool) *synthRun {
	s := newSynthRun(t, 12)
	if faulty {
		s.client = "client: {timeout: 2s, breaker: {failure_rate: 0.5}, fallback: [{provider: secondary}]}"
		s.faults = `faults:
  - {name: primary-503, target: "provider:primary", kind: http_error, status: 503, from: 4s, for: 3s}`
	}
	var conv uint64
	for sec := range 11 {
		inFault := faulty && sec >= 4 && sec < 7
		for k := range 5 {
			at := float64(sec) + float64(k)/5
			latency := 150 * time.Millisecond
			if inFault {
				s.attempt(conv, 0, 1, primary, at, record.Outcome5xx)
				s.event(record.Event{Time: s.at(at + 0.01), Kind: record.EventRetry, Conversation: conv, Attempt: 1, Key: "model:primary", Provider: "primary", Reason: record.Outcome5xx})
				s.attempt(conv, 0, 2, primary, at+0.05, record.Outcome5xx)
				s.event(record.Event{Time: s.at(at + 0.06), Kind: record.EventFallback, Conversation: conv, Key: "model:primary", Provider: "primary", To: "secondary", Reason: record.Outcome5xx})
				s.attempt(conv, 0, 3, secondary, at+0.1, record.OutcomeOK)
				latency = 400 * time.Millisecond
				s.latency(record.Tag(record.LevelStep, "model:secondary"), sec, 300*time.Millisecond)
			} else {
				s.attempt(conv, 0, 1, primary, at, record.OutcomeOK)
				s.latency(record.Tag(record.LevelStep, "model:primary"), sec, 80*time.Millisecond)
				s.latency(record.Tag(record.LevelAttempt, primary), sec, 80*time.Millisecond)
			}
			s.attempt(conv, 1, 1, weather, at+0.12, record.OutcomeOK)
			s.latency(record.Tag(record.LevelStep, weather), sec, 20*time.Millisecond)
			s.latency(record.Tag(record.LevelAttempt, weather), sec, 20*time.Millisecond)
			s.conversation(at, latency, "")
			s.latency(record.LevelConversation, sec, latency)
			s.latency(record.LevelService, sec, latency)
			conv++
		}
	}
	if faulty {
		s.event(record.Event{Time: s.at(4.3), Kind: record.EventBreaker, Provider: "primary", From: "closed", To: "open"})
		s.event(record.Event{Time: s.at(7.5), Kind: record.EventBreaker, Provider: "primary", From: "open", To: "closed"})
		// One conversation failed outright, one was dropped.
		s.conversation(5.5, 2*time.Second, "timeout: deadline exceeded")
		s.latency(record.LevelConversation+record.FailedSuffix, 7, 2*time.Second)
		s.conversation(5.6, 0, "dropped: max_in_flight")
	}
	return s
}
