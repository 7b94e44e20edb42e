package llm

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// testSink is a Sink that keeps everything it is given.
type testSink struct {
	mu       sync.Mutex
	attempts []record.Attempt
	events   []record.Event
}

func (s *testSink) Attempt(a *record.Attempt) {
	s.mu.Lock()
	s.attempts = append(s.attempts, *a)
	s.mu.Unlock()
}

func (s *testSink) Event(e *record.Event) {
	s.mu.Lock()
	s.events = append(s.events, *e)
	s.mu.Unlock()
}

// snapshot returns the attempts so far.
func (s *testSink) snapshot() []record.Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Attempt(nil), s.attempts...)
}

// eventsSnapshot returns the events so far.
func (s *testSink) eventsSnapshot() []record.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Event(nil), s.events...)
}

// nopSink discards everything, so that benchmarks measure the client.
type nopSink struct{}

func (nopSink) Attempt(*record.Attempt) {}
func (nopSink) Event(*record.Event)     {}

// testRedactor replaces its keys by [REDACTED] (the attacker's redactor
// does more; these tests need no more).
type testRedactor []string

func (r testRedactor) Redact(s string) string {
	for _, k := range r {
		if k != "" {
			s = strings.ReplaceAll(s, k, "[REDACTED]")
		}
	}
	return s
}

func (r testRedactor) Clip(s string) string {
	s = r.Redact(s)
	if len(s) > 320 {
		s = s[:320]
	}
	return s
}

// newTestClient returns a client, without policies, for the provider at
// url.
func newTestClient(t testing.TB, hc *http.Client, url string, stream bool, timeout time.Duration, key string) *Client {
	t.Helper()
	return newPolicyClient(t, hc, &scenarios.Client{Timeout: scenarios.Duration(timeout)},
		testProvider{name: "primary", url: url, stream: stream, key: key})
}

// testProvider is a provider for newPolicyClient.
type testProvider struct {
	name, url, key string
	stream         bool
	// api is the dialect, "" for openai.
	api string
}

// newPolicyClient returns a client with the policies of c, whose primary
// is the first provider and whose fallback steps may use the others
// (c.Fallback must name them). Each url is the API's base URL.
func newPolicyClient(t testing.TB, hc *http.Client, c *scenarios.Client, provs ...testProvider) *Client {
	t.Helper()
	tools := fixture.Conversation().Tools
	var rd testRedactor
	for _, p := range provs {
		rd = append(rd, p.key)
	}
	attempts := map[string]*Attempt{}
	for _, p := range provs {
		// As the mock: a key-less provider still gets its dialect's key
		// headers, as the mock does.
		sp := &scenarios.Provider{API: p.api, BaseURL: scenarios.MockURL, Model: "test-model", Stream: p.stream}
		ep, err := NewEndpoint(p.name, sp, p.url, p.key, tools, nil)
		if err != nil {
			t.Fatal(err)
		}
		attempts[p.name] = NewAttempt(hc, ep, rd, Options{
			Timeout: c.Timeout.D(), TTFT: c.Stream.TTFT.D(), Idle: c.Stream.Idle.D(), Total: c.Stream.Total.D(),
		})
	}
	cc, err := NewClient(c, 7, provs[0].name, attempts, rd)
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// countAttempts returns how many attempts have kind and key.
func (s *testSink) countAttempts(kind, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.attempts {
		if a.Kind == kind && a.Key == key {
			n++
		}
	}
	return n
}
