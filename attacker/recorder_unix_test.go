//go:build unix

package attacker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestRecorderWritesThroughFullTable fills this process's descriptor table
// (its soft limit lowered, to keep it cheap), then flushes and closes a
// recorder: run.json must still be written, mid-run and at the end.
func TestRecorderWritesThroughFullTable(t *testing.T) {
	dir := t.TempDir()
	if _, err := writeScenario(testScenario(scenarios.LoadShape{Stages: []scenarios.Stage{stage(1, time.Second, 0)}}), filepath.Join(dir, record.ScenarioFile)); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	rec, err := NewRecorder(dir, record.Run{Scenario: "full", Started: started})
	if err != nil {
		t.Fatal(err)
	}
	fixture.SetSoftLimit(t, 256)
	var fillers []*os.File
	defer func() {
		for _, f := range fillers {
			f.Close()
		}
	}()
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if !policy.IsLocal(err) {
				t.Fatalf("filling the table: %v", err)
			}
			break
		}
		fillers = append(fillers, f)
	}
	if err := writeFileAtomic(filepath.Join(dir, "probe"), nil); !policy.IsLocal(err) {
		t.Fatalf("the table is not full: writing a file gave %v", err)
	}
	rec.Attempt(&record.Attempt{Conversation: 1, Kind: record.StepModel, Key: "model:p/m", Attempt: 1,
		Start: started, LatencyUS: 100, Outcome: record.OutcomeLocal, Error: "socket: too many open files"})
	if err := rec.Flush(); err != nil {
		t.Fatalf("flush with a full table: %v", err)
	}
	run, err := rec.Close(record.StatusComplete)
	if err != nil {
		t.Fatalf("close with a full table: %v", err)
	}
	got := readRunFolder(t, dir).run
	if got.Status != record.StatusComplete || got.Attempts.ByOutcome[record.OutcomeLocal] != 1 || run.Attempts.Total != 1 {
		t.Errorf("run.json: status %q, attempts %+v", got.Status, got.Attempts)
	}
}
