package summary

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
)

// TestLiveFollowsAppendsAndTornLines writes a run folder the way the
// recorder does, a flush at a time, with a line cut in half between two
// flushes: Live must count each histogram and attempt exactly once.
func TestLiveFollowsAppendsAndTornLines(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	writeRun := func(ok, failed uint64) {
		b, _ := json.Marshal(record.Run{Scenario: "live", Status: record.StatusRunning, Started: start,
			Conversations: record.Counts{Started: ok + failed + 5, OK: ok, Failed: failed}})
		if err := os.WriteFile(filepath.Join(dir, record.RunFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	appendTo := func(name string, b []byte) {
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	interval := func(values ...int64) []byte {
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		h.SetTag(record.LevelConversation)
		for _, v := range values {
			_ = h.RecordValue(v)
		}
		var buf bytes.Buffer
		w := hdrhistogram.NewHistogramLogWriter(&buf)
		if err := w.OutputIntervalHistogram(h); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	attempt := func(conv uint64, prompt, completion int) []byte {
		b, _ := json.Marshal(record.Attempt{Conversation: conv, Kind: record.StepModel, Key: "model:p/gpt-4.1",
			Attempt: 1, Outcome: record.OutcomeOK, PromptTokens: prompt, CompletionTokens: completion})
		return append(b, '\n')
	}

	live := NewLive(dir, pricing.Default())
	if s, err := live.Update(); s != nil || err != nil {
		t.Fatalf("before run.json: %v, %v; want nothing", s, err)
	}

	writeRun(2, 1)
	appendTo(record.HistogramsFile, interval(100_000, 200_000))
	a2 := attempt(1, 1_000_000, 0)
	appendTo(record.AttemptsFile, append(attempt(0, 1_000_000, 0), a2[:10]...))
	s, err := live.Update()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LatencyMS.Conversation.Count; got != 2 {
		t.Errorf("after the first flush: %d conversations in the histogram, want 2", got)
	}
	if s.Conversations.Started != 3 {
		t.Errorf("started = %d, want the 3 finished ones (in-flight ones left out)", s.Conversations.Started)
	}
	// GPT-4.1 input is $2/MTok in the embedded list prices.
	if got := s.Cost.TotalUSD; got < 1.99 || got > 2.01 {
		t.Errorf("cost after one attempt = $%.4f, want $2", got)
	}

	appendTo(record.AttemptsFile, a2[10:])
	appendTo(record.HistogramsFile, interval(300_000))
	writeRun(3, 1)
	if s, err = live.Update(); err != nil {
		t.Fatal(err)
	}
	if got := s.LatencyMS.Conversation.Count; got != 3 {
		t.Errorf("after the second flush: %d conversations, want 3", got)
	}
	if got := s.Cost.TotalUSD; got < 3.99 || got > 4.01 {
		t.Errorf("cost after the torn line completed = $%.4f, want $4", got)
	}
	if s, err = live.Update(); err != nil || s.LatencyMS.Conversation.Count != 3 {
		t.Errorf("an update with nothing new changed the counts: %+v, %v", s.LatencyMS.Conversation, err)
	}
}
