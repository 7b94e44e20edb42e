package policy

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestBreakerLifecycle drives a breaker through closed -> open -> half_open
// -> closed: it opens once min_requests steps were seen and the failure
// rate reached, refuses without calling the provider, probes after its
// cooldown, and closes after enough probes succeed.
func TestBreakerLifecycle(t *testing.T) {
	var healthy atomic.Bool
	var calls atomic.Int32
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		if healthy.Load() {
			return response(200), nil
		}
		return response(503), nil
	})
	cooldown := 50 * time.Millisecond
	b := NewBreaker(rt, "primary", scenarios.Breaker{
		FailureRate: 0.5, Window: dur(10 * time.Second), MinRequests: 10, Cooldown: dur(cooldown), Probes: 2,
	})
	sink := &eventSink{}
	send := func(i int) (*http.Response, error) {
		st := &Step{Conversation: uint64(i), Key: "model:primary", Sink: sink}
		req, _ := http.NewRequestWithContext(WithStep(context.Background(), st), http.MethodPost, "http://127.0.0.1:1", nil)
		return b.RoundTrip(req)
	}

	// 9 failures: below min_requests, still closed.
	for i := range 9 {
		send(i)
	}
	if b.State() != record.BreakerClosed {
		t.Fatalf("state %s after 9 of min 10 requests", b.State())
	}
	// The 10th failure opens it, within the window.
	send(9)
	if b.State() != record.BreakerOpen {
		t.Fatalf("state %s after 10 failures", b.State())
	}
	// Open: refused, no call made.
	before := calls.Load()
	for i := range 5 {
		resp, err := send(100 + i)
		var boe *BreakerOpenError
		if resp != nil || !errors.As(err, &boe) || OutcomeOf(resp, err) != record.OutcomeBreakerOpen || boe.Provider != "primary" {
			t.Fatalf("open breaker answered %v, %v", resp, err)
		}
	}
	if calls.Load() != before {
		t.Fatal("an open breaker called the provider")
	}
	// After the cooldown, probes go through; the provider recovered.
	healthy.Store(true)
	time.Sleep(cooldown + 20*time.Millisecond)
	for i := range 2 {
		if resp, err := send(200 + i); err != nil || resp.StatusCode != 200 {
			t.Fatalf("probe %d: %v, %v", i, resp, err)
		}
	}
	if b.State() != record.BreakerClosed {
		t.Fatalf("state %s after 2 successful probes", b.State())
	}

	var got []string
	var convs []uint64
	for _, e := range sink.snapshot() {
		if e.Kind != record.EventBreaker || e.Provider != "primary" {
			t.Fatalf("event %+v", e)
		}
		got = append(got, e.From+">"+e.To)
		convs = append(convs, e.Conversation)
	}
	want := []string{"closed>open", "open>half_open", "half_open>closed"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("transitions %v, want %v", got, want)
	}
	// Each transition is located at the step that caused it.
	if convs[0] != 9 || convs[1] != 200 || convs[2] != 201 {
		t.Fatalf("transitions at conversations %v, want [9 200 201]", convs)
	}
}

func TestBreakerReopensOnFailedProbe(t *testing.T) {
	b := NewBreaker(&script{answers: []func(*http.Request) (*http.Response, error){fail(record.OutcomeTimeout)}}, "p",
		scenarios.Breaker{FailureRate: 1, MinRequests: 2, Cooldown: dur(20 * time.Millisecond), Probes: 3})
	sink := &eventSink{}
	send := func() error {
		st := &Step{Sink: sink}
		req, _ := http.NewRequestWithContext(WithStep(context.Background(), st), http.MethodGet, "http://127.0.0.1:1", nil)
		_, err := b.RoundTrip(req)
		return err
	}
	send()
	send()
	if b.State() != record.BreakerOpen {
		t.Fatalf("state %s", b.State())
	}
	time.Sleep(40 * time.Millisecond)
	send() // the probe fails
	if b.State() != record.BreakerOpen {
		t.Fatalf("state %s after a failed probe", b.State())
	}
	var opens int
	for _, e := range sink.snapshot() {
		if e.To == record.BreakerOpen {
			opens++
		}
	}
	if opens != 2 {
		t.Fatalf("%d opens, want 2", opens)
	}
}

func TestBreakerCountsOnlyListedOutcomes(t *testing.T) {
	// 4xx is not a failure by default: the provider answered.
	b := NewBreaker(&script{answers: []func(*http.Request) (*http.Response, error){status(400)}}, "p",
		scenarios.Breaker{FailureRate: 0.1, MinRequests: 5})
	for range 20 {
		st := &Step{}
		req, _ := http.NewRequestWithContext(WithStep(context.Background(), st), http.MethodGet, "http://127.0.0.1:1", nil)
		b.RoundTrip(req)
	}
	if b.State() != record.BreakerClosed {
		t.Fatalf("state %s after 4xx answers", b.State())
	}
}
