package llm

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// TestClientClassifiesMockFaults runs one step against each fault kind of
// the mock and checks what the client makes of it.
func TestClientClassifiesMockFaults(t *testing.T) {
	ms := func(d time.Duration) scenarios.Latency {
		return scenarios.Latency{Dist: scenarios.DistFixed, Value: sd(d)}
	}
	for _, tc := range []struct {
		kind   string
		stream bool
		f      scenarios.Fault
		want   string
		status int
		errHas string
	}{
		{kind: "latency", f: scenarios.Fault{Kind: scenarios.FaultLatency, Latency: ms(150 * time.Millisecond)}, want: record.OutcomeOK, status: 200},
		{kind: "hang", f: scenarios.Fault{Kind: scenarios.FaultHang}, want: record.OutcomeTimeout},
		{kind: "http_error 502", f: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 502}, want: record.Outcome5xx, status: 502},
		{kind: "rate_limit", f: scenarios.Fault{Kind: scenarios.FaultRateLimit, RetryAfter: sd(2 * time.Second)}, want: record.Outcome429, status: 429},
		{kind: "overloaded", f: scenarios.Fault{Kind: scenarios.FaultOverloaded}, want: record.Outcome5xx, status: 529},
		{kind: "reset", f: scenarios.Fault{Kind: scenarios.FaultReset}, want: record.OutcomeConnection},
		{kind: "slow_headers", f: scenarios.Fault{Kind: scenarios.FaultSlowHeaders, Latency: ms(5 * time.Second)}, want: record.OutcomeTimeout},
		{kind: "malformed", f: scenarios.Fault{Kind: scenarios.FaultMalformed}, want: record.OutcomeProtocol, status: 200},
		{kind: "stream_stall", stream: true, f: scenarios.Fault{Kind: scenarios.FaultStreamStall, Latency: ms(5 * time.Second)}, want: record.OutcomeTimeout, status: 200, errHas: "idle"},
		{kind: "stream_cut", stream: true, f: scenarios.Fault{Kind: scenarios.FaultStreamCut}, want: record.OutcomeProtocol, status: 200},
		{kind: "stream_cut, not streaming", f: scenarios.Fault{Kind: scenarios.FaultStreamCut}, want: record.OutcomeProtocol, status: 200},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			tc.f.Target = "provider:primary"
			sc := fixture.Faults(tc.stream, tc.f)
			_, base := fixture.StartFaultMock(t, sc)
			client := &scenarios.Client{Timeout: sd(600 * time.Millisecond), Stream: scenarios.StreamTimeouts{Idle: sd(200 * time.Millisecond)},
				Retry: &scenarios.Retry{MaxAttempts: 1}}
			c := newPolicyClient(t, fixture.HTTPClient(t), client,
				testProvider{name: "primary", url: base + "/providers/primary/v1", stream: tc.stream})
			sink := &fixture.Sink{}
			start := time.Now()
			r := c.Do(context.Background(), 1, 0, fixture.Msgs, sink)
			if r.Outcome != tc.want || r.Status != tc.status || !strings.Contains(r.Err, tc.errHas) {
				t.Fatalf("outcome %s status %d err %q, want %s %d %q", r.Outcome, r.Status, r.Err, tc.want, tc.status, tc.errHas)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			if tc.kind == "latency" && r.Latency < 150*time.Millisecond {
				t.Fatalf("latency %v, fault adds 150ms", r.Latency)
			}
			if tc.kind == "rate_limit" {
				// The hint a retry would honour.
				attempts := sink.Attempts()
				if len(attempts) != 1 || attempts[0].Status != 429 {
					t.Fatalf("attempts %+v", attempts)
				}
			}
		})
	}
}

