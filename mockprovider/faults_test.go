package mockprovider

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

const primaryChat = "/providers/primary/v1/chat/completions"

// faultScenario is testScenario with a fault timeline.
func faultScenario(faults ...scenarios.Fault) *scenarios.Scenario {
	sc := testScenario()
	sc.Faults = faults
	return sc
}

func prob(p float64) *float64 { return &p }

func sd(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

// countingMock serves a mock of sc from an httptest server that counts the
// TCP connections it accepts, so that tests can see connection reuse.
func countingMock(t *testing.T, sc *scenarios.Scenario, opts ...Option) (*Server, string, *atomic.Int64) {
	t.Helper()
	s, err := New(sc, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(s.Handler())
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(func() {
		s.Close() // ends hangs first, so that the server can close
		srv.Close()
	})
	return s, srv.URL, &conns
}

// event is one SSE data line and when it arrived.
type event struct {
	at   time.Duration
	data string
}

// result is what a client saw of one request.
type result struct {
	resp      *http.Response
	body      []byte
	err       error // from Do or from reading the body
	headersAt time.Duration
	doneAt    time.Duration
	events    []event
}

// send posts body with c and reads the answer line by line, timing the
// headers, each SSE data line and the end.
func send(c *http.Client, url, body string, hdr ...string) result {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	var r result
	r.resp, r.err = c.Do(req)
	r.headersAt = time.Since(start)
	if r.err != nil {
		return r
	}
	defer r.resp.Body.Close()
	br := bufio.NewReader(r.resp.Body)
	for {
		line, err := br.ReadString('\n')
		r.body = append(r.body, line...)
		if data, ok := strings.CutPrefix(line, "data: "); ok && strings.HasSuffix(data, "\n") {
			r.events = append(r.events, event{at: time.Since(start), data: strings.TrimSuffix(data, "\n")})
		}
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			break
		}
	}
	r.doneAt = time.Since(start)
	return r
}

func newClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{}}
}

// errorBody decodes an OpenAI error body.
func errorBody(t *testing.T, b []byte) openaichat.ErrorDetail {
	t.Helper()
	var e openaichat.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %q", err, b)
	}
	return e.Error
}

