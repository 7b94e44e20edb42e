package llm

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

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