// TestRetryAfterFromMockRateLimit retries a rate_limit fault of the mock
// whose window closes: the wait honours the mock's retry-after-ms.
func TestRetryAfterFromMockRateLimit(t *testing.T) {
	sc := fixture.Faults(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit,
		For: sd(300 * time.Millisecond), RetryAfter: sd(400 * time.Millisecond)})
	_, base := fixture.StartFaultMock(t, sc)
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: fixture.QuickRetry()},
		testProvider{name: "primary", url: base + "/providers/primary/v1"})
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 1, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK {
		t.Fatalf("step %s: %s", r.Outcome, r.Err)
	}
	attempts := sink.Attempts()
	if len(attempts) != 2 || attempts[0].Status != 429 {
		t.Fatalf("attempts %+v", attempts)
	}
	end1 := attempts[0].Start.Add(time.Duration(attempts[0].LatencyUS) * time.Microsecond)
	if gap := attempts[1].Start.Sub(end1); gap < 400*time.Millisecond {
		t.Fatalf("gap %v, retry-after 400ms", gap)
	}
}

// TestFallbackDuringOutageWindow takes the primary down for a window of the
// mock's timeline: steps move to the secondary during it and come back
// after it, with and without a breaker in front of the primary.
func TestFallbackDuringOutageWindow(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breaker *scenarios.Breaker
	}{
		{"fallback", nil},
		{"fallback and breaker", &scenarios.Breaker{FailureRate: 0.5, Window: sd(time.Second), MinRequests: 5, Cooldown: sd(100 * time.Millisecond), Probes: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A window long enough that a scheduling stall of a loaded
			// machine cannot swallow it.
			from, length := 300*time.Millisecond, time.Second
			sc := fixture.Faults(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503,
				From: sd(from), For: sd(length)})
			m, base := fixture.StartFaultMock(t, sc)
			client := &scenarios.Client{Timeout: sd(5 * time.Second), Breaker: tc.breaker,
				Fallback: []scenarios.FallbackStep{{Provider: "secondary"}}}
			c := newPolicyClient(t, fixture.HTTPClient(t), client,
				testProvider{name: "primary", url: base + "/providers/primary/v1"},
				testProvider{name: "secondary", url: base + "/providers/secondary/v1"})
			sink := &fixture.Sink{}
			epoch := m.Epoch()
			type obs struct {
				at       time.Duration
				provider string
			}
			var seen []obs
			for i := 0; time.Since(epoch) < from+length+450*time.Millisecond; i++ {
				at := time.Since(epoch)
				r := c.Do(context.Background(), uint64(i), 0, fixture.Msgs, sink)
				if r.Outcome != record.OutcomeOK {
					t.Fatalf("step %d at %v: %s %s", i, at, r.Outcome, r.Err)
				}
				seen = append(seen, obs{at, r.Provider})
				time.Sleep(5 * time.Millisecond)
			}
			// Margins of 100ms around the window's edges, for a loaded
			// machine and, with the breaker, its cooldown.
			var before, during, after int
			for _, o := range seen {
				switch {
				case o.at < from-100*time.Millisecond:
					before++
					if o.provider != "primary" {
						t.Fatalf("before the window, at %v: %s", o.at, o.provider)
					}
				case o.at > from+100*time.Millisecond && o.at < from+length-50*time.Millisecond:
					during++
					if o.provider != "secondary" {
						t.Fatalf("during the window, at %v: %s", o.at, o.provider)
					}
				case o.at > from+length+250*time.Millisecond:
					after++
					if o.provider != "primary" {
						t.Fatalf("after the window, at %v: %s", o.at, o.provider)
					}
				}
			}
			if before == 0 || during == 0 || after == 0 {
				t.Fatalf("steps before/during/after the window: %d/%d/%d", before, during, after)
			}
			fallbacks := 0
			for _, e := range sink.Events() {
				if e.Kind == record.EventFallback {
					fallbacks++
				}
			}
			if fallbacks < during {
				t.Fatalf("%d fallback events for %d steps in the window", fallbacks, during)
			}
		})
	}
}