func TestChatFaultKinds(t *testing.T) {
	const stall = 300 * time.Millisecond
	cases := []struct {
		name    string
		fault   scenarios.Fault
		stream  bool
		timeout time.Duration
		// reuse: the connection carries the next request.
		reuse bool
		check func(t *testing.T, r result)
	}{
		{
			name: "latency", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultLatency, Latency: fixed(150 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				wantOK(t, r)
				if r.headersAt < 150*time.Millisecond {
					t.Errorf("answered after %v, want at least the added 150ms", r.headersAt)
				}
			},
		},
		{
			name: "hang", timeout: 300 * time.Millisecond,
			fault: scenarios.Fault{Kind: scenarios.FaultHang},
			check: func(t *testing.T, r result) {
				var ne net.Error
				if !errors.As(r.err, &ne) || !ne.Timeout() {
					t.Errorf("got %v, want the client's timeout", r.err)
				}
			},
		},
		{
			name: "http_error_500", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 500},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 500)
				if e := errorBody(t, r.body); e.Type != typeServer || e.Message == "" {
					t.Errorf("error %+v", e)
				}
				if v := r.resp.Header.Get("Retry-After"); v != "" {
					t.Errorf("a 500 carries Retry-After %q", v)
				}
			},
		},
		{
			name: "http_error_502", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 502},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 502)
				if e := errorBody(t, r.body); e.Type != typeServer {
					t.Errorf("error %+v", e)
				}
			},
		},
		{
			name: "http_error_503", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 503, RetryAfter: sd(1500 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 503)
				wantHeaders(t, r.resp.Header, "Retry-After", "2", "Retry-After-Ms", "1500")
			},
		},
		{
			name: "rate_limit", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultRateLimit, RetryAfter: sd(2500 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 429)
				wantHeaders(t, r.resp.Header,
					"Retry-After", "3", "Retry-After-Ms", "2500",
					"X-Ratelimit-Limit-Requests", "500", "X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "2.5s",
					"X-Ratelimit-Limit-Tokens", "200000", "X-Ratelimit-Reset-Tokens", "2.5s")
				if r.resp.Header.Get("X-Ratelimit-Remaining-Tokens") == "" {
					t.Error("no x-ratelimit-remaining-tokens")
				}
				e := errorBody(t, r.body)
				if e.Type != "requests" || e.Code == nil || *e.Code != "rate_limit_exceeded" || !strings.Contains(e.Message, "Please try again in 2.5s") {
					t.Errorf("error %+v", e)
				}
			},
		},
		{
			name: "overloaded", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultOverloaded, RetryAfter: sd(time.Second)},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 529)
				wantHeaders(t, r.resp.Header, "Retry-After", "1", "X-Should-Retry", "true", "Content-Type", "application/json")
				want := `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`
				if got := strings.TrimSpace(string(r.body)); got != want {
					t.Errorf("body %s, want %s", got, want)
				}
			},
		},
		{
			name:  "reset",
			fault: scenarios.Fault{Kind: scenarios.FaultReset},
			check: func(t *testing.T, r result) {
				if !errors.Is(r.err, syscall.ECONNRESET) {
					t.Errorf("got %v, want connection reset by peer", r.err)
				}
			},
		},
		{
			name: "slow_headers", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultSlowHeaders, Latency: fixed(150 * time.Millisecond)},
			check: func(t *testing.T, r result) {
				wantOK(t, r)
				if r.headersAt < 150*time.Millisecond {
					t.Errorf("headers after %v, want at least 150ms", r.headersAt)
				}
			},
		},
		{
			name: "stream_stall", stream: true, reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultStreamStall, Latency: fixed(stall)},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if r.err != nil || len(r.events) < 4 || r.events[len(r.events)-1].data != openaichat.StreamDone {
					t.Fatalf("err %v, events %v", r.err, r.events)
				}
				// The stall holds back what follows the first delta (events[0]
				// is the role chunk). Only this bound holds however late the
				// client reads; stream_stall_forever shows where the stall is.
				if r.events[2].at < stall {
					t.Errorf("the second delta came %v after the request, want at least the %v stall", r.events[2].at, stall)
				}
			},
		},
		{
			name: "stream_stall_json", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultStreamStall, Latency: fixed(stall)},
			check: func(t *testing.T, r result) {
				wantOK(t, r)
				if r.doneAt < stall {
					t.Errorf("body done after %v, want at least the %v stall", r.doneAt, stall)
				}
			},
		},
		{
			name: "stream_stall_forever", stream: true, timeout: time.Second,
			fault: scenarios.Fault{Kind: scenarios.FaultStreamStall},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if r.err == nil || len(r.events) != 2 {
					t.Errorf("err %v, events %v; want a timeout after the role chunk and one delta", r.err, r.events)
				}
			},
		},
		{
			name: "stream_stall_forever_json", timeout: time.Second,
			fault: scenarios.Fault{Kind: scenarios.FaultStreamStall},
			check: func(t *testing.T, r result) {
				// The headers came; the body never does.
				wantStatus(t, r, 200)
				var ne net.Error
				if !errors.As(r.err, &ne) || !ne.Timeout() || len(r.body) != 0 {
					t.Errorf("err %v after %d bytes; want a timeout reading the body", r.err, len(r.body))
				}
			},
		},
		{
			name: "stream_cut", stream: true,
			fault: scenarios.Fault{Kind: scenarios.FaultStreamCut, AfterChunks: 2},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if !errors.Is(r.err, io.ErrUnexpectedEOF) {
					t.Errorf("got %v, want an unexpected EOF", r.err)
				}
				if len(r.events) != 3 {
					t.Errorf("%d events before the cut, want the role chunk and 2 deltas: %v", len(r.events), r.events)
				}
				if strings.Contains(string(r.body), "[DONE]") || strings.Contains(string(r.body), "finish_reason\":\"") {
					t.Errorf("a cut stream finished: %s", r.body)
				}
			},
		},
		{
			name:  "stream_cut_json",
			fault: scenarios.Fault{Kind: scenarios.FaultStreamCut},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if !errors.Is(r.err, io.ErrUnexpectedEOF) || len(r.body) == 0 {
					t.Errorf("got %v after %d bytes, want an unexpected EOF after a few", r.err, len(r.body))
				}
			},
		},
		{
			name: "malformed", reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultMalformed},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if r.err != nil || len(r.body) == 0 || json.Valid(r.body) {
					t.Errorf("err %v, body %q: want a whole body that is not JSON", r.err, r.body)
				}
			},
		},
		{
			name: "malformed_stream", stream: true, reuse: true,
			fault: scenarios.Fault{Kind: scenarios.FaultMalformed},
			check: func(t *testing.T, r result) {
				wantStatus(t, r, 200)
				if r.err != nil || len(r.events) != 3 || r.events[2].data != openaichat.StreamDone {
					t.Fatalf("err %v, events %v", r.err, r.events)
				}
				if !json.Valid([]byte(r.events[0].data)) || json.Valid([]byte(r.events[1].data)) {
					t.Errorf("events %v: want the role chunk, then data that is not JSON", r.events)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := c.fault
			f.Target = "provider:primary"
			s, base, conns := countingMock(t, faultScenario(f))
			timeout := c.timeout
			if timeout == 0 {
				timeout = 20 * time.Second
			}
			client := newClient(timeout)
			defer client.CloseIdleConnections()

			r := send(client, base+primaryChat, firstTurn(testModel, c.stream, c.stream))
			c.check(t, r)

			// The backup provider has no fault: its answer shows whether the
			// faulty response left the connection reusable.
			next := send(newClientSharing(client), base+"/providers/backup/v1/chat/completions", firstTurn(testBackupModel, false, false))
			wantOK(t, next)
			want := int64(2)
			if c.reuse {
				want = 1
			}
			if n := conns.Load(); n != want {
				t.Errorf("%d connections for two requests, want %d (reuse %v)", n, want, c.reuse)
			}
			waitFor(t, func() bool { return s.waiting.Load() == 0 })
		})
	}
}

