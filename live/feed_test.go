package live

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/scenarios"
)

// TestFeedFaultsAndBreakers gathers a frame from a run folder written by
// hand: the progress is the newer count, the fault windows open and close
// at the frame's time, and the breaker's moves come from events.jsonl.
func TestFeedFaultsAndBreakers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started := time.Now().Add(-3 * time.Second)
	writeJSON := func(name string, vs ...any) {
		t.Helper()
		var b []byte
		for _, v := range vs {
			line, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(b, line...), '\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeJSON(record.RunFile, record.Run{
		Scenario: "s", Status: record.StatusRunning, Started: started, Planned: 6 * time.Second,
		Conversations: record.Counts{Started: 5, OK: 3, Failed: 1, ByOutcome: map[string]uint64{record.Outcome5xx: 1}},
	})
	at := func(d time.Duration) time.Time { return started.Add(d) }
	writeJSON(record.EventsFile,
		record.Event{Time: at(time.Second), Kind: record.EventBreaker, Provider: "primary", From: record.BreakerClosed, To: record.BreakerOpen},
		record.Event{Time: at(1500 * time.Millisecond), Kind: record.EventRetry, Provider: "primary", Reason: record.Outcome5xx},
		record.Event{Time: at(2 * time.Second), Kind: record.EventBreaker, Provider: "primary", From: record.BreakerOpen, To: record.BreakerHalfOpen},
	)
	sec := func(s float64) scenarios.Duration { return scenarios.Duration(s * float64(time.Second)) }
	sc := &scenarios.Scenario{Faults: []scenarios.Fault{
		{Name: "brownout", From: sec(1), For: sec(2)},
		{Name: "outage", From: sec(4)},
	}}
	cat, _, err := cost.Catalogs(sc)
	if err != nil {
		t.Fatal(err)
	}
	hub := NewHub()
	feed := Start(hub, sc, dir, cat)
	feed.Progress(attacker.Progress{Elapsed: 2500 * time.Millisecond, Started: 6, InFlight: 1, TargetRate: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, _, err := hub.Wait(ctx, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Final || f.Conversations.Started != 6 || f.Conversations.OK != 3 || f.InFlight != 1 || f.TargetRate != 10 {
		t.Errorf("frame: final %v, started %d, ok %d, in flight %d, target %g", f.Final, f.Conversations.Started, f.Conversations.OK, f.InFlight, f.TargetRate)
	}
	want := []Window{{Name: "brownout", FromS: 1, ToS: 3, Active: true}, {Name: "outage", FromS: 4}}
	if len(f.Faults) != 2 || f.Faults[0] != want[0] || f.Faults[1] != want[1] {
		t.Errorf("fault windows at 2.5 s = %+v, want %+v", f.Faults, want)
	}
	if len(f.Breakers) != 1 || f.Breakers[0].State != record.BreakerHalfOpen || len(f.Breakers[0].Moves) != 2 ||
		f.Breakers[0].Moves[0] != (Move{AtS: 1, State: record.BreakerOpen}) {
		t.Errorf("breakers = %+v, want primary half_open after open at 1 s", f.Breakers)
	}
	if err := feed.Finish(); err != nil {
		t.Fatal(err)
	}
	if last := hub.Latest(); !last.Final || last.Seq <= f.Seq {
		t.Errorf("Finish published no final frame: %+v", last)
	}
}
