package policy

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

func TestNewChainWithoutPolicies(t *testing.T) {
	attempt := &script{answers: []func(*http.Request) (*http.Response, error){status(200)}}
	ch, err := NewChain(&scenarios.Client{}, Target{Provider: "p", Attempt: attempt})
	if err != nil {
		t.Fatal(err)
	}
	if ch.RoundTripper != http.RoundTripper(attempt) {
		t.Fatalf("chain is %T, want the attempt itself", ch.RoundTripper)
	}
}

func TestNewChainRefusesUnknownFallback(t *testing.T) {
	c := &scenarios.Client{Fallback: []scenarios.FallbackStep{{Provider: "nope"}}}
	if _, err := NewChain(c, Target{Provider: "p", Attempt: rtFunc(nil)}); err == nil {
		t.Fatal("a fallback to an unknown provider was accepted")
	}
}

// TestNewChainComposes runs every policy at once: the primary fails, its
// retries run out, the fallback answers; the same request again is a
// cache hit.
func TestNewChainComposes(t *testing.T) {
	primary := &script{answers: []func(*http.Request) (*http.Response, error){status(503)}}
	secondary := &script{answers: []func(*http.Request) (*http.Response, error){status(200)}}
	c := &scenarios.Client{
		Retry:    &scenarios.Retry{MaxAttempts: 2, Initial: dur(time.Millisecond), Jitter: scenarios.JitterNone},
		Budget:   &scenarios.Budget{Ratio: 1},
		Breaker:  &scenarios.Breaker{FailureRate: 0.5},
		Hedge:    &scenarios.Hedge{Delay: dur(time.Second)},
		Cache:    &scenarios.Cache{TTL: dur(time.Minute)},
		Fallback: []scenarios.FallbackStep{{Provider: "secondary"}},
	}
	ch, err := NewChain(c, Target{Provider: "primary", Attempt: primary},
		Target{Provider: "secondary", Attempt: secondary, Rewrite: rewriteTo("secondary")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Breakers) != 2 || len(ch.Retries) != 2 || len(ch.Budgets) != 2 || ch.Cache == nil {
		t.Fatalf("chain %+v", ch)
	}
	st, sink, req := newStep(t, context.Background())
	resp, err := ch.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if primary.calls.Load() != 2 || secondary.calls.Load() != 1 || st.CurrentProvider() != "secondary" || st.Attempts() != 3 {
		t.Fatalf("primary %d, secondary %d calls, provider %s, %d attempts",
			primary.calls.Load(), secondary.calls.Load(), st.CurrentProvider(), st.Attempts())
	}
	k := sink.kinds()
	if k[record.EventRetry] != 1 || k[record.EventFallback] != 1 || k[record.EventCacheMiss] != 1 {
		t.Fatalf("events %v", k)
	}
	st, sink, req = newStep(t, context.Background())
	if resp, err := ch.RoundTrip(req); err != nil || resp.StatusCode != 200 || st.Attempts() != 0 || sink.kinds()[record.EventCacheHit] != 1 {
		t.Fatalf("second request: %v %v, %d attempts, %v", resp, err, st.Attempts(), sink.kinds())
	}
}
