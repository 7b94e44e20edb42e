package llm

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// These tests run the resilient client end to end: the chat client with
// its policy chain, against httptest servers that misbehave on purpose
// (per attempt, read from the Mcpload-Attempt header), and against the
// real mock's fault timeline (mockfaults_test.go).

func sd(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

// attemptOf returns the Mcpload-Attempt of r, 0 when absent.
func attemptOf(r *http.Request) int {
	n, _ := strconv.Atoi(r.Header.Get(httpx.HdrAttempt))
	return n
}

// okChat answers a chat completion.
func okChat(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header()["Content-Type"] = hdrJSON
	io.WriteString(w, fixture.OKBody)
}

func TestRetryAfterHonouredBetweenAttempts(t *testing.T) {
	for _, tc := range []struct {
		name string
		// hint sets the headers of the 429 and returns the delay they state.
		hint func(h http.Header) time.Duration
	}{
		{"retry-after seconds", func(h http.Header) time.Duration {
			h.Set("Retry-After", "1")
			return time.Second
		}},
		{"retry-after-ms", func(h http.Header) time.Duration {
			h.Set("Retry-After", "30") // retry-after-ms wins, as in OpenAI's SDK
			h.Set("retry-after-ms", "350")
			return 350 * time.Millisecond
		}},
		{"http-date", func(h http.Header) time.Duration {
			at := time.Now().Add(2 * time.Second).Truncate(time.Second)
			h.Set("Retry-After", at.UTC().Format(http.TimeFormat))
			return time.Until(at)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stated atomic.Int64
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if attemptOf(r) == 1 {
					io.Copy(io.Discard, r.Body)
					stated.Store(int64(tc.hint(w.Header())))
					w.WriteHeader(http.StatusTooManyRequests)
					io.WriteString(w, `{"error":{"message":"Rate limit reached","type":"requests"}}`)
					return
				}
				okChat(w, r)
			}))
			defer ts.Close()
			c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: fixture.QuickRetry()},
				testProvider{name: "primary", url: ts.URL})
			sink := &fixture.Sink{}
			r := c.Do(context.Background(), 4, 2, fixture.Msgs, sink)
			if r.Outcome != record.OutcomeOK {
				t.Fatalf("step %s: %s", r.Outcome, r.Err)
			}
			attempts := sink.Attempts()
			if len(attempts) != 2 || attempts[0].Outcome != record.Outcome429 || attempts[1].Outcome != record.OutcomeOK ||
				attempts[0].Attempt != 1 || attempts[1].Attempt != 2 {
				t.Fatalf("attempts %+v", attempts)
			}
			end1 := attempts[0].Start.Add(time.Duration(attempts[0].LatencyUS) * time.Microsecond)
			gap := attempts[1].Start.Sub(end1)
			// The delay is stated when the 429 is written, a little before
			// the attempt ends: the gap must cover what is left of it.
			want := time.Duration(stated.Load()) - time.Duration(attempts[0].LatencyUS)*time.Microsecond
			if gap < want {
				t.Fatalf("gap between attempts %v, stated delay %v", gap, want)
			}
			ev := sink.Events()
			if len(ev) != 1 || ev[0].Kind != record.EventRetry || ev[0].Reason != record.Outcome429 || ev[0].Attempt != 1 ||
				ev[0].Conversation != 4 || ev[0].Step != 2 || ev[0].DelayMS < float64(want)/1e6 {
				t.Fatalf("events %+v, want one retry after %v", ev, want)
			}
		})
	}
}

func TestShouldRetryHeader(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		should   string
		attempts int
	}{
		{"false stops a 5xx", 503, "false", 1},
		{"true forces a 4xx", 400, "true", 3},
		{"absent: 5xx retried", 503, "", 3},
		{"absent: 4xx not retried", 400, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tc.should != "" {
					w.Header().Set("x-should-retry", tc.should)
				}
				w.WriteHeader(tc.status)
			}))
			defer ts.Close()
			c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: fixture.QuickRetry()},
				testProvider{name: "primary", url: ts.URL})
			sink := &fixture.Sink{}
			r := c.Do(context.Background(), 0, 0, fixture.Msgs, sink)
			if r.Status != tc.status {
				t.Fatalf("status %d", r.Status)
			}
			if n := sink.CountAttempts(record.StepModel, "model:primary/test-model"); n != tc.attempts {
				t.Fatalf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}
}

