package policy

import (
	"context"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Retry retries the failed attempts of a step, as client.retry says: up to
// max_attempts, for the outcome classes in on, after a wait that is, in
// order of precedence,
//
//  1. the server's own (Retry-After in seconds or as an HTTP-date, or
//     retry-after-ms) when retry_after is on, capped by max;
//  2. rate_limit_wait x the attempt's number after a 429, when set (the
//     seed's client slept a minute per attempt, whatever max says);
//  3. the backoff, jittered with a seeded draw.
//
// With retry_after on, x-should-retry: true retries an outcome that on does
// not list, and false stops a retry that it does, as OpenAI's and
// Anthropic's SDKs do. A budget, when given, is asked before each retry and
// charged one request per step; a refusal ends the step with its last
// outcome, and lets Fallback act on budget_exhausted. Each retry is a
// record.EventRetry with its reason and wait, each refusal an
// EventBudgetExhausted. Waits end early when the step's context is done.
//
// failsafe-go's retrypolicy is not used: it asks its budget only after the
// wait (a refused retry would still sleep, up to the seed's 60 s), has no
// decorrelated backoff, no seeded jitter, and reads only Retry-After in
// whole seconds.
type Retry struct {
	next          http.RoundTripper
	maxAttempts   int
	backoff       Backoff
	on            outcomeSet
	honour        bool // retry_after: read the server's hints
	progressive   float64
	rateLimitWait time.Duration
	budget        *Budget
	provider      string
	now           func() time.Time
}

// RetryOption configures a Retry.
type RetryOption func(*Retry)

// WithBudget caps the retries of a Retry with b.
func WithBudget(b *Budget) RetryOption { return func(r *Retry) { r.budget = b } }

// WithProvider names the provider a Retry serves, in its events.
func WithProvider(name string) RetryOption { return func(r *Retry) { r.provider = name } }

// NewRetry returns the retry policy c around next (which may be nil when
// only Do is used). Fields left zero take their defaults, those of c's
// preset when it names one, as the scenario loader would fill them in.
func NewRetry(next http.RoundTripper, c scenarios.Retry, opts ...RetryOption) *Retry {
	c = c.WithDefaults()
	r := &Retry{
		next:          next,
		maxAttempts:   c.MaxAttempts,
		backoff:       BackoffOf(&c),
		on:            newOutcomeSet(c.On),
		honour:        *c.RetryAfter,
		progressive:   c.ProgressiveTimeout,
		rateLimitWait: c.RateLimitWait.D(),
		now:           time.Now,
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Try is what the retry policy learns from one attempt: its outcome class,
// and the response's headers (nil without a response) for the server's
// hints.
type Try struct {
	Outcome string
	Header  http.Header
}

// Do makes attempts until one succeeds, fails for good, the attempts or the
// budget run out, or ctx is done. attempt makes one attempt and keeps its
// result; it is called again only to replace it, so it should discard the
// previous result first. Do returns nil when the last result stands, or an
// OutcomeError (timeout or canceled, see StopOutcome) when ctx ended a wait.
func (r *Retry) Do(ctx context.Context, attempt func() Try) error {
	st := StepFrom(ctx)
	if r.budget != nil {
		r.budget.Request()
	}
	var prev time.Duration
	for try := 1; ; try++ {
		if st != nil {
			st.try = try
			st.scale = 1 + r.progressive*float64(try-1)
		}
		t := attempt()
		wait, ok := r.decide(ctx, st, try, t, prev)
		if !ok {
			return nil
		}
		prev = wait
		if wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return stopped(ctx, "waiting to retry")
			}
		}
		if ctx.Err() != nil {
			return stopped(ctx, "before retry")
		}
	}
}

// decide decides whether try, which ended with t, is retried, and after what
// wait. It charges the budget and emits the event of the decision.
func (r *Retry) decide(ctx context.Context, st *Step, try int, t Try, prev time.Duration) (time.Duration, bool) {
	switch {
	case t.Outcome == record.OutcomeOK, t.Outcome == record.OutcomeCanceled,
		ctx.Err() != nil, try >= r.maxAttempts:
		return 0, false
	}
	retry := r.on.has(t.Outcome)
	var hint Hint
	if r.honour {
		hint = HintOf(t.Header, r.now())
		switch hint.ShouldRetry {
		case 1:
			retry = true
		case -1:
			retry = false
		}
	}
	if !retry {
		return 0, false
	}
	attempt := st.Attempts()
	if r.budget != nil && !r.budget.TryRetry() {
		if st != nil {
			st.budgetOut = true
			st.emit(record.Event{Kind: record.EventBudgetExhausted, Attempt: attempt, Provider: r.provider, Reason: t.Outcome})
		}
		return 0, false
	}
	var wait time.Duration
	switch {
	case hint.HasWait:
		wait = hint.Wait
		if r.backoff.Max > 0 {
			wait = min(wait, r.backoff.Max)
		}
	case t.Outcome == record.Outcome429 && r.rateLimitWait > 0:
		wait = r.rateLimitWait * time.Duration(try)
	default:
		var seed, conv uint64
		var step int
		if st != nil {
			seed, conv, step = st.Seed, st.Conversation, st.Index
		}
		wait = r.backoff.Wait(try, prev, draw(seed, conv, step, try))
	}
	st.emit(record.Event{
		Kind:     record.EventRetry,
		Attempt:  attempt,
		Provider: r.provider,
		Reason:   t.Outcome,
		DelayMS:  float64(wait) / float64(time.Millisecond),
	})
	return wait, true
}

// RoundTrip sends req through the next RoundTripper, retrying as Do does.
// A retried response is drained and closed, so its connection is reused.
// Requests with a body need GetBody, as http.NewRequest sets it for
// in-memory bodies, to be sent again.
func (r *Retry) RoundTrip(req *http.Request) (*http.Response, error) {
	var (
		resp *http.Response
		err  error
		sent bool
	)
	stop := r.Do(req.Context(), func() Try {
		Discard(resp)
		rq := req
		if sent && req.GetBody != nil {
			rq = req.WithContext(req.Context())
			if rq.Body, err = req.GetBody(); err != nil {
				resp = nil
				return Try{Outcome: record.OutcomeProtocol}
			}
		}
		sent = true
		resp, err = r.next.RoundTrip(rq)
		var h http.Header
		if resp != nil {
			h = resp.Header
		}
		return Try{Outcome: OutcomeOf(resp, err), Header: h}
	})
	if stop != nil {
		Discard(resp)
		return nil, stop
	}
	return resp, err
}
