package attacker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestJobPanicIsLocal runs a job that panics on every fifth conversation.
// The run must go on to the end, every conversation must be counted, and the
// ones that panicked must be failed with the harness's own outcome, local,
// and an error that says where.
func TestJobPanicIsLocal(t *testing.T) {
	const n = 20
	dir := t.TempDir()
	job := jobFunc(func(ctx context.Context, seq uint64, slot int, sink Sink) JobResult {
		if seq%5 == 0 {
			var calls []string
			_ = calls[seq] // out of range: a runtime panic, as a real bug's would be
		}
		return JobResult{Outcome: record.OutcomeOK, Code: 200}
	})
	sc := testScenario(scenarios.LoadShape{Stages: []scenarios.Stage{stage(100, n*10*time.Millisecond, 0)}})
	run, err := Run(context.Background(), sc, dir, withJob(job), WithInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	c := run.Conversations
	if c.Started != n || c.OK != n-n/5 || c.Failed != n/5 || c.ByOutcome[record.OutcomeLocal] != n/5 {
		t.Fatalf("conversations %+v, want %d started, %d ok, %d failed as local", c, n, n-n/5, n/5)
	}
	f := readRunFolder(t, dir)
	if len(f.results) != n {
		t.Fatalf("results.bin holds %d results, want %d", len(f.results), n)
	}
	for _, r := range f.results {
		if r.Seq%5 != 0 {
			continue
		}
		if !strings.HasPrefix(r.Error, "local: internal error: runtime error: index out of range") ||
			!strings.Contains(r.Error, "jobpanic_test.go:") {
			t.Errorf("conversation %d: error %q, want the panic and where it happened", r.Seq, r.Error)
		}
	}
}
