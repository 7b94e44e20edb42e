package policy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// quick is a retry section with waits short enough for tests.
func quick(on ...string) scenarios.Retry {
	r := scenarios.Retry{MaxAttempts: 3, Backoff: scenarios.BackoffConstant, Initial: dur(time.Millisecond), Jitter: scenarios.JitterNone}
	if len(on) > 0 {
		r.On = on
	}
	return r
}

func TestRetryUntilSuccess(t *testing.T) {
	s := &script{answers: []func(*http.Request) (*http.Response, error){status(503), fail(record.OutcomeTimeout), status(200)}}
	st, sink, req := newStep(t, context.Background())
	resp, err := NewRetry(s, quick(), WithProvider("primary")).RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("resp %v, err %v", resp, err)
	}
	if s.calls.Load() != 3 || st.Attempts() != 3 {
		t.Fatalf("%d calls, %d attempts", s.calls.Load(), st.Attempts())
	}
	ev := sink.snapshot()
	if len(ev) != 2 {
		t.Fatalf("events %+v", ev)
	}
	for i, want := range []string{record.Outcome5xx, record.OutcomeTimeout} {
		e := ev[i]
		if e.Kind != record.EventRetry || e.Reason != want || e.Attempt != i+1 || e.Provider != "primary" ||
			e.Conversation != 3 || e.Step != 1 || e.Key != "model:primary" || e.DelayMS != 1 || e.Time.IsZero() {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
}

func TestRetryGivesUp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cfg       scenarios.Retry
		answer    func(*http.Request) (*http.Response, error)
		calls     int
		wantState int
	}{
		{"max attempts", quick(), status(500), 3, 500},
		{"max attempts 1", func() scenarios.Retry { r := quick(); r.MaxAttempts = 1; return r }(), status(500), 1, 500},
		{"4xx not in on", quick(), status(400), 1, 400},
		{"5xx not in on", quick(record.OutcomeTimeout), status(502), 1, 502},
		{"4xx listed", quick(record.Outcome4xx), status(409), 3, 409},
		{"x-should-retry false stops a 5xx", quick(), status(503, "x-should-retry", "false"), 1, 503},
		{"x-should-retry true retries a 4xx", quick(), status(400, "x-should-retry", "true"), 3, 400},
		{"x-should-retry ignored without retry_after", func() scenarios.Retry { r := quick(); r.RetryAfter = ptr(false); return r }(),
			status(400, "x-should-retry", "true"), 1, 400},
		{"canceled is never retried", quick(), fail(record.OutcomeCanceled), 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{answers: []func(*http.Request) (*http.Response, error){tc.answer}}
			_, sink, req := newStep(t, context.Background())
			resp, err := NewRetry(s, tc.cfg).RoundTrip(req)
			if int(s.calls.Load()) != tc.calls {
				t.Fatalf("%d calls, want %d", s.calls.Load(), tc.calls)
			}
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			if code != tc.wantState || (code == 0 && err == nil) {
				t.Fatalf("resp status %d, err %v", code, err)
			}
			if n := sink.kinds()[record.EventRetry]; n != tc.calls-1 {
				t.Fatalf("%d retry events for %d calls", n, tc.calls)
			}
		})
	}
}

