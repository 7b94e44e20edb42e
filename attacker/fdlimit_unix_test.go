//go:build unix

package attacker

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// setSoftLimit sets this process's soft RLIMIT_NOFILE to soft (at most
// the hard limit), and puts the old one back when the test ends.
func setSoftLimit(t *testing.T, soft uint64) syscall.Rlimit {
	t.Helper()
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	})
	lim := orig
	lim.Cur = min(soft, orig.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	return orig
}

func TestEnsureFDsRaisesSoftLimit(t *testing.T) {
	orig := setSoftLimit(t, 128)
	if orig.Max < 1024 {
		t.Skipf("hard limit %d: too low to see a raise", orig.Max)
	}
	need := FDNeed{InFlight: 200, MaxInFlight: 200, Client: 1, Mock: 1, Reserve: FDReserve}
	if err := EnsureFDs(need); err != nil {
		t.Fatal(err)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur < need.Total() {
		t.Errorf("soft limit %d after EnsureFDs, need %d", now.Cur, need.Total())
	}
}

func TestEnsureFDsRefusesPastHardLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max > 1<<30 {
		t.Skipf("hard limit %d: nothing to exceed", lim.Max)
	}
	need := FDNeed{InFlight: int(lim.Max), MaxInFlight: int(lim.Max), Client: 1, Mock: 1, Reserve: FDReserve}
	err := EnsureFDs(need)
	var le *FDLimitError
	if !errors.As(err, &le) {
		t.Fatalf("EnsureFDs = %v, want an FDLimitError", err)
	}
	if le.Hard != lim.Max || le.Soft > lim.Max {
		t.Errorf("limits soft %d, hard %d; the hard limit is %d", le.Soft, le.Hard, lim.Max)
	}
	if !strings.Contains(err.Error(), "Lower load.max_in_flight to") {
		t.Errorf("message does not say what to lower: %v", err)
	}
}

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
	setSoftLimit(t, 256)
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