// TestBudgetCapsAmplification sends 500 steps to a provider that always
// fails, with 3 attempts per step and a budget of 20%: attempts per step
// stay within 1 + ratio + min_retries_per_second x window / steps.
func TestBudgetCapsAmplification(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	// naive: 3 attempts, no wait (an Initial of 0 would mean the default).
	retry := &scenarios.Retry{Preset: scenarios.RetryPresetNaive}
	client := &scenarios.Client{Timeout: sd(5 * time.Second), Retry: retry,
		Budget: &scenarios.Budget{Ratio: 0.2, MinRetries: 1, Window: sd(10 * time.Second)}}
	c := newPolicyClient(t, fixture.HTTPClient(t), client, testProvider{name: "primary", url: ts.URL})
	sink := &fixture.Sink{}
	const steps = 500
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range steps / 4 {
				c.Do(context.Background(), uint64(w*1000+i), 0, fixture.Msgs, sink)
			}
		})
	}
	wg.Wait()
	attempts := sink.Attempts()
	amp := float64(len(attempts)) / steps
	limit := 1 + 0.2 + 1*10.0/steps
	if amp > limit {
		t.Fatalf("amplification %.3f above the budget's cap %.3f", amp, limit)
	}
	if amp < 1.15 {
		t.Fatalf("amplification %.3f: the budget let too few retries through", amp)
	}
	var exhausted, retries int
	for _, e := range sink.Events() {
		switch e.Kind {
		case record.EventBudgetExhausted:
			exhausted++
		case record.EventRetry:
			retries++
		}
	}
	if retries != len(attempts)-steps || exhausted == 0 {
		t.Fatalf("%d retry events for %d retries, %d refusals", retries, len(attempts)-steps, exhausted)
	}
	t.Logf("amplification %.3f (cap %.3f), %d retries refused", amp, limit, exhausted)
}

// TestBreakerThroughChatClient opens the breaker on a failing provider,
// checks that refused steps make no attempt and end breaker_open, then lets
// the provider recover and watches the probes close it.
func TestBreakerThroughChatClient(t *testing.T) {
	var healthy atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if healthy.Load() {
			okChat(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer ts.Close()
	client := &scenarios.Client{Timeout: sd(5 * time.Second),
		Breaker: &scenarios.Breaker{FailureRate: 0.5, Window: sd(10 * time.Second), MinRequests: 10, Cooldown: sd(100 * time.Millisecond), Probes: 2}}
	c := newPolicyClient(t, fixture.HTTPClient(t), client, testProvider{name: "primary", url: ts.URL})
	sink := &fixture.Sink{}
	seq := uint64(0)
	step := func() Result {
		seq++
		return c.Do(context.Background(), seq, 0, fixture.Msgs, sink)
	}
	for range 10 {
		if r := step(); r.Outcome != record.Outcome5xx {
			t.Fatalf("outcome %s", r.Outcome)
		}
	}
	for range 20 {
		if r := step(); r.Outcome != record.OutcomeBreakerOpen || r.Status != 0 || !strings.Contains(r.Err, "circuit breaker open") {
			t.Fatalf("refused step: %s %d %q", r.Outcome, r.Status, r.Err)
		}
	}
	if n := sink.CountAttempts(record.StepModel, "model:primary/test-model"); n != 10 {
		t.Fatalf("%d attempts: refused steps made attempts", n)
	}
	healthy.Store(true)
	time.Sleep(150 * time.Millisecond)
	for range 5 {
		if r := step(); r.Outcome != record.OutcomeOK {
			t.Fatalf("after recovery: %s", r.Outcome)
		}
	}
	var transitions []string
	for _, e := range sink.Events() {
		if e.Kind == record.EventBreaker {
			transitions = append(transitions, e.From+">"+e.To)
		}
	}
	if strings.Join(transitions, " ") != "closed>open open>half_open half_open>closed" {
		t.Fatalf("transitions %v", transitions)
	}
}

// TestStreamIdleTimerThenRetry stalls the first attempt's stream after one
// chunk; the idle timer ends it as a timeout long before the attempt's own
// timeout, and the retry gets the whole stream.
func TestStreamIdleTimerThenRetry(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Role: "assistant", Content: openaichat.Str("Hel")}}}})
		w.(http.Flusher).Flush()
		if attemptOf(r) == 1 {
			select { // stall until the client gives up
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		stop := "stop"
		writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Content: openaichat.Str("lo")}, FinishReason: &stop}}})
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer ts.Close()
	client := &scenarios.Client{Timeout: sd(20 * time.Second), Stream: scenarios.StreamTimeouts{Idle: sd(150 * time.Millisecond)},
		Retry: &scenarios.Retry{MaxAttempts: 2, Initial: sd(time.Millisecond), On: []string{record.OutcomeTimeout}}}
	c := newPolicyClient(t, fixture.HTTPClient(t), client, testProvider{name: "primary", url: ts.URL, stream: true})
	sink := &fixture.Sink{}
	start := time.Now()
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK || r.Msg.Content == nil || *r.Msg.Content != "Hello" {
		t.Fatalf("step %s: %s %+v", r.Outcome, r.Err, r.Msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("step took %v: the idle timer did not cut the stall", d)
	}
	attempts := sink.Attempts()
	if len(attempts) != 2 {
		t.Fatalf("attempts %+v", attempts)
	}
	a := attempts[0]
	lat := time.Duration(a.LatencyUS) * time.Microsecond
	if a.Outcome != record.OutcomeTimeout || !strings.Contains(a.Error, "idle") || lat < 150*time.Millisecond || lat > 5*time.Second {
		t.Fatalf("stalled attempt: %s %q after %v", a.Outcome, a.Error, lat)
	}
	if attempts[1].Outcome != record.OutcomeOK || attempts[1].TTFTUS == 0 {
		t.Fatalf("retry %+v", attempts[1])
	}
}