// TestRetryWaits checks the wait each retry announces, against the rules'
// order: the server's hint (capped by max), rate_limit_wait on 429s, the
// backoff.
func TestRetryWaits(t *testing.T) {
	ms := time.Millisecond
	date := func() string { return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat) }
	for _, tc := range []struct {
		name   string
		cfg    scenarios.Retry
		answer func(*http.Request) (*http.Response, error)
		check  func(d time.Duration) bool
		want   string
	}{
		{"retry-after seconds", scenarios.Retry{Initial: dur(ms), Max: dur(time.Minute)}, status(429, "Retry-After", "2"),
			func(d time.Duration) bool { return d == 2*time.Second }, "2s"},
		{"retry-after-ms wins", scenarios.Retry{Initial: dur(ms), Max: dur(time.Minute)}, status(503, "Retry-After", "9", "retry-after-ms", "1200"),
			func(d time.Duration) bool { return d == 1200*ms }, "1.2s"},
		{"http-date", scenarios.Retry{Initial: dur(ms), Max: dur(time.Minute)}, func(*http.Request) (*http.Response, error) {
			return response(503, "Retry-After", date()), nil
		}, func(d time.Duration) bool { return d > time.Second && d <= 3*time.Second }, "(1s, 3s]"},
		{"hint capped by max", scenarios.Retry{Initial: dur(ms), Max: dur(500 * ms)}, status(429, "Retry-After", "30"),
			func(d time.Duration) bool { return d == 500*ms }, "500ms"},
		{"hint ignored without retry_after", scenarios.Retry{Initial: dur(7 * ms), Backoff: scenarios.BackoffConstant, Jitter: scenarios.JitterNone, RetryAfter: ptr(false)},
			status(429, "Retry-After", "30"), func(d time.Duration) bool { return d == 7*ms }, "7ms"},
		{"rate_limit_wait x attempt", scenarios.Retry{Initial: dur(ms), RetryAfter: ptr(false), RateLimitWait: dur(time.Minute), Max: dur(4 * time.Second)},
			status(429), func(d time.Duration) bool { return d == time.Minute }, "1m (attempt 1)"},
		{"rate_limit_wait only for 429", scenarios.Retry{Initial: dur(5 * ms), Backoff: scenarios.BackoffConstant, Jitter: scenarios.JitterNone, RateLimitWait: dur(time.Minute)},
			status(503), func(d time.Duration) bool { return d == 5*ms }, "5ms"},
		{"full jitter within the backoff", scenarios.Retry{Initial: dur(100 * ms), Jitter: scenarios.JitterFull},
			status(503), func(d time.Duration) bool { return d >= 0 && d <= 100*ms }, "[0, 100ms]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{answers: []func(*http.Request) (*http.Response, error){tc.answer}}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, sink, req := newStep(t, ctx)
			tc.cfg.MaxAttempts = 2
			r := NewRetry(s, tc.cfg)
			// Cancel as soon as the retry is announced: the test reads
			// the wait, it does not sit through it.
			r.next = rtFunc(func(rq *http.Request) (*http.Response, error) {
				resp, err := s.RoundTrip(rq)
				if s.calls.Load() == 1 {
					go func() {
						for len(sink.snapshot()) == 0 {
							time.Sleep(time.Millisecond)
						}
						cancel()
					}()
				}
				return resp, err
			})
			r.RoundTrip(req)
			ev := sink.snapshot()
			if len(ev) == 0 || ev[0].Kind != record.EventRetry {
				t.Fatalf("events %+v", ev)
			}
			d := time.Duration(ev[0].DelayMS * float64(ms))
			if !tc.check(d) {
				t.Fatalf("wait %v, want %s", d, tc.want)
			}
		})
	}
}

func TestRetryRateLimitWaitGrowsWithAttempt(t *testing.T) {
	s := &script{answers: []func(*http.Request) (*http.Response, error){status(429)}}
	_, sink, req := newStep(t, context.Background())
	cfg := scenarios.Retry{MaxAttempts: 4, Initial: dur(time.Second), RetryAfter: ptr(false), RateLimitWait: dur(2 * time.Millisecond)}
	NewRetry(s, cfg).RoundTrip(req)
	var got []float64
	for _, e := range sink.snapshot() {
		got = append(got, e.DelayMS)
	}
	if len(got) != 3 || got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Fatalf("waits %v ms, want [2 4 6]", got)
	}
}

func TestRetryProgressiveTimeout(t *testing.T) {
	var timeouts []time.Duration
	rt := rtFunc(func(r *http.Request) (*http.Response, error) {
		st := StepFrom(r.Context())
		st.NextAttempt()
		timeouts = append(timeouts, st.AttemptTimeout(time.Second))
		return nil, outcomeErr(record.OutcomeTimeout)
	})
	_, _, req := newStep(t, context.Background())
	seed := ptrRetry(scenarios.RetryPresetSeed)
	seed.Initial, seed.Max = dur(time.Millisecond), dur(time.Millisecond)
	NewRetry(rt, *seed).RoundTrip(req)
	want := []time.Duration{time.Second, 1500 * time.Millisecond, 2 * time.Second}
	if len(timeouts) != 3 || timeouts[0] != want[0] || timeouts[1] != want[1] || timeouts[2] != want[2] {
		t.Fatalf("attempt timeouts %v, want %v", timeouts, want)
	}
}

