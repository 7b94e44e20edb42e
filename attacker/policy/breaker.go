package policy

import (
	"net/http"
	"sync"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Breaker is the circuit breaker of one provider: failsafe-go's, with
// time-based failure-rate thresholding. It opens when, over the last
// window, at least min_requests steps were made and the share of them that
// failed (an outcome in on) reaches failure_rate; it refuses every request
// for cooldown; then it lets probes through (half-open) and closes once
// that many succeeded, or opens again at the first failure.
//
// A refused request makes no HTTP attempt and fails with outcome
// breaker_open, which Fallback may act on. Every change of state is a
// record.EventBreaker, located at the step whose request caused it.
//
// Breaker sits outside Retry, so it counts steps (with their retries), not
// attempts. It calls the failsafe-go breaker directly (TryAcquirePermit,
// RecordSuccess, RecordFailure) rather than through a failsafe executor, so
// that the classification of outcomes is the scenario's, and so that the
// state listener, which failsafe-go calls synchronously on the goroutine
// that caused the change, can name the step it belongs to.
type Breaker struct {
	next     http.RoundTripper
	provider string
	on       outcomeSet
	cb       circuitbreaker.CircuitBreaker[*http.Response]

	// mu serializes calls into cb, so that cur is the step whose call is
	// running when the listener fires.
	mu  sync.Mutex
	cur *Step
}

// NewBreaker returns the breaker c of provider around next. Fields left
// zero take their defaults; a failure_rate outside (0, 1] is read as 1.
func NewBreaker(next http.RoundTripper, provider string, c scenarios.Breaker) *Breaker {
	c = c.WithDefaults()
	rate := c.FailureRate
	if rate <= 0 || rate > 1 {
		rate = 1
	}
	b := &Breaker{next: next, provider: provider, on: newOutcomeSet(c.On)}
	b.cb = circuitbreaker.NewBuilder[*http.Response]().
		WithFailureRateThreshold(rate, uint(c.MinRequests), c.Window.D()).
		WithDelay(c.Cooldown.D()).
		WithSuccessThreshold(uint(c.Probes)).
		OnStateChanged(b.changed).
		Build()
	return b
}

// State returns the breaker's state: record.BreakerClosed, BreakerOpen or
// BreakerHalfOpen.
func (b *Breaker) State() string { return stateName(b.cb.State()) }

// RoundTrip sends req unless the breaker is open, and counts the outcome.
func (b *Breaker) RoundTrip(req *http.Request) (*http.Response, error) {
	st := StepFrom(req.Context())
	b.mu.Lock()
	b.cur = st
	ok := b.cb.TryAcquirePermit()
	var wait time.Duration
	if !ok {
		wait = b.cb.RemainingDelay()
	}
	b.cur = nil
	b.mu.Unlock()
	if !ok {
		return nil, &BreakerOpenError{Provider: b.provider, Remaining: wait}
	}

	resp, err := b.next.RoundTrip(req)
	failed := b.on.has(OutcomeOf(resp, err))
	b.mu.Lock()
	b.cur = st
	if failed {
		b.cb.RecordFailure()
	} else {
		// Successes and outcomes on does not list alike: the provider
		// answered. A canceled step also lands here, so that a half-open
		// permit is always given back.
		b.cb.RecordSuccess()
	}
	b.cur = nil
	b.mu.Unlock()
	return resp, err
}

// changed is failsafe-go's state listener. It runs with b.mu held, on the
// goroutine of the call that changed the state.
func (b *Breaker) changed(e circuitbreaker.StateChangedEvent) {
	b.cur.emit(record.Event{
		Kind:     record.EventBreaker,
		Provider: b.provider,
		From:     stateName(e.OldState),
		To:       stateName(e.NewState),
	})
}

func stateName(s circuitbreaker.State) string {
	switch s {
	case circuitbreaker.OpenState:
		return record.BreakerOpen
	case circuitbreaker.HalfOpenState:
		return record.BreakerHalfOpen
	default:
		return record.BreakerClosed
	}
}

// BreakerOpenError is the error of a request an open breaker refused.
type BreakerOpenError struct {
	Provider string
	// Remaining is how long the breaker stays open (0 when half-open and
	// out of probes).
	Remaining time.Duration
}

func (e *BreakerOpenError) Error() string {
	if e.Remaining > 0 {
		return "provider " + e.Provider + ": circuit breaker open for another " + e.Remaining.Round(time.Millisecond).String()
	}
	return "provider " + e.Provider + ": circuit breaker half-open, probes in flight"
}

// Outcome implements OutcomeError.
func (e *BreakerOpenError) Outcome() string { return OutcomeBreakerOpen }
