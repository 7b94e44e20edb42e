package scenarios

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// base is a small valid scenario. Tests edit it with edit and expect errors
// at exact positions, so its layout matters: line numbers are in comments.
const base = `version: 1
name: t
providers:
  p:
    base_url: mock
    model: m
    mock:
      latency: {dist: lognormal, p50: 60ms, p99: 250ms}
mcp_servers:
  s:
    url: mock
tools:
  - name: get_weather
    inputSchema:
      type: object
      properties:
        location: {type: string}
      required: [location]
    mock:
      latency: {dist: uniform, min: 5ms, max: 30ms}
  - name: search_docs
    inputSchema: {type: object, properties: {query: {type: string}}}
conversation:
  provider: p
  turns:
    - user: hi
      model:
        - tool_calls:
            - name: get_weather
              arguments: {location: Hanoi}
            - name: search_docs
        - content: done
load:
  stages:
    - {rate: 20, duration: 1s}
    - {rate: 50/1s, duration: 2s, ramp: 1s}
client:
  timeout: 5s
`

// edit applies replacements (old, new, old, new...) to base; each old must
// occur exactly once, so that a test cannot silently edit nothing.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	return editFrom(t, base, pairs...)
}

// editFrom is edit on the scenario s.
func editFrom(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("edit: %q occurs %d times in the scenario, want once", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// parseErrors parses src and returns its Errors, failing when it parses.
func parseErrors(t *testing.T, src string) Errors {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err == nil {
		t.Fatalf("Parse succeeded, want errors; scenario: %+v", s)
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error is %T (%v), want Errors", err, err)
	}
	if s != nil {
		t.Errorf("Parse returned a scenario with errors")
	}
	return es
}

// mustParse parses src and fails the test on error.
func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// want is an expected error: "line:col field" and a piece of the message.
type want struct {
	at, field, msg string
}

// checkErrors asserts that es are exactly ws, in order.
func checkErrors(t *testing.T, es Errors, ws ...want) {
	t.Helper()
	ok := len(es) == len(ws)
	for i := 0; ok && i < len(ws); i++ {
		e, w := es[i], ws[i]
		at := itoa(e.Line) + ":" + itoa(e.Column)
		if at != w.at || e.Field != w.field || !strings.Contains(e.Msg, w.msg) || e.File != "t.yaml" {
			ok = false
		}
	}
	if !ok {
		var got strings.Builder
		for _, e := range es {
			got.WriteString("\n  " + e.Error())
		}
		var exp strings.Builder
		for _, w := range ws {
			exp.WriteString("\n  t.yaml:" + w.at + ": " + w.field + ": ..." + w.msg + "...")
		}
		t.Errorf("errors:%s\nwant:%s", got.String(), exp.String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// resilient uses every issue-3 field: rate limits, faults of several
// kinds, a retry preset, and policies with every client policy.
const resilient = `version: 1
name: r
providers:
  primary:
    base_url: mock
    model: gpt-4.1-mini
    mock:
      latency: 45s
      limits: {rpm: 600, tpm: 100000}
  secondary: {base_url: mock, model: claude-x}
mcp_servers: {tools: {url: mock}}
tools:
  - {name: get_weather, inputSchema: {type: object}}
conversation:
  provider: primary
  turns: [{user: hi, model: [{tool_calls: [{name: get_weather}]}, {content: ok}]}]
load:
  stages: [{rate: 10, duration: 20s}]
client:
  timeout: 30s
  retry: {preset: article}
faults:
  - {target: provider:primary, kind: latency, latency: 45s, from: 5s, for: 10s}
  - {target: model:claude-x, kind: rate_limit, retry_after: 2s, probability: 0.25}
  - {target: tool:get_weather, kind: jsonrpc_error, message: boom}
  - {target: provider:primary, kind: stream_cut, name: cut}
  - {target: provider:primary, kind: http_error, status: 503, retry_after: 1500ms, probability: 0}
policies:
  - name: seed
    description: The seed's client, as it was.
    client:
      timeout: 30s
      retry: {preset: seed}
  - name: naive-fast
    client:
      retry: {preset: naive, max_attempts: 5, initial: 10ms, on: [timeout]}
  - name: resilient
    client:
      timeout: 10s
      conversation_timeout: 60s
      stream: {ttft: 5s, idle: 2s, total: 1m}
      retry: {}
      budget: {ratio: 0.1}
      breaker: {failure_rate: 0.5}
      fallback: [{provider: secondary}]
      hedge: {delay: 2s}
      cache: {ttl: 5m}
`
