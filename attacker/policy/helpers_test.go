package policy

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// rtFunc is a RoundTripper made of a function: the fake provider of the
// unit tests.
type rtFunc func(*http.Request) (*http.Response, error)

func (f rtFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// eventSink keeps the events it is given.
type eventSink struct {
	mu     sync.Mutex
	events []record.Event
}

func (s *eventSink) Event(e *record.Event) {
	s.mu.Lock()
	s.events = append(s.events, *e)
	s.mu.Unlock()
}

func (s *eventSink) snapshot() []record.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Event(nil), s.events...)
}

// kinds returns how many events of each kind were sent.
func (s *eventSink) kinds() map[string]int {
	m := map[string]int{}
	for _, e := range s.snapshot() {
		m[e.Kind]++
	}
	return m
}

// response returns a response with status and headers (name, value pairs).
func response(status int, hdr ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader("body"))}
}

// script is a fake provider that answers from a list, one entry per call
// (the last repeats), counting calls and stamping each with the step's
// attempt number.
type script struct {
	calls    atomic.Int32
	answers  []func(*http.Request) (*http.Response, error)
	attempts []int // Step.NextAttempt() of each call
	mu       sync.Mutex
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	i := int(s.calls.Add(1)) - 1
	n := StepFrom(r.Context()).NextAttempt()
	s.mu.Lock()
	s.attempts = append(s.attempts, n)
	s.mu.Unlock()
	return s.answers[min(i, len(s.answers)-1)](r)
}

func status(code int, hdr ...string) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return response(code, hdr...), nil }
}

// timeoutErr is an attempt error with outcome timeout.
type outcomeErr string

func (e outcomeErr) Error() string   { return "attempt failed: " + string(e) }
func (e outcomeErr) Outcome() string { return string(e) }

func fail(outcome string) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, outcomeErr(outcome) }
}

// newStep returns a step with a sink, and a request carrying it.
func newStep(t testing.TB, ctx context.Context) (*Step, *eventSink, *http.Request) {
	t.Helper()
	sink := &eventSink{}
	st := &Step{Conversation: 3, Index: 1, Key: "model:primary", Provider: "primary", Sink: sink, Seed: 42}
	req, err := http.NewRequestWithContext(WithStep(ctx, st), http.MethodPost, "http://127.0.0.1:1/v1/chat/completions", strings.NewReader(`{"model":"m"}`))
	if err != nil {
		t.Fatal(err)
	}
	return st, sink, req
}

func dur(d time.Duration) scenarios.Duration { return scenarios.Duration(d) }

func ptr[T any](v T) *T { return &v }
