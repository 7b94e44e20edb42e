package attacker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// These tests put the resilient client in front of the real mock, on
// loopback, with the mock's own fault timeline.

// faultScenario is a one-turn conversation (no tools) on mock providers
// primary and secondary, with faults.
func faultScenario(stream bool, faults ...scenarios.Fault) *scenarios.Scenario {
	p := func() *scenarios.Provider {
		return &scenarios.Provider{API: "openai", BaseURL: scenarios.MockURL, Model: "gpt-4.1-mini", Stream: stream}
	}
	return &scenarios.Scenario{
		Version: 1, Name: "faults", Seed: 5,
		Providers: map[string]*scenarios.Provider{"primary": p(), "secondary": p()},
		Conversation: &scenarios.Conversation{
			Provider: "primary", MaxSteps: 2,
			Turns: []scenarios.Turn{{User: "hi", Model: []scenarios.ModelReply{{Content: "hello there, how are you today?"}}}},
		},
		Load:   scenarios.LoadShape{Arrival: scenarios.ArrivalConstant},
		Faults: faults,
	}
}

// startFaultMock starts the mock of sc and sets its epoch to now.
func startFaultMock(t *testing.T, sc *scenarios.Scenario) (*mockprovider.Server, string) {
	t.Helper()
	m, err := mockprovider.New(sc, mockprovider.WithSeed(sc.Seed))
	if err != nil {
		t.Fatalf("mockprovider.New: %v", err)
	}
	base, err := m.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	m.SetEpoch(time.Now())
	return m, base
}

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
			sc := faultScenario(tc.stream, tc.f)
			_, base := startFaultMock(t, sc)
			client := &scenarios.Client{Timeout: sd(600 * time.Millisecond), Stream: scenarios.StreamTimeouts{Idle: sd(200 * time.Millisecond)},
				Retry: &scenarios.Retry{MaxAttempts: 1}}
			c := jobsPolicyClient(t, jobsHTTPClient(t), client,
				jobsProvider{name: "primary", url: base + "/providers/primary/v1", stream: tc.stream})
			sink := &jobsSink{}
			start := time.Now()
			r := c.do(context.Background(), 1, 0, jobsMsgs, sink)
			if r.outcome != tc.want || r.status != tc.status || !strings.Contains(r.err, tc.errHas) {
				t.Fatalf("outcome %s status %d err %q, want %s %d %q", r.outcome, r.status, r.err, tc.want, tc.status, tc.errHas)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
			if tc.kind == "latency" && r.latency < 150*time.Millisecond {
				t.Fatalf("latency %v, fault adds 150ms", r.latency)
			}
			if tc.kind == "rate_limit" {
				// The hint a retry would honour.
				attempts, _, _ := sink.snapshot()
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
	sc := faultScenario(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit,
		For: sd(300 * time.Millisecond), RetryAfter: sd(400 * time.Millisecond)})
	_, base := startFaultMock(t, sc)
	c := jobsPolicyClient(t, jobsHTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: quickRetry()},
		jobsProvider{name: "primary", url: base + "/providers/primary/v1"})
	sink := &jobsSink{}
	r := c.do(context.Background(), 1, 0, jobsMsgs, sink)
	if r.outcome != record.OutcomeOK {
		t.Fatalf("step %s: %s", r.outcome, r.err)
	}
	attempts, _, _ := sink.snapshot()
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
			sc := faultScenario(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503,
				From: sd(from), For: sd(length)})
			m, base := startFaultMock(t, sc)
			client := &scenarios.Client{Timeout: sd(5 * time.Second), Breaker: tc.breaker,
				Fallback: []scenarios.FallbackStep{{Provider: "secondary"}}}
			c := jobsPolicyClient(t, jobsHTTPClient(t), client,
				jobsProvider{name: "primary", url: base + "/providers/primary/v1"},
				jobsProvider{name: "secondary", url: base + "/providers/secondary/v1"})
			sink := &jobsSink{}
			epoch := m.Epoch()
			type obs struct {
				at       time.Duration
				provider string
			}
			var seen []obs
			for i := 0; time.Since(epoch) < from+length+450*time.Millisecond; i++ {
				at := time.Since(epoch)
				r := c.do(context.Background(), uint64(i), 0, jobsMsgs, sink)
				if r.outcome != record.OutcomeOK {
					t.Fatalf("step %d at %v: %s %s", i, at, r.outcome, r.err)
				}
				seen = append(seen, obs{at, r.provider})
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
			for _, e := range sink.eventsSnapshot() {
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

// TestToolCallRetriesAgainstMock fails the first attempt of every
// tools/call with the mock's fault timeline (probability draws per
// attempt would not do: a proxy fails attempt 1), and checks that the tool
// step is retried with numbered attempts and its own retry event.
func TestToolCallRetries(t *testing.T) {
	sc := jobsConversationScenario()
	sc.Client.Retry = quickRetry()
	m, err := mockprovider.New(sc, mockprovider.WithSeed(1))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	proxy := newAttemptProxy(m, func(attempt int, isToolCall bool) int {
		if isToolCall && attempt == 1 {
			return 503
		}
		return 0
	})
	defer proxy.Close()
	j := jobsNewJob(t, sc, jobConfig{MockURL: proxy.URL})
	sink := &jobsSink{}
	res := j.Do(context.Background(), 0, 0, sink)
	if res.Outcome != record.OutcomeOK {
		t.Fatalf("result %+v", res)
	}
	attempts, _, _ := sink.snapshot()
	perStep := map[int][]string{}
	for _, a := range attempts {
		if a.Kind == record.StepTool {
			perStep[a.Step] = append(perStep[a.Step], a.Outcome)
			if !strings.HasPrefix(a.Key, "tool:") {
				t.Fatalf("attempt %+v", a)
			}
		}
	}
	if len(perStep) != 3 {
		t.Fatalf("tool steps %v", perStep)
	}
	for step, outcomes := range perStep {
		if strings.Join(outcomes, ",") != "5xx,ok" {
			t.Fatalf("step %d attempts %v", step, outcomes)
		}
	}
	retries := 0
	for _, e := range sink.eventsSnapshot() {
		if e.Kind == record.EventRetry && strings.HasPrefix(e.Key, "tool:") && e.Reason == record.Outcome5xx {
			retries++
		}
	}
	if retries != 3 {
		t.Fatalf("%d tool retry events", retries)
	}
}

// TestRunRecordsPolicyEvents runs a scenario whose provider rate-limits
// part of the time through Run: events.jsonl gets a line per retry, and
// run.json counts them by reason.
func TestRunRecordsPolicyEvents(t *testing.T) {
	sc := faultScenario(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503,
		Probability: ptrTo(0.3)})
	sc.Load.Stages = []scenarios.Stage{{Rate: 100, Duration: sd(time.Second)}}
	sc.Load.MaxInFlight = 50
	sc.Client = scenarios.Client{Timeout: sd(5 * time.Second), Retry: quickRetry(),
		Budget: &scenarios.Budget{Ratio: 0.5}, Cache: &scenarios.Cache{TTL: sd(time.Millisecond)}}
	_, base := startFaultMock(t, sc)
	dir := filepath.Join(t.TempDir(), "run")
	run, err := Run(context.Background(), sc, dir, WithMockURL(base), WithInterval(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	a := run.Attempts
	if a.RetriesByReason[record.Outcome5xx] == 0 || a.CacheMisses == 0 || a.Retries < a.RetriesByReason[record.Outcome5xx] {
		t.Fatalf("attempt counts %+v", a)
	}
	f, err := os.Open(filepath.Join(dir, record.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc2 := bufio.NewScanner(f)
	for sc2.Scan() {
		var e record.Event
		if err := json.Unmarshal(sc2.Bytes(), &e); err != nil {
			t.Fatalf("line %d: %v", lines+1, err)
		}
		if e.Kind == record.EventCacheMiss {
			t.Fatal("a cache miss was written")
		}
		lines++
	}
	want := a.RetriesByReason[record.Outcome5xx] + a.BudgetExhausted + a.CacheHits
	if uint64(lines) != want {
		t.Fatalf("%d lines in events.jsonl, want %d (%+v)", lines, want, a)
	}
}

// newAttemptProxy serves the mock's handler behind a filter: fail returns
// a status to answer instead of the mock (0: pass), from the request's
// Mcpload-Attempt and whether it is a tools/call.
func newAttemptProxy(m *mockprovider.Server, fail func(attempt int, isToolCall bool) int) *httptest.Server {
	h := m.Handler()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if code := fail(attemptOf(r), bytes.Contains(body, []byte(`"method":"tools/call"`))); code != 0 {
			w.WriteHeader(code)
			return
		}
		h.ServeHTTP(w, r)
	}))
}
