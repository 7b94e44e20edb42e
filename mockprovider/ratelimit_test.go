package mockprovider

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mcpload/mcpload/scenarios"
)

// fakeClock is a virtual clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// limitedScenario is testScenario with limits on the primary provider.
func limitedScenario(l scenarios.Limits) *scenarios.Scenario {
	sc := testScenario()
	sc.Providers["primary"].Mock.Limits = &l
	return sc
}

func TestRateLimiterRPM(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	_, base, _ := countingMock(t, limitedScenario(scenarios.Limits{RPM: 60}), WithClock(clock.Now))
	c := newClient(20 * time.Second)
	at := func(d time.Duration) result {
		clock.Set(t0.Add(d))
		return send(c, base+primaryChat, firstTurn(testModel, false, false))
	}

	// 60 requests over 30 s: all pass, and remaining counts down.
	for i := range 60 {
		r := at(time.Duration(i) * 500 * time.Millisecond)
		wantOK(t, r)
		wantHeaders(t, r.resp.Header, "X-Ratelimit-Limit-Requests", "60", "X-Ratelimit-Remaining-Requests", strconv.Itoa(59-i))
		// The window frees its first slot when the first request leaves it.
		if want := resetString(time.Minute - time.Duration(i)*500*time.Millisecond); r.resp.Header.Get("X-Ratelimit-Reset-Requests") != want {
			t.Fatalf("request %d: reset %q, want %q", i, r.resp.Header.Get("X-Ratelimit-Reset-Requests"), want)
		}
	}
	// The 61st, at 30 s, waits until the first leaves, at 60 s.
	r := at(30 * time.Second)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantHeaders(t, r.resp.Header, "Retry-After", "30", "Retry-After-Ms", "30000", "X-Ratelimit-Remaining-Requests", "0", "X-Should-Retry", "true")
	if e := errorBody(t, r.body); e.Type != "requests" || e.Code == nil || *e.Code != "rate_limit_exceeded" {
		t.Errorf("429 body %s", r.body)
	}
	// A refusal uses no quota: just before 60 s, still refused, and the wait
	// is what is left.
	r = at(59*time.Second + 750*time.Millisecond)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantHeaders(t, r.resp.Header, "Retry-After", "1", "Retry-After-Ms", "250")
	// At 60 s the first has left: one gets in, the next waits for the second
	// to leave, 500 ms later.
	wantOK(t, at(time.Minute))
	r = at(time.Minute)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantHeaders(t, r.resp.Header, "Retry-After", "1", "Retry-After-Ms", "500")
	// Two minutes on, the window is empty again.
	r = at(3 * time.Minute)
	wantOK(t, r)
	wantHeaders(t, r.resp.Header, "X-Ratelimit-Remaining-Requests", "59", "X-Ratelimit-Reset-Requests", "1m0s")
	// The other provider has no limits and no headers.
	clock.Set(t0.Add(3 * time.Minute))
	r = send(c, base+"/providers/backup/v1/chat/completions", firstTurn(testBackupModel, false, false))
	wantOK(t, r)
	if v := r.resp.Header.Get("X-Ratelimit-Limit-Requests"); v != "" {
		t.Errorf("unlimited provider sends x-ratelimit-limit-requests %q", v)
	}
}

func TestRateLimiterTPM(t *testing.T) {
	// The first turn's scripted usage is 120 prompt + 30 completion tokens.
	const perRequest = 150
	clock := newFakeClock()
	t0 := clock.Now()
	_, base, _ := countingMock(t, limitedScenario(scenarios.Limits{TPM: 400}), WithClock(clock.Now))
	c := newClient(20 * time.Second)
	at := func(d time.Duration) result {
		clock.Set(t0.Add(d))
		return send(c, base+primaryChat, firstTurn(testModel, false, false))
	}
	r := at(0)
	wantOK(t, r)
	wantHeaders(t, r.resp.Header, "X-Ratelimit-Limit-Tokens", "400", "X-Ratelimit-Remaining-Tokens", strconv.Itoa(400-perRequest))
	if v := r.resp.Header.Get("X-Ratelimit-Limit-Requests"); v != "" {
		t.Errorf("no rpm set, yet x-ratelimit-limit-requests %q", v)
	}
	wantOK(t, at(10*time.Second))
	// 300 used: 150 more do not fit until the first 150 leave, at 60 s.
	r = at(20 * time.Second)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantHeaders(t, r.resp.Header, "Retry-After", "40", "Retry-After-Ms", "40000", "X-Ratelimit-Remaining-Tokens", "100", "X-Ratelimit-Reset-Tokens", "40s")
	if e := errorBody(t, r.body); e.Type != "tokens" {
		t.Errorf("429 type %q, want tokens", e.Type)
	}
	wantOK(t, at(time.Minute))
}

