package policy

import (
	"net/http"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// FallbackStep is one step of a fallback chain: where a request goes when
// the provider before it failed for good (after its own retries), with an
// outcome in On.
type FallbackStep struct {
	Provider string
	// Next sends the request to Provider: that provider's own breaker,
	// retry and attempt.
	Next http.RoundTripper
	// Rewrite turns the primary's request into the same request for
	// Provider: its URL, model and credentials.
	Rewrite func(*http.Request) (*http.Request, error)
	// On lists the outcomes that trigger the step, breaker_open and
	// budget_exhausted included. nil takes the default.
	On []string
}

// Fallback sends a request to the primary and, when the answer fails with
// an outcome that the next step lists, to that step's provider, and so on
// down the chain: client.fallback. Each move is a record.EventFallback
// (from, to, reason), and the Step's CurrentProvider follows it, so that
// the step is recorded under the provider that answered. Every request
// starts at the primary: traffic returns to it as soon as it answers again
// (or its breaker closes).
//
// failsafe-go's fallback policy computes one alternative result; a chain of
// providers, each with its own triggers, that must rewrite the request for
// each, is this loop.
type Fallback struct {
	primary string
	next    http.RoundTripper
	steps   []fallbackStep
}

type fallbackStep struct {
	FallbackStep
	on outcomeSet
}

// NewFallback returns the chain that starts at primary, sent through next,
// then goes down steps.
func NewFallback(primary string, next http.RoundTripper, steps ...FallbackStep) *Fallback {
	f := &Fallback{primary: primary, next: next}
	for _, s := range steps {
		on := s.On
		if on == nil {
			on = scenarios.DefaultFallbackOn()
		}
		f.steps = append(f.steps, fallbackStep{FallbackStep: s, on: newOutcomeSet(on)})
	}
	return f
}

// RoundTrip implements http.RoundTripper.
func (f *Fallback) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := StepFrom(ctx)
	if st != nil {
		st.provider, st.budgetOut = f.primary, false
	}
	resp, err := f.next.RoundTrip(req)
	from := f.primary
	for i := range f.steps {
		s := &f.steps[i]
		if ctx.Err() != nil {
			break
		}
		outcome := OutcomeOf(resp, err)
		reason := ""
		switch {
		case outcome == record.OutcomeOK || outcome == record.OutcomeCanceled:
		case s.on.has(outcome):
			reason = outcome
		case st != nil && st.budgetOut && s.on.has(scenarios.OnBudgetExhausted):
			reason = scenarios.OnBudgetExhausted
		}
		if reason == "" {
			break
		}
		fr, rerr := s.Rewrite(req)
		if rerr != nil {
			break // keep the answer we have rather than make one up
		}
		st.emit(record.Event{Kind: record.EventFallback, Attempt: st.Attempts(), Provider: from, To: s.Provider, Reason: reason})
		Discard(resp)
		if st != nil {
			st.provider, st.budgetOut = s.Provider, false
		}
		resp, err = s.Next.RoundTrip(fr)
		from = s.Provider
	}
	return resp, err
}
