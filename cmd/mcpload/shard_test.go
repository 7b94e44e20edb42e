package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/thresholds"
)

func readRun(t *testing.T, dir string) *record.Run {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, record.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var r record.Run
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestRunLocalShards: run --shards 2 --local starts two processes of
// mcpload, each given its index in JOB_COMPLETION_INDEX as an Indexed Job
// gives it, and a common --start-at; they write OUT/shards/0 and 1, and
// the merged run in OUT is reported and judged as run's: a threshold that
// each shard fails on its own half and the merged run passes passes.
// merge then refuses the shards without one of them.
func TestRunLocalShards(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := mcploadProcess(t, "run", "quickstart", "--duration", "2s", "--rate", "10", "--set", "load.max_in_flight=9",
		"--set", `thresholds=["started >= 12"]`,
		"--shards", "2", "--local", "--out", out, "--seed", "5")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "Merged        2 shards") || !strings.Contains(stdout, "Thresholds") {
		t.Errorf("stdout does not report the merged run:\n%s", stdout)
	}
	merged := readRun(t, out)
	if merged.Merged == nil || merged.Merged.Shards != 2 || merged.Seed != 5 {
		t.Fatalf("merged run.json: merged %+v, seed %d; want 2 shards of seed 5", merged.Merged, merged.Seed)
	}
	var started uint64
	var startAt string
	for i := range 2 {
		r := readRun(t, filepath.Join(out, record.ShardsDir, []string{"0", "1"}[i]))
		switch {
		case r.Shard == nil || r.Shard.Index != i || r.Shard.Count != 2:
			t.Fatalf("shard %d: %+v", i, r.Shard)
		case r.Shard.MaxInFlight != 5:
			t.Errorf("shard %d: max_in_flight %d; want 9/2 rounded up", i, r.Shard.MaxInFlight)
		case r.Shard.StartAt.IsZero() || (startAt != "" && r.Shard.StartAt.String() != startAt):
			t.Errorf("shard %d: start_at %s; want one common --start-at", i, r.Shard.StartAt)
		case r.ScenarioHash != merged.ScenarioHash:
			t.Errorf("shard %d: scenario hash %s; merged %s", i, r.ScenarioHash, merged.ScenarioHash)
		}
		startAt = r.Shard.StartAt.String()
		started += r.Conversations.Started
	}
	if merged.Conversations.Started != started || started == 0 {
		t.Errorf("merged started %d; the shards' sum is %d", merged.Conversations.Started, started)
	}
	s := readSummary(t, out)
	if s.Conversations.Started != started || len(s.Thresholds) != 1 || len(thresholds.Failed(s.Thresholds)) != 0 {
		t.Errorf("summary.json: %d started, thresholds %+v; want %d, passed", s.Conversations.Started, s.Thresholds, started)
	}
	if s := readSummary(t, filepath.Join(out, record.ShardsDir, "0")); len(thresholds.Failed(s.Thresholds)) != 1 {
		t.Errorf("shard 0 passed %+v on its half of the run", s.Thresholds)
	}

	code, _, stderr = mcpload(t, "merge", filepath.Join(t.TempDir(), "m"), filepath.Join(out, record.ShardsDir, "1"))
	if code != exitInvalid || !strings.Contains(stderr, "missing shard(s) 0 of 2") {
		t.Errorf("merge without shard 0: exit %d, %s; want 2 naming the missing shard", code, stderr)
	}
}

// TestShardFlagsRefused: a shard's index must be known and in range, and
// a sharded run needs --out and one seed.
func TestShardFlagsRefused(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--shards", "2", "--out", out, "--seed", "1"}, "needs $JOB_COMPLETION_INDEX"},
		{[]string{"JOB_COMPLETION_INDEX=2"}, []string{"--shards", "2", "--out", out, "--seed", "1"}, "want an index from 0 to 1"},
		{nil, []string{"--shard", "2/2", "--out", out, "--seed", "1"}, "want I/N with 0 <= I < N"},
		{nil, []string{"--shard", "0/2", "--shards", "2", "--out", out, "--seed", "1"}, "--shard and --shards: give one"},
		{nil, []string{"--shard", "0/2", "--seed", "1"}, "a sharded run needs --out"},
		{nil, []string{"--shard", "0/2", "--out", out}, "needs one seed for every shard"},
		{nil, []string{"--shard", "0/2", "--out", out, "--seed", "1", "--start-at", "soon"}, "want an RFC 3339 time"},
		{nil, []string{"--local", "--out", out}, "--local needs --shards N"},
	} {
		code, _, stderr := mcploadProcessEnv(t, append([]string{"JOB_COMPLETION_INDEX="}, tc.env...), append([]string{"run", "quickstart", "--duration", "1s"}, tc.args...)...)
		if code != exitInvalid || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v %v: exit %d, %q; want 2 saying %q", tc.env, tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused run wrote %s", out)
	}
}
