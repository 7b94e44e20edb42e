package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// ShardsDir is the folder, inside a sharded run's --out, that holds one
// run folder per shard, named by the shard's index: OUT/shards/0,
// OUT/shards/1... `mcpload merge OUT` merges them into OUT.
const ShardsDir = "shards"

// Shard describes one shard of a sharded run, in that shard's run.json:
// which slice of the one global schedule it ran, and what sharding
// changed (docs/sharding.md).
type Shard struct {
	// Index is the shard's index, from 0; Count the number of shards.
	Index int `json:"index"`
	Count int `json:"count"`
	// StartAt is the instant every shard was told to start its schedule
	// at (--start-at); absent when the shards started on their own.
	StartAt time.Time `json:"start_at,omitzero"`
	// StartSkewNS is how late the shard's schedule started after StartAt,
	// by the shard's clock, in ns; 0 without StartAt.
	StartSkewNS int64 `json:"start_skew_ns"`
	// ClockOffsetNS estimates the shard's clock less the clock of the
	// volume its folder is on: the shard writes a file there and compares
	// its own time with the file's modification time. On a local disk it
	// is 0 within the file system's timestamp resolution; on a shared
	// volume it is the offset to the file server's clock, so that shards on
	// different machines can be compared.
	ClockOffsetNS int64 `json:"clock_offset_ns"`
	// MaxInFlight is the shard's own cap on conversations in flight: the
	// scenario's load.max_in_flight divided by Count, rounded up.
	MaxInFlight int `json:"max_in_flight"`
	// Notes say, one sentence each, what the shard ran differently from
	// one process running the whole schedule.
	Notes []string `json:"notes,omitempty"`
	// FirstStartNS, LastStartNS and LastEndNS are the shard's first and
	// last actual starts of a conversation and its last end, in ns from
	// its own start (Run.Started), by its own clock: merge puts the shards'
	// windows together in schedule time for the merged rates, whatever
	// the offsets between the shards' clocks and starts.
	FirstStartNS int64 `json:"first_start_ns,omitempty"`
	LastStartNS  int64 `json:"last_start_ns,omitempty"`
	LastEndNS    int64 `json:"last_end_ns,omitempty"`
}

// Merged describes, in the run.json of a folder `mcpload merge` wrote,
// the shards it was merged from.
type Merged struct {
	// Shards counts the shards; From lists them by index.
	Shards int           `json:"shards"`
	From   []MergedShard `json:"from"`
}

// MergedShard is one shard of a merged run, as its own run.json said.
type MergedShard struct {
	Index int `json:"index"`
	// Dir is the shard's folder, as merge was given it.
	Dir          string    `json:"dir"`
	Status       string    `json:"status"`
	Started      time.Time `json:"started"`
	Ended        time.Time `json:"ended,omitzero"`
	ScenarioHash string    `json:"scenario_hash"`
	// StartSkewNS and ClockOffsetNS are the shard's (Shard).
	StartSkewNS   int64   `json:"start_skew_ns"`
	ClockOffsetNS int64   `json:"clock_offset_ns"`
	Conversations Counts  `json:"conversations"`
	Rate          RunRate `json:"rate"`
}

// ScenarioHash returns the hash of a resolved scenario.yaml: "sha256:"
// and the hex digest of the file without its leading comment lines,
// which name where the scenario came from (a path that may differ from
// one machine to the next) rather than what it says.
func ScenarioHash(resolved []byte) string {
	b := resolved
	for len(b) > 0 && b[0] == '#' {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			b = nil
			break
		}
		b = b[i+1:]
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
