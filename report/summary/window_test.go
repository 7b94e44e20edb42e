package summary

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/internal/synth"
)

// A probe's warm-up is slow and failing, what follows fast and ok: the
// summary after the warm-up sees only the second part.
func TestSummarizeAfter(t *testing.T) {
	s := synth.New(t, 4)
	for i := range 10 {
		sec := 0.2 * float64(i) // 0 to 1.8s: the warm-up
		if i%2 == 0 {
			s.Conversation(sec, time.Second, "")
		} else {
			s.Conversation(sec, time.Second, "timeout: slow")
		}
	}
	for i := range 20 {
		s.Conversation(2+0.1*float64(i), 50*time.Millisecond, "")
	}
	s.Conversation(3.9, 0, "dropped: max_in_flight reached")
	dir := s.Write()

	// Two intervals, as the recorder cuts them: the warm-up's and the
	// rest's.
	f, err := os.Create(filepath.Join(dir, record.HistogramsFile))
	synth.Must(t, err)
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	lw.SetBaseTime(s.Start.UnixMilli())
	synth.Must(t, lw.OutputLogFormatVersion())
	synth.Must(t, lw.OutputLegend())
	for _, iv := range []struct {
		from, to int64
		lat      time.Duration
		n        int
	}{{0, 2000, time.Second, 5}, {2000, 4000, 50 * time.Millisecond, 20}} {
		h := hdrhistogram.New(record.HistLowest, record.HistHighest, record.HistSigFigs)
		for range iv.n {
			synth.Must(t, h.RecordValue(iv.lat.Microseconds()))
		}
		h.SetTag(record.LevelConversation)
		h.SetStartTimeMs(s.Start.UnixMilli() + iv.from)
		h.SetEndTimeMs(s.Start.UnixMilli() + iv.to)
		synth.Must(t, lw.OutputIntervalHistogram(h))
	}
	synth.Must(t, w.Flush())
	synth.Must(t, f.Close())

	whole, _, err := Summarize(dir)
	synth.Must(t, err)
	if c := whole.LatencyMS.Conversation; c == nil || c.Max < 900 || whole.Conversations.Failed != 5 {
		t.Fatalf("the whole run: %+v, %+v", c, whole.Conversations)
	}
	after, err := SummarizeAfter(dir, 2*time.Second)
	synth.Must(t, err)
	c := after.LatencyMS.Conversation
	if c == nil || c.Count != 20 || c.Max > 60 {
		t.Errorf("latency after the warm-up: %+v, want the 20 conversations of 50ms", c)
	}
	n := after.Conversations
	if n.Started != 20 || n.OK != 20 || n.Failed != 0 || n.Dropped != 1 || len(n.ByOutcome) != 0 {
		t.Errorf("conversations after the warm-up: %+v, want 20 started and ok, 1 dropped", n.Counts)
	}
	if n.SuccessRate != Round3(100*20.0/21) {
		t.Errorf("success rate %v, want 20 of 21 offered", n.SuccessRate)
	}
	if r := after.Rate.Achieved; r < 9.9 || r > 10.1 {
		t.Errorf("achieved %v/s, want 10/s (one every 100ms)", r)
	}
	// From 0 it is the whole run's summary.
	zero, err := SummarizeAfter(dir, 0)
	synth.Must(t, err)
	if zero.Conversations.Failed != 5 {
		t.Errorf("from 0: %+v", zero.Conversations)
	}
}