func TestStreamTTFTAndTotalTimers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		timers scenarios.StreamTimeouts
		want   string
	}{
		{"ttft", scenarios.StreamTimeouts{TTFT: sd(100 * time.Millisecond)}, "first token"},
		{"total", scenarios.StreamTimeouts{Total: sd(100 * time.Millisecond)}, "total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "text/event-stream")
				// Role-only chunks keep the stream busy, no token comes.
				for {
					writeChunk(w, openaichat.Chunk{Choices: []openaichat.ChunkChoice{{Delta: openaichat.Delta{Role: "assistant"}}}})
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}))
			defer ts.Close()
			c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(20 * time.Second), Stream: tc.timers},
				testProvider{name: "primary", url: ts.URL, stream: true})
			start := time.Now()
			r := c.Do(context.Background(), 0, 0, fixture.Msgs, &fixture.Sink{})
			if r.Outcome != record.OutcomeTimeout || !strings.Contains(r.Err, tc.want) {
				t.Fatalf("%s: %q", r.Outcome, r.Err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

// TestRetryPathReusesConnection fails two attempts of every step with a
// 500 and a body: the bodies are drained, so every attempt of every step
// goes over one connection.
func TestRetryPathReusesConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attemptOf(r) < 3 {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"`+strings.Repeat("x", 4096)+`"}}`)
			return
		}
		okChat(w, r)
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: fixture.QuickRetry()},
		testProvider{name: "primary", url: srv.URL})
	sink := &fixture.Sink{}
	for i := range 5 {
		if r := c.Do(context.Background(), uint64(i), 0, fixture.Msgs, sink); r.Outcome != record.OutcomeOK {
			t.Fatalf("step %d: %s %s", i, r.Outcome, r.Err)
		}
	}
	if n := len(sink.Attempts()); n != 15 {
		t.Fatalf("%d attempts", n)
	}
	if c := conns.Load(); c != 1 {
		t.Fatalf("%d connections for 15 attempts: failed bodies were not drained", c)
	}
}

func TestChatCacheHitsAndTTL(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header()["Content-Type"] = hdrJSON
		io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"","type":"function","function":{"name":"search","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`)
	}))
	defer ts.Close()
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Cache: &scenarios.Cache{TTL: sd(300 * time.Millisecond)}},
		testProvider{name: "primary", url: ts.URL})
	sink := &fixture.Sink{}
	for i := range 5 {
		r := c.Do(context.Background(), uint64(i), 0, fixture.Msgs, sink)
		if r.Outcome != record.OutcomeOK || len(r.Msg.ToolCalls) != 1 || r.Msg.ToolCalls[0].ID != "" {
			t.Fatalf("step %d: %s %+v", i, r.Outcome, r.Msg)
		}
		if i > 0 && (r.BytesIn != 0 || r.TTFT != 0) {
			t.Fatalf("a cache hit read %d bytes", r.BytesIn)
		}
		// The conversation fills in missing IDs: that must not reach
		// the cache.
		r.Msg.ToolCalls[0].ID = "call_filled"
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls for 5 identical steps", calls.Load())
	}
	hits := 0
	for _, e := range sink.Events() {
		if e.Kind == record.EventCacheHit {
			hits++
		}
	}
	if hits != 4 {
		t.Fatalf("%d cache hits, want 4", hits)
	}
	time.Sleep(350 * time.Millisecond)
	c.Do(context.Background(), 9, 0, fixture.Msgs, sink)
	if calls.Load() != 2 {
		t.Fatal("the entry outlived its TTL")
	}
}

