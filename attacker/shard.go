package attacker

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// ShardSpec says which shard of a sharded run Run runs: the Index-th of
// Count slices of the one global schedule (NewShardedPacer), with
// conversation numbers from the global sequence, so that no two shards
// run the same conversation.
type ShardSpec struct {
	Index, Count int
	// StartAt, when set, is the instant the schedule starts: Run waits for
	// it, so that every shard starts together. A shard that gets there
	// late starts at once, and records how late (record.Shard.StartSkewNS).
	StartAt time.Time
	// Notes are what the caller changed for sharding (the mock's limits,
	// say), for run.json.
	Notes []string
}

// WithShard makes Run run one shard of the scenario's schedule.
func WithShard(s ShardSpec) Option { return func(o *options) { o.shard = s } }

// lateStartWarning is how late after StartAt a shard may start before its
// run says so loudly: its schedule is then shifted against the others'.
const lateStartWarning = time.Second

// sharded reports whether s splits the schedule.
func (s ShardSpec) sharded() bool { return s.Count > 1 }

// seq is the global conversation number of the shard's local arrival n.
func (s ShardSpec) seq(n uint64) uint64 {
	if !s.sharded() {
		return n
	}
	return n*uint64(s.Count) + uint64(s.Index)
}

// slots is the shard's share of a cap of max in flight, rounded up.
func (s ShardSpec) slots(max int) int {
	if !s.sharded() || max <= 0 {
		return max
	}
	return (max + s.Count - 1) / s.Count
}

// validate checks the spec against the scenario.
func (s ShardSpec) validate() error {
	if s.Count == 0 && s.Index == 0 {
		return nil
	}
	if s.Count < 1 || s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard %d/%d: want 0 <= index < count", s.Index, s.Count)
	}
	return nil
}

// record returns the shard's record for run.json, with the notes that say
// what sharding changed.
func (s ShardSpec) record(sc *scenarios.Scenario, slots int) *record.Shard {
	if s.Count < 1 {
		return nil
	}
	r := &record.Shard{Index: s.Index, Count: s.Count, StartAt: s.StartAt, MaxInFlight: slots}
	if sc.Load.Arrival == scenarios.ArrivalPoisson {
		r.Notes = append(r.Notes, fmt.Sprintf("poisson arrivals: an independent stream at 1/%d of the rate, seeded from the seed and the shard's index", s.Count))
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("constant arrivals: the global schedule's arrivals %d, %d+%d, %d+2·%d...", s.Index, s.Index, s.Count, s.Index, s.Count))
	}
	if sc.Load.MaxInFlight > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("load.max_in_flight %d: %d in this shard (1/%d, rounded up)", sc.Load.MaxInFlight, slots, s.Count))
	}
	if s.sharded() {
		r.Notes = append(r.Notes, "circuit breakers, retry budgets, response caches and client limits are this shard's own")
	}
	r.Notes = append(r.Notes, s.Notes...)
	return r
}

// waitStart waits for s.StartAt, if set and ahead, or for ctx. It returns
// the instant the schedule starts: now.
func (s ShardSpec) waitStart(ctx context.Context) time.Time {
	if d := time.Until(s.StartAt); !s.StartAt.IsZero() && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	return time.Now()
}

// startSkew records how late the schedule began after StartAt, and warns
// when it is late enough to shift this shard against the others.
func (s ShardSpec) startSkew(r *record.Run, began time.Time) {
	if r.Shard == nil || s.StartAt.IsZero() {
		return
	}
	skew := began.Sub(s.StartAt)
	r.Shard.StartSkewNS = skew.Nanoseconds()
	if skew > lateStartWarning {
		r.Warnings = append(r.Warnings, fmt.Sprintf("shard %d/%d started %s after --start-at %s: its schedule is shifted by that much against the other shards'",
			s.Index, s.Count, skew.Round(time.Millisecond), s.StartAt.UTC().Format(time.RFC3339Nano)))
	}
}

// clockOffset estimates this machine's clock less the clock of the
// volume dir is on: it writes a file there, and compares the middle of
// the write by the local clock with the file's modification time, which
// the file system (on a network volume, its server) stamps. 0 when the
// probe cannot be written.
func clockOffset(dir string) int64 {
	f, err := os.CreateTemp(dir, ".clock-probe-*")
	if err != nil {
		return 0
	}
	defer os.Remove(f.Name())
	before := time.Now()
	_, err = f.Write([]byte{'\n'})
	err2 := f.Sync()
	after := time.Now()
	err3 := f.Close()
	if err != nil || err2 != nil || err3 != nil {
		return 0
	}
	info, err := os.Stat(f.Name())
	if err != nil {
		return 0
	}
	mid := before.Add(after.Sub(before) / 2)
	return mid.Sub(info.ModTime()).Nanoseconds()
}