// newClientSharing is a client with c's transport (and so its idle
// connections) and a generous timeout.
func newClientSharing(c *http.Client) *http.Client {
	return &http.Client{Transport: c.Transport, Timeout: 20 * time.Second}
}

func wantStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.resp == nil {
		t.Fatalf("no response: %v", r.err)
	}
	if r.resp.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", r.resp.StatusCode, status, r.body)
	}
}

// wantOK checks a whole, valid completion.
func wantOK(t *testing.T, r result) {
	t.Helper()
	wantStatus(t, r, 200)
	var resp openaichat.Response
	if r.err != nil || json.Unmarshal(r.body, &resp) != nil || len(resp.Choices) != 1 {
		t.Fatalf("err %v, body %q: want a completion", r.err, r.body)
	}
}

func wantHeaders(t *testing.T, h http.Header, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if got := h.Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s: %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

func TestLatencyFaultComposes(t *testing.T) {
	// A latency fault adds its delay and lets the next fault apply.
	_, base, _ := countingMock(t, faultScenario(
		scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultLatency, Latency: fixed(120 * time.Millisecond)},
		scenarios.Fault{Target: "model:" + testModel, Kind: scenarios.FaultHTTPError, Status: 502},
		scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHang}, // never reached: the 502 fired first
	))
	r := send(newClient(20*time.Second), base+primaryChat, firstTurn(testModel, false, false))
	wantStatus(t, r, 502)
	if r.headersAt < 120*time.Millisecond {
		t.Errorf("502 after %v, want after the 120ms latency fault", r.headersAt)
	}
}

func TestFaultTargets(t *testing.T) {
	_, base, _ := countingMock(t, faultScenario(
		// Another model's requests go to the first provider, backup: this
		// fault comes first so that it wins over backup's own.
		scenarios.Fault{Target: "model:some-other-model", Kind: scenarios.FaultHTTPError, Status: 500},
		scenarios.Fault{Target: "model:" + testBackupModel, Kind: scenarios.FaultHTTPError, Status: 503},
	))
	c := newClient(20 * time.Second)
	for _, tc := range []struct {
		path, model string
		status      int
	}{
		{primaryChat, testModel, 200},
		// model: matches the serving provider's model...
		{"/providers/backup/v1/chat/completions", testBackupModel, 503},
		{"/v1/chat/completions", testBackupModel, 503},
		// ...or the model the request asked for.
		{"/v1/chat/completions", "some-other-model", 500},
		{"/v1/chat/completions", testModel, 200},
	} {
		r := send(c, base+tc.path, firstTurn(tc.model, false, false))
		if r.resp == nil || r.resp.StatusCode != tc.status {
			t.Errorf("%s model %s: %v %v, want %d", tc.path, tc.model, r.resp, r.err, tc.status)
		}
	}
}

func TestFaultWindows(t *testing.T) {
	s, base, _ := countingMock(t, faultScenario(
		scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 500, From: sd(10 * time.Second), For: sd(5 * time.Second)},
		scenarios.Fault{Target: "provider:backup", Kind: scenarios.FaultHTTPError, Status: 502, From: sd(time.Minute)},
	))
	c := newClient(20 * time.Second)
	status := func(provider, model string) int {
		r := send(c, base+"/providers/"+provider+"/v1/chat/completions", firstTurn(model, false, false))
		if r.resp == nil {
			t.Fatalf("%s: %v", provider, r.err)
		}
		return r.resp.StatusCode
	}
	now := time.Now()
	for _, tc := range []struct {
		elapsed         time.Duration
		primary, backup int
	}{
		{-time.Hour, 200, 200}, // the run has not started
		{0, 200, 200},
		{9 * time.Second, 200, 200},
		{11 * time.Second, 500, 200},
		{16 * time.Second, 200, 200}, // the window closed at 15s
		{61 * time.Second, 200, 502}, // open-ended from 1m
		{10 * time.Hour, 200, 502},
	} {
		s.SetEpoch(now.Add(-tc.elapsed))
		if p, b := status("primary", testModel), status("backup", testBackupModel); p != tc.primary || b != tc.backup {
			t.Errorf("at %v: primary %d backup %d, want %d %d", tc.elapsed, p, b, tc.primary, tc.backup)
		}
	}
}