func TestLimiterLog(t *testing.T) {
	// 100 requests a second for 5 minutes, all admitted: the log is
	// compacted, and the counts stay exact.
	t0 := time.Now()
	l := newLimiter(scenarios.Limits{TPM: 1 << 30}, t0)
	const n = 30000
	for i := range n {
		if st := l.admit(t0.Add(time.Duration(i)*10*time.Millisecond), 3); st.refused != "" {
			t.Fatalf("request %d refused: %+v", i, st)
		}
	}
	// At 300 s, the window holds the requests after 240 s: 240.01 s to 299.99 s.
	_, reqs, tokens := l.usage(t0.Add(n * 10 * time.Millisecond))
	if reqs != 5999 || tokens != 3*reqs {
		t.Errorf("window holds %d requests and %d tokens, want 5999 and 3 each", reqs, tokens)
	}
	if c := cap(l.log); c >= n {
		t.Errorf("log capacity %d for %d requests: not compacted", c, n)
	}

	// With an rpm, no minute ever admits more than it.
	l = newLimiter(scenarios.Limits{RPM: 100}, t0)
	var admitted []time.Duration
	for i := range 20000 {
		at := time.Duration(i) * 10 * time.Millisecond
		if l.admit(t0.Add(at), 1).refused == "" {
			admitted = append(admitted, at)
		}
	}
	for i := 100; i < len(admitted); i++ {
		if admitted[i]-admitted[i-100] < time.Minute {
			t.Fatalf("101 requests within %v", admitted[i]-admitted[i-100])
		}
	}
	if len(admitted) < 300 {
		t.Errorf("%d admitted in 200 s at rpm 100, want about 400", len(admitted))
	}

	// A request larger than the whole tpm is told to wait a window.
	l = newLimiter(scenarios.Limits{TPM: 100}, t0)
	if st := l.admit(t0, 101); st.refused != "tokens" || st.retryAfter != time.Minute {
		t.Errorf("too large: %+v", st)
	}
}

func TestOpenAIClientSeesRateLimit(t *testing.T) {
	_, base := startMock(t, faultScenario(scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit, RetryAfter: sd(2 * time.Second)}))
	c := openai.NewClient(
		option.WithBaseURL(base+"/providers/primary/v1/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0), // the client must not hide the 429 by retrying
		option.WithRequestTimeout(20*time.Second),
	)
	_, err := c.Chat.Completions.New(context.Background(), testParams(testModel))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v (%T), want *openai.Error", err, err)
	}
	if apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Type != "requests" || apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("status %d type %q code %q", apiErr.StatusCode, apiErr.Type, apiErr.Code)
	}
	wantHeaders(t, apiErr.Response.Header, "Retry-After", "2", "Retry-After-Ms", "2000", "X-Ratelimit-Remaining-Requests", "0")
}

// TestRateLimiterQuantum enforces rpm over a one-second window, as OpenAI
// says it may: rpm 600 admits 10 requests in any second.
func TestRateLimiterQuantum(t *testing.T) {
	clock := newFakeClock()
	t0 := clock.Now()
	lim := scenarios.Limits{RPM: 600, Quantum: scenarios.Duration(time.Second)}
	_, base, _ := countingMock(t, limitedScenario(lim), WithClock(clock.Now))
	c := newClient(20 * time.Second)
	at := func(d time.Duration) result {
		clock.Set(t0.Add(d))
		return send(c, base+primaryChat, firstTurn(testModel, false, false))
	}
	for i := range 10 {
		r := at(time.Duration(i) * 50 * time.Millisecond)
		wantOK(t, r)
		// The limit stays the per-minute figure; remaining is what the
		// window still admits.
		wantHeaders(t, r.resp.Header, "X-Ratelimit-Limit-Requests", "600", "X-Ratelimit-Remaining-Requests", strconv.Itoa(9-i))
	}
	// The 11th in the same second waits for the first to leave the window,
	// at 1 s: 500 ms from 500 ms.
	r := at(500 * time.Millisecond)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantHeaders(t, r.resp.Header, "Retry-After", "1", "Retry-After-Ms", "500")
	// A second later the window has room again.
	wantOK(t, at(time.Second))
}
