package policy

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// rewriteTo returns a rewrite that points a request at host.
func rewriteTo(host string) func(*http.Request) (*http.Request, error) {
	return func(r *http.Request) (*http.Request, error) {
		out := r.Clone(r.Context())
		out.URL.Host = host
		return out, nil
	}
}

// byHost answers per host: the fake providers of the fallback tests.
func byHost(answers map[string]func(*http.Request) (*http.Response, error)) http.RoundTripper {
	return rtFunc(func(r *http.Request) (*http.Response, error) {
		StepFrom(r.Context()).NextAttempt()
		return answers[r.URL.Host](r)
	})
}

func TestFallbackChain(t *testing.T) {
	rt := byHost(map[string]func(*http.Request) (*http.Response, error){
		"primary":   status(503),
		"secondary": fail(record.OutcomeTimeout),
		"tertiary":  status(200),
	})
	f := NewFallback("primary", rt,
		FallbackStep{Provider: "secondary", Next: rt, Rewrite: rewriteTo("secondary")},
		FallbackStep{Provider: "tertiary", Next: rt, Rewrite: rewriteTo("tertiary")},
	)
	st, sink, req := newStep(t, context.Background())
	req.URL.Host = "primary"
	resp, err := f.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if st.CurrentProvider() != "tertiary" || st.Attempts() != 3 {
		t.Fatalf("provider %q, %d attempts", st.CurrentProvider(), st.Attempts())
	}
	ev := sink.snapshot()
	if len(ev) != 2 ||
		ev[0].Kind != record.EventFallback || ev[0].Provider != "primary" || ev[0].To != "secondary" || ev[0].Reason != record.Outcome5xx ||
		ev[1].Provider != "secondary" || ev[1].To != "tertiary" || ev[1].Reason != record.OutcomeTimeout {
		t.Fatalf("events %+v", ev)
	}
}

func TestFallbackTriggers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		primary func(*http.Request) (*http.Response, error)
		on      []string
		budget  bool
		moves   bool
		reason  string
	}{
		{"ok stays", status(200), nil, false, false, ""},
		{"4xx not in default on", status(404), nil, false, false, ""},
		{"429 in default on", status(429), nil, false, true, record.Outcome429},
		{"breaker open", func(*http.Request) (*http.Response, error) { return nil, &BreakerOpenError{Provider: "primary"} },
			nil, false, true, scenarios.OnBreakerOpen},
		{"budget exhausted", status(400), []string{scenarios.OnBudgetExhausted}, true, true, scenarios.OnBudgetExhausted},
		{"budget exhausted not listed", status(503), []string{record.OutcomeTimeout}, true, false, ""},
		{"listed 4xx", status(400), []string{record.Outcome4xx}, false, true, record.Outcome4xx},
		{"canceled never moves", fail(record.OutcomeCanceled), nil, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := rtFunc(func(r *http.Request) (*http.Response, error) {
				if tc.budget {
					StepFrom(r.Context()).budgetOut = true
				}
				return tc.primary(r)
			})
			f := NewFallback("primary", primary,
				FallbackStep{Provider: "secondary", Next: &script{answers: []func(*http.Request) (*http.Response, error){status(200)}},
					Rewrite: rewriteTo("secondary"), On: tc.on})
			st, sink, req := newStep(t, context.Background())
			f.RoundTrip(req)
			moved := st.CurrentProvider() == "secondary"
			if moved != tc.moves {
				t.Fatalf("moved %v, want %v", moved, tc.moves)
			}
			ev := sink.snapshot()
			if tc.moves && (len(ev) != 1 || ev[0].Reason != tc.reason) {
				t.Fatalf("events %+v, want reason %q", ev, tc.reason)
			}
			if !tc.moves && len(ev) != 0 {
				t.Fatalf("events %+v", ev)
			}
		})
	}
}

func TestFallbackRewriteFailureKeepsAnswer(t *testing.T) {
	f := NewFallback("primary", &script{answers: []func(*http.Request) (*http.Response, error){status(503)}},
		FallbackStep{Provider: "secondary", Next: &script{answers: []func(*http.Request) (*http.Response, error){status(200)}},
			Rewrite: func(*http.Request) (*http.Request, error) { return nil, errors.New("no") }})
	_, _, req := newStep(t, context.Background())
	resp, err := f.RoundTrip(req)
	if err != nil || resp.StatusCode != 503 {
		t.Fatalf("resp %v err %v", resp, err)
	}
}

// TestFallbackWithBreakerMovesAndReturns is the outage pattern: the
// primary fails for a window; its breaker opens and traffic moves to the
// secondary without touching the primary; after the cooldown a probe finds
// the primary healthy and traffic returns.
func TestFallbackWithBreakerMovesAndReturns(t *testing.T) {
	down := true
	var primaryCalls int
	primary := rtFunc(func(r *http.Request) (*http.Response, error) {
		StepFrom(r.Context()).NextAttempt()
		primaryCalls++
		if down {
			return response(503), nil
		}
		return response(200), nil
	})
	secondary := &script{answers: []func(*http.Request) (*http.Response, error){status(200)}}
	br := NewBreaker(primary, "primary", scenarios.Breaker{FailureRate: 0.5, MinRequests: 5, Cooldown: dur(30 * time.Millisecond), Probes: 1})
	f := NewFallback("primary", br, FallbackStep{Provider: "secondary", Next: secondary, Rewrite: rewriteTo("secondary")})
	answered := func() (string, string) {
		st, sink, req := newStep(t, context.Background())
		resp, err := f.RoundTrip(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("resp %v err %v", resp, err)
		}
		reason := ""
		for _, e := range sink.snapshot() {
			if e.Kind == record.EventFallback {
				reason = e.Reason
			}
		}
		return st.CurrentProvider(), reason
	}
	for i := range 5 {
		if p, reason := answered(); p != "secondary" || reason != record.Outcome5xx {
			t.Fatalf("step %d: %s (%s)", i, p, reason)
		}
	}
	if br.State() != record.BreakerOpen {
		t.Fatalf("breaker %s", br.State())
	}
	calls := primaryCalls
	for i := range 10 {
		if p, reason := answered(); p != "secondary" || reason != scenarios.OnBreakerOpen {
			t.Fatalf("open step %d: %s (%s)", i, p, reason)
		}
	}
	if primaryCalls != calls {
		t.Fatal("the primary was called while its breaker was open")
	}
	down = false
	time.Sleep(50 * time.Millisecond)
	for i := range 5 {
		if p, _ := answered(); p != "primary" {
			t.Fatalf("after recovery, step %d answered by %s", i, p)
		}
	}
	if !strings.EqualFold(br.State(), record.BreakerClosed) {
		t.Fatalf("breaker %s after recovery", br.State())
	}
}