func TestRetryBudgetRefusal(t *testing.T) {
	clk := newFakeClock()
	b := NewBudget(scenarios.Budget{Ratio: 0.5, MinRetries: 0.1, Window: dur(time.Second)}, WithBudgetClock(clk.now))
	r := NewRetry(&script{answers: []func(*http.Request) (*http.Response, error){status(503)}}, quick(), WithBudget(b), WithProvider("p"))
	// Step 1: one request earns half a retry: refused at once.
	st, sink, req := newStep(t, context.Background())
	resp, err := r.RoundTrip(req)
	if err != nil || resp.StatusCode != 503 || st.Attempts() != 1 || !st.budgetOut {
		t.Fatalf("resp %v err %v attempts %d budgetOut %v", resp, err, st.Attempts(), st.budgetOut)
	}
	ev := sink.snapshot()
	if len(ev) != 1 || ev[0].Kind != record.EventBudgetExhausted || ev[0].Reason != record.Outcome5xx || ev[0].Provider != "p" || ev[0].Attempt != 1 {
		t.Fatalf("events %+v", ev)
	}
	// Step 2: two requests now earn one retry, and no more.
	st, sink, req = newStep(t, context.Background())
	r.RoundTrip(req)
	if st.Attempts() != 2 {
		t.Fatalf("step 2: %d attempts, want 2", st.Attempts())
	}
	if k := sink.kinds(); k[record.EventRetry] != 1 || k[record.EventBudgetExhausted] != 1 {
		t.Fatalf("step 2 events %v", k)
	}
}

func TestRetryWaitEndsWithContext(t *testing.T) {
	s := &script{answers: []func(*http.Request) (*http.Response, error){status(503)}}
	cfg := quick()
	cfg.Initial = dur(time.Hour)

	// The run stops: canceled.
	ctx, cancel := context.WithCancel(context.Background())
	_, _, req := newStep(t, ctx)
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	resp, err := NewRetry(s, cfg).RoundTrip(req)
	if resp != nil || OutcomeOf(resp, err) != record.OutcomeCanceled {
		t.Fatalf("resp %v, err %v (%s)", resp, err, OutcomeOf(resp, err))
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("wait did not end with the context")
	}

	// The conversation's deadline: timeout.
	cctx, ccancel := WithConversationTimeout(context.Background(), 20*time.Millisecond)
	defer ccancel()
	_, _, req = newStep(t, cctx)
	resp, err = NewRetry(s, cfg).RoundTrip(req)
	if resp != nil || OutcomeOf(resp, err) != record.OutcomeTimeout {
		t.Fatalf("resp %v, err %v (%s)", resp, err, OutcomeOf(resp, err))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v does not wrap DeadlineExceeded", err)
	}
}

func TestRetryDoForNonHTTPAttempts(t *testing.T) {
	st := &Step{}
	ctx := WithStep(context.Background(), st)
	outcomes := []string{record.OutcomeConnection, record.OutcomeProtocol, record.OutcomeOK}
	calls := 0
	err := NewRetry(nil, quick(record.OutcomeConnection, record.OutcomeProtocol)).Do(ctx, func() Try {
		st.NextAttempt()
		calls++
		return Try{Outcome: outcomes[calls-1]}
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v, %d calls", err, calls)
	}
}

// TestRetryDrainsFailedBodies sends the retries over a real keep-alive
// transport: the failed responses' bodies are drained and closed, so all
// attempts share one connection.
func TestRetryDrainsFailedBodies(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if n.Add(1)%3 != 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(make([]byte, 8<<10)) // a body worth draining
			return
		}
		w.Write([]byte(`ok`))
	}))
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	// A plain transport knows nothing of steps: count attempts around it.
	next := rtFunc(func(r *http.Request) (*http.Response, error) {
		StepFrom(r.Context()).NextAttempt()
		return tr.RoundTrip(r)
	})
	r := NewRetry(next, quick())
	for range 5 {
		st, _, req := newStep(t, context.Background())
		req.URL.Host = srv.Listener.Addr().String()
		resp, err := r.RoundTrip(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("resp %v, err %v", resp, err)
		}
		Discard(resp)
		if st.Attempts() != 3 {
			t.Fatalf("%d attempts", st.Attempts())
		}
	}
	if c := conns.Load(); c != 1 {
		t.Fatalf("%d connections for 15 attempts, 10 of them failed: want 1", c)
	}
}
