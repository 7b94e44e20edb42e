package policy

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/record"
)

// EventSink receives policy events. attacker.Sink implements it.
type EventSink interface {
	Event(e *record.Event)
}

// Step is one logical step (a model turn or a tool call) as the policies
// see it: who it is, where its events go, and the state the policies of its
// chain share. The caller creates one per step, puts it in the request's
// context with WithStep, and reads Attempts and Provider once the chain has
// returned.
//
// The exported fields are set before the step starts and not changed
// after. The rest is written by one policy at a time: Retry and Fallback
// run on the caller's goroutine and wait for whatever they call, so only
// attempts, which hedged goroutines share, need to be atomic.
type Step struct {
	// Conversation and Index locate the step in the run (attempts.jsonl's
	// conv and step).
	Conversation uint64
	Index        int
	// Key is the step key events carry: model:PROVIDER or tool:NAME.
	Key string
	// Provider is the provider the step starts at; Fallback moves it.
	Provider string
	// Sink receives the step's events; nil drops them.
	Sink EventSink
	// Seed drives the jitter draws, with Conversation, Index and the try,
	// so that a run's waits are the same for the same seed.
	Seed uint64

	attempts atomic.Int32
	provider string  // set by Fallback; "" means Provider
	try      int     // 1-based try of the current retry sequence, set by Retry
	scale    float64 // per-attempt timeout multiplier of the current try
	// budgetOut is set by Retry when its budget refused a retry of this
	// step, for Fallback's budget_exhausted trigger.
	budgetOut bool
}

type stepKey struct{}

// WithStep returns ctx carrying st.
func WithStep(ctx context.Context, st *Step) context.Context {
	return context.WithValue(ctx, stepKey{}, st)
}

// StepFrom returns the Step in ctx, or nil.
func StepFrom(ctx context.Context) *Step {
	st, _ := ctx.Value(stepKey{}).(*Step)
	return st
}

// NextAttempt numbers a new attempt of the step: 1, 2, ... across retries,
// hedges and fallbacks. A nil Step numbers every attempt 1.
func (s *Step) NextAttempt() int {
	if s == nil {
		return 1
	}
	return int(s.attempts.Add(1))
}

// Attempts returns how many attempts the step has made so far.
func (s *Step) Attempts() int {
	if s == nil {
		return 0
	}
	return int(s.attempts.Load())
}

// CurrentProvider returns the provider the step is at: the one that
// answered, once the chain has returned.
func (s *Step) CurrentProvider() string {
	if s == nil {
		return ""
	}
	if s.provider != "" {
		return s.provider
	}
	return s.Provider
}

// AttemptTimeout returns the timeout of the step's next attempt: base,
// stretched by the retry policy's progressive_timeout on later tries.
func (s *Step) AttemptTimeout(base time.Duration) time.Duration {
	if s == nil || s.scale <= 1 {
		return base
	}
	return time.Duration(float64(base) * s.scale)
}

// emit sends e, located at this step, to the step's sink.
func (s *Step) emit(e record.Event) {
	if s == nil || s.Sink == nil {
		return
	}
	e.Time = time.Now()
	e.Conversation = s.Conversation
	e.Step = s.Index
	if e.Key == "" {
		e.Key = s.Key
	}
	s.Sink.Event(&e)
}