// chatStatus serves one request through the handler, without the network,
// and returns its status.
func chatStatus(h http.Handler, body string, hdr ...string) int {
	req := httptest.NewRequest(http.MethodPost, primaryChat, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Code
}

func TestFaultProbability(t *testing.T) {
	const n = 2000
	sc := faultScenario(scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 500, Probability: prob(0.3)})
	body := firstTurn(testModel, false, false)
	decisions := func(seed int64, attempt string) []bool {
		s, err := New(sc, WithSeed(seed))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		out := make([]bool, n)
		for i := range out {
			hdr := []string{HeaderSeq, strconv.Itoa(i), HeaderStep, "0"}
			if attempt != "" {
				hdr = append(hdr, HeaderAttempt, attempt)
			}
			out[i] = chatStatus(s.Handler(), body, hdr...) == 500
		}
		return out
	}
	share := func(xs []bool) float64 {
		k := 0
		for _, x := range xs {
			if x {
				k++
			}
		}
		return float64(k) / float64(len(xs))
	}
	same := func(a, b []bool) int {
		k := 0
		for i := range a {
			if a[i] == b[i] {
				k++
			}
		}
		return k
	}

	a := decisions(7, "1")
	if p := share(a); p < 0.25 || p > 0.35 {
		t.Errorf("fault fired on %.3f of requests, want 0.3 ± 0.05", p)
	}
	if b := decisions(7, "1"); same(a, b) != n {
		t.Errorf("same seed and headers: %d of %d decisions agree, want all", same(a, b), n)
	}
	// Another seed, or a retry (attempt 2), draws again: about 0.3² + 0.7²
	// = 58% of decisions agree by chance, far from all.
	if c := decisions(8, "1"); same(a, c) > n*7/10 {
		t.Errorf("another seed: %d of %d decisions agree", same(a, c), n)
	}
	if r := decisions(7, "2"); same(a, r) > n*7/10 {
		t.Errorf("attempt 2: %d of %d decisions agree with attempt 1", same(a, r), n)
	}

	// Without the headers, the shared seeded RNG draws.
	s, err := New(sc, WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	k := 0
	for range n {
		if chatStatus(s.Handler(), body) == 500 {
			k++
		}
	}
	if p := float64(k) / n; p < 0.25 || p > 0.35 {
		t.Errorf("without headers the fault fired on %.3f of requests, want 0.3 ± 0.05", p)
	}
}

func TestHangEndsOnClose(t *testing.T) {
	s, base := startMock(t, faultScenario(scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHang}))
	done := make(chan result, 1)
	go func() { done <- send(newClient(20*time.Second), base+primaryChat, firstTurn(testModel, false, false)) }()
	waitFor(t, func() bool { return s.waiting.Load() == 1 })
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case r := <-done:
		if r.resp != nil && r.resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("a hang ended by Close answered %d", r.resp.StatusCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hanging request outlived Close")
	}
}

func TestNewRejectsBadFaults(t *testing.T) {
	for _, tc := range []struct {
		fault scenarios.Fault
		want  string
	}{
		{scenarios.Fault{Target: "provider:nope", Kind: scenarios.FaultHang}, `faults[0].target: provider "nope"`},
		{scenarios.Fault{Target: "tool:get_weather", Kind: scenarios.FaultOverloaded}, "faults[0].kind: overloaded does not apply"},
		{scenarios.Fault{Target: "provider:primary", Kind: "explode"}, `faults[0].kind: unknown kind "explode"`},
		{scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 404}, "faults[0].status"},
		{scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHang, Probability: prob(1.5)}, "faults[0].probability"},
		{scenarios.Fault{Target: "primary", Kind: scenarios.FaultHang}, "faults[0].target"},
	} {
		_, err := New(faultScenario(tc.fault))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.fault, err, tc.want)
		}
	}
	// A fault on a provider the mock does not serve is left out, not an error.
	s, err := New(faultScenario(scenarios.Fault{Target: "provider:real", Kind: scenarios.FaultHang}))
	if err != nil {
		t.Fatalf("fault on a real provider: %v", err)
	}
	defer s.Close()
	if n := len(s.Faults()); n != 0 {
		t.Errorf("%d faults kept, want 0", n)
	}
}