func TestHedgeCancelsLoser(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attemptOf(r) == 1 {
			io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		okChat(w, r)
	}))
	defer ts.Close()
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(20 * time.Second), Hedge: &scenarios.Hedge{Delay: sd(50 * time.Millisecond)}},
		testProvider{name: "primary", url: ts.URL})
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK || r.Latency > 5*time.Second {
		t.Fatalf("step %s after %v", r.Outcome, r.Latency)
	}
	attempts := sink.Attempts()
	byN := map[int]string{}
	for _, a := range attempts {
		byN[a.Attempt] = a.Outcome
	}
	if len(attempts) != 2 || byN[1] != record.OutcomeCanceled || byN[2] != record.OutcomeOK {
		t.Fatalf("attempts %+v", attempts)
	}
	if ev := sink.Events(); len(ev) != 1 || ev[0].Kind != record.EventHedge {
		t.Fatalf("events %+v", ev)
	}
}

func TestProgressiveTimeouts(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer ts.Close()
	retry := &scenarios.Retry{Preset: scenarios.RetryPresetSeed, Initial: sd(time.Millisecond), Max: sd(time.Millisecond)}
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(100 * time.Millisecond), Retry: retry},
		testProvider{name: "primary", url: ts.URL})
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 0, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeTimeout {
		t.Fatalf("step %s", r.Outcome)
	}
	attempts := sink.Attempts()
	if len(attempts) != 3 {
		t.Fatalf("%d attempts", len(attempts))
	}
	// 1x, 1.5x and 2x client.timeout, as the seed's client did.
	for i, want := range []time.Duration{100 * time.Millisecond, 150 * time.Millisecond, 200 * time.Millisecond} {
		lat := time.Duration(attempts[i].LatencyUS) * time.Microsecond
		if attempts[i].Outcome != record.OutcomeTimeout || lat < want || lat > want+2*time.Second {
			t.Fatalf("attempt %d: %s after %v, want a timeout after %v", i+1, attempts[i].Outcome, lat, want)
		}
	}
}

// TestAttemptHeaders checks the Mcpload-* headers of every attempt,
// through retries and a fallback: the mock draws its faults from them.
func TestAttemptHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	handler := func(fail bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s/%s/%s %s", r.Header.Get(httpx.HdrSeq), r.Header.Get(httpx.HdrStep), r.Header.Get(httpx.HdrAttempt), r.Header.Get("Authorization")))
			mu.Unlock()
			if fail {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(503)
				return
			}
			okChat(w, r)
		}
	}
	p := httptest.NewServer(handler(true))
	defer p.Close()
	s := httptest.NewServer(handler(false))
	defer s.Close()
	retry := fixture.QuickRetry()
	retry.MaxAttempts = 2
	client := &scenarios.Client{Timeout: sd(5 * time.Second), Retry: retry, Fallback: []scenarios.FallbackStep{{Provider: "secondary"}}}
	c := newPolicyClient(t, fixture.HTTPClient(t), client,
		testProvider{name: "primary", url: p.URL, key: "sk-one"}, testProvider{name: "secondary", url: s.URL, key: "sk-two"})
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 77, 3, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK || r.Provider != "secondary" {
		t.Fatalf("step %s from %s", r.Outcome, r.Provider)
	}
	want := "77/3/1 Bearer sk-one,77/3/2 Bearer sk-one,77/3/3 Bearer sk-two"
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("requests %s\nwant %s", got, want)
	}
	attempts := sink.Attempts()
	if len(attempts) != 3 || attempts[2].Key != "model:secondary/test-model" || attempts[2].Attempt != 3 {
		t.Fatalf("attempts %+v", attempts)
	}
}
