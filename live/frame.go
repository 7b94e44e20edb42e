// Package live follows a run while it goes on and serves what it sees: a
// Feed gathers one Frame per interval from the attacker's progress and the
// run folder, a Hub hands the newest Frame to whoever asks, and the
// Prometheus exporter (metrics.go) and the dashboard (dashboard.go) read
// the Hub. Nothing here runs on the attacker's per-request path: the feed
// reads what the recorder already flushes once an interval.
package live

import (
	"time"

	"github.com/mcpload/mcpload/record"
)

// Frame is a run as of one instant. A Frame is never changed once the Hub
// has it: readers share it without locks.
type Frame struct {
	// Seq counts the Hub's frames from 1, across runs.
	Seq int64 `json:"seq"`
	// Run is the run folder's name, Scenario the scenario's.
	Run      string `json:"run"`
	Scenario string `json:"scenario"`
	Version  string `json:"version,omitempty"`
	// Status is run.json's: running until the run ends. Final marks the
	// last frame of a run, gathered from the finished folder: its counts
	// are summary.json's.
	Status string `json:"status"`
	Final  bool   `json:"final"`
	// ElapsedS is seconds since the run began; PlannedS the schedule's
	// length.
	ElapsedS float64 `json:"elapsed_s"`
	PlannedS float64 `json:"planned_s"`

	// TargetRate is the schedule's rate now, Rate the conversations started
	// per second over the last interval.
	TargetRate float64 `json:"target_rate"`
	Rate       float64 `json:"rate"`
	InFlight   int64   `json:"in_flight"`

	// Conversations counts them by fate, as run.json does; ByOutcome
	// counts the failed ones by the outcome that failed them.
	Conversations record.Counts `json:"conversations"`
	// Attempts counts exchanges, retries, fallbacks and breaker opens.
	Attempts record.AttemptCounts `json:"attempts"`
	Tokens   record.Tokens        `json:"tokens"`
	// CostUSD is what the run spent so far on the run's catalog; nil when
	// it could not be priced.
	CostUSD *float64 `json:"cost_usd,omitempty"`

	// Latency holds one distribution per histogram tag but schedule lag,
	// sorted by tag; ScheduleLag is the whole run's schedule lag.
	Latency     []*Dist `json:"latency"`
	ScheduleLag *Dist   `json:"schedule_lag,omitempty"`
	// Harness is the newest sample of the harness's check of itself.
	Harness *record.HarnessSample `json:"harness,omitempty"`

	// Faults are the scenario's fault windows, Breakers the state of each
	// provider's breaker that has moved, with its moves.
	Faults   []Window  `json:"faults,omitempty"`
	Breakers []Breaker `json:"breakers,omitempty"`

	// At is when the frame was gathered.
	At time.Time `json:"at"`
}

// Window is one fault window of the scenario, in seconds from the run's
// start. ToS is 0 for a window that lasts to the end.
type Window struct {
	Name   string  `json:"name"`
	FromS  float64 `json:"from_s"`
	ToS    float64 `json:"to_s,omitempty"`
	Active bool    `json:"active"`
}

// Breaker is one provider's circuit breaker: its state now, and its moves
// in order (the newest MaxBreakerMoves of them).
type Breaker struct {
	Provider string `json:"provider"`
	State    string `json:"state"`
	Moves    []Move `json:"moves"`
}

// Move is a breaker's move to State at AtS seconds from the run's start.
type Move struct {
	AtS   float64 `json:"at_s"`
	State string  `json:"state"`
}

// MaxBreakerMoves bounds the moves kept per breaker: a breaker that flaps
// for an hour must not grow the frame without bound.
const MaxBreakerMoves = 500
