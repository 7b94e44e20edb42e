package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// TestDialectsClassifyMockFaults runs one step of each dialect against the
// mock's faults: every dialect's failures come out in the same outcome
// classes as OpenAI's.
func TestDialectsClassifyMockFaults(t *testing.T) {
	ms := func(d time.Duration) scenarios.Latency {
		return scenarios.Latency{Dist: scenarios.DistFixed, Value: sd(d)}
	}
	for _, api := range []string{scenarios.APIAnthropic, scenarios.APIGemini} {
		overloaded := 529
		if api == scenarios.APIGemini {
			overloaded = 503
		}
		for _, tc := range []struct {
			kind   string
			stream bool
			f      scenarios.Fault
			want   string
			status int
			errHas string
		}{
			{kind: "rate_limit", f: scenarios.Fault{Kind: scenarios.FaultRateLimit, RetryAfter: sd(2 * time.Second)}, want: record.Outcome429, status: 429},
			{kind: "overloaded", f: scenarios.Fault{Kind: scenarios.FaultOverloaded}, want: record.Outcome5xx, status: overloaded, errHas: "verloaded"},
			{kind: "http_error 500", f: scenarios.Fault{Kind: scenarios.FaultHTTPError, Status: 500}, want: record.Outcome5xx, status: 500},
			{kind: "malformed", f: scenarios.Fault{Kind: scenarios.FaultMalformed}, want: record.OutcomeProtocol, status: 200},
			{kind: "malformed stream", stream: true, f: scenarios.Fault{Kind: scenarios.FaultMalformed}, want: record.OutcomeProtocol, status: 200},
			{kind: "stream_stall", stream: true, f: scenarios.Fault{Kind: scenarios.FaultStreamStall, Latency: ms(5 * time.Second)}, want: record.OutcomeTimeout, status: 200, errHas: "idle"},
			{kind: "stream_cut", stream: true, f: scenarios.Fault{Kind: scenarios.FaultStreamCut}, want: record.OutcomeProtocol, status: 200},
			{kind: "latency", stream: true, f: scenarios.Fault{Kind: scenarios.FaultLatency, Latency: ms(10 * time.Millisecond)}, want: record.OutcomeOK, status: 200},
		} {
			t.Run(api+"/"+tc.kind, func(t *testing.T) {
				tc.f.Target = "provider:primary"
				sc := fixture.Faults(tc.stream, tc.f)
				_, base := fixture.StartFaultMock(t, sc)
				d, _ := dialectFor(api)
				client := &scenarios.Client{Timeout: sd(600 * time.Millisecond), Stream: scenarios.StreamTimeouts{Idle: sd(200 * time.Millisecond)},
					Retry: &scenarios.Retry{MaxAttempts: 1}}
				c := newPolicyClient(t, fixture.HTTPClient(t), client,
					testProvider{name: "primary", url: base + "/providers/primary" + d.basePath(), stream: tc.stream, api: api})
				r := c.Do(context.Background(), 1, 0, fixture.Msgs, &fixture.Sink{})
				if r.Outcome != tc.want || r.Status != tc.status || !strings.Contains(r.Err, tc.errHas) {
					t.Fatalf("outcome %s status %d err %q, want %s %d %q", r.Outcome, r.Status, r.Err, tc.want, tc.status, tc.errHas)
				}
				if tc.want == record.OutcomeOK && (r.Msg.Text() != "hello there, how are you today?" || r.Finish != openaichat.FinishStop) {
					t.Fatalf("answer %q finish %q", r.Msg.Text(), r.Finish)
				}
			})
		}
	}
}

// TestGeminiRetryDelayHonoured retries a Gemini 429: the wait comes from
// the body's RetryInfo, since Gemini sends no Retry-After.
func TestGeminiRetryDelayHonoured(t *testing.T) {
	sc := fixture.Faults(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit,
		For: sd(300 * time.Millisecond), RetryAfter: sd(400 * time.Millisecond)})
	_, base := fixture.StartFaultMock(t, sc)
	c := newPolicyClient(t, fixture.HTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: fixture.QuickRetry()},
		testProvider{name: "primary", url: base + "/providers/primary/v1beta", api: scenarios.APIGemini})
	sink := &fixture.Sink{}
	r := c.Do(context.Background(), 1, 0, fixture.Msgs, sink)
	if r.Outcome != record.OutcomeOK {
		t.Fatalf("step %s: %s", r.Outcome, r.Err)
	}
	attempts := sink.Attempts()
	if len(attempts) != 2 || attempts[0].Status != 429 || !strings.Contains(attempts[0].Error, "RESOURCE_EXHAUSTED") {
		t.Fatalf("attempts %+v", attempts)
	}
	end1 := attempts[0].Start.Add(time.Duration(attempts[0].LatencyUS) * time.Microsecond)
	if gap := attempts[1].Start.Sub(end1); gap < 400*time.Millisecond {
		t.Fatalf("gap %v, the 429's retryDelay said 0.400s", gap)
	}
}

// TestFallbackAcrossDialects falls back from an OpenAI provider that is
// down to an Anthropic one and a Gemini one: the conversation is written
// anew in the fallback's dialect.
func TestFallbackAcrossDialects(t *testing.T) {
	for _, api := range []string{scenarios.APIAnthropic, scenarios.APIGemini} {
		t.Run(api, func(t *testing.T) {
			sc := fixture.Faults(true, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503})
			sc.Providers["secondary"].API, sc.Providers["secondary"].Model = api, fixture.Models[api]
			_, base := fixture.StartFaultMock(t, sc)
			d, _ := dialectFor(api)
			client := &scenarios.Client{Timeout: sd(5 * time.Second), Retry: &scenarios.Retry{MaxAttempts: 1},
				Fallback: []scenarios.FallbackStep{{Provider: "secondary"}}}
			c := newPolicyClient(t, fixture.HTTPClient(t), client,
				testProvider{name: "primary", url: base + "/providers/primary/v1", stream: true},
				testProvider{name: "secondary", url: base + "/providers/secondary" + d.basePath(), stream: true, api: api})
			sink := &fixture.Sink{}
			r := c.Do(context.Background(), 1, 0, fixture.Msgs, sink)
			if r.Outcome != record.OutcomeOK || r.Provider != "secondary" || r.Msg.Text() != "hello there, how are you today?" {
				t.Fatalf("step %s by %q: %s %q", r.Outcome, r.Provider, r.Err, r.Msg.Text())
			}
			attempts := sink.Attempts()
			if len(attempts) != 2 || attempts[0].Status != 503 || attempts[1].Key != "model:secondary/test-model" || attempts[1].Outcome != record.OutcomeOK {
				t.Fatalf("attempts %+v", attempts)
			}
		})
	}
}

// TestGeminiParameters checks the translation of MCP inputSchemas into
// Gemini's Schema.
func TestGeminiParameters(t *testing.T) {
	for _, tc := range []struct {
		name   string
		schema map[string]any
		want   string
	}{
		{"none", nil, ""},
		{"no properties", map[string]any{"type": "object"}, ""},
		{"unknown keywords", map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": false,
			"properties": map[string]any{"q": map[string]any{"type": "string", "minLength": 1, "$comment": "x"}},
			"required":   []any{"q"},
		}, `{"properties":{"q":{"minLength":1,"type":"string"}},"required":["q"],"type":"object"}`},
		{"nullable and const", map[string]any{"type": "object", "properties": map[string]any{
			"a": map[string]any{"type": []any{"string", "null"}},
			"b": map[string]any{"const": "x"},
			"c": map[string]any{"type": "integer", "enum": []any{1, 2}},
			"d": map[string]any{"type": "array", "items": map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}},
		}}, `{"properties":{"a":{"nullable":true,"type":"string"},"b":{"enum":["x"]},"c":{"type":"integer"},"d":{"items":{"anyOf":[{"type":"string"},{"type":"number"}]},"type":"array"}},"type":"object"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := scenarios.GeminiParameters(&scenarios.Tool{Name: "t", InputSchema: tc.schema})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if got != nil {
					t.Fatalf("parameters %s, want none", got)
				}
				return
			}
			if !reflect.DeepEqual(fixture.Normalise(t, got), fixture.Normalise(t, json.RawMessage(tc.want))) {
				t.Fatalf("parameters %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestToolChoiceDialects sends tool_choice and parallel_tool_calls in
// each dialect's words.
func TestToolChoiceDialects(t *testing.T) {
	no := false
	for _, tc := range []struct {
		api, choice string
		parallel    *bool
		want        string // the request's tool choice, as JSON
	}{
		{scenarios.APIOpenAI, "required", &no, `{"tool_choice":"required","parallel_tool_calls":false}`},
		{scenarios.APIOpenAI, "search", nil, `{"tool_choice":{"type":"function","function":{"name":"search"}}}`},
		{scenarios.APIAnthropic, "", &no, `{"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`},
		{scenarios.APIAnthropic, "required", nil, `{"tool_choice":{"type":"any"}}`},
		{scenarios.APIAnthropic, "search", &no, `{"tool_choice":{"type":"tool","name":"search","disable_parallel_tool_use":true}}`},
		{scenarios.APIAnthropic, "none", &no, `{"tool_choice":{"type":"none"}}`},
		{scenarios.APIGemini, "none", &no, `{"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`},
		{scenarios.APIGemini, "search", nil, `{"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["search"]}}}`},
		{scenarios.APIOpenAI, "auto", nil, `{}`},
	} {
		sc := fixture.Conversation()
		p := sc.Providers["primary"]
		p.API, p.Model, p.ToolChoice, p.ParallelToolCalls = tc.api, fixture.Models[tc.api], tc.choice, tc.parallel
		d, _ := dialectFor(tc.api)
		prefix, err := d.prefix(p, sc.Tools)
		if err != nil {
			t.Fatal(err)
		}
		body := d.appendBody(prefix, fixture.Msgs)
		var got map[string]any
		fixture.MustUnmarshal(t, body, &got)
		want := fixture.Normalise(t, json.RawMessage(tc.want)).(map[string]any)
		for _, k := range []string{"tool_choice", "parallel_tool_calls", "toolConfig"} {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s %q parallel %v: %s = %v, want %v", tc.api, tc.choice, tc.parallel, k, got[k], want[k])
			}
		}
	}
}

// TestToolsBytesMatchDialects holds scenarios.ToolsBytes, which the report
// prices tool schemas with, to the bytes each dialect puts in a request.
func TestToolsBytesMatchDialects(t *testing.T) {
	tools := []*scenarios.Tool{
		{Name: "a", Description: "tool a", InputSchema: map[string]any{
			"type": "object", "$schema": "https://json-schema.org/draft/2020-12/schema", "additionalProperties": false,
			"required": []any{"x"},
			"properties": map[string]any{
				"x": map[string]any{"type": []any{"string", "null"}, "description": "an x"},
				"k": map[string]any{"const": "v"},
				"n": map[string]any{"type": "integer", "enum": []any{1, 2}},
				"l": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{"z": map[string]any{"type": []any{"string", "number"}}}}},
				"o": map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "boolean"}}},
			},
		}},
		{Name: "b", Description: "no schema"},
		{Name: "c", InputSchema: map[string]any{"type": "object", "properties": map[string]any{}}},
	}
	got, err := scenarios.ToolsBytes(tools)
	if err != nil {
		t.Fatal(err)
	}
	p := &scenarios.Provider{Model: "m"}
	for _, api := range scenarios.APIs() {
		d, err := dialectFor(api)
		if err != nil {
			t.Fatal(err)
		}
		prefix, err := d.prefix(p, tools)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(prefix, []byte(`"tools":`))
		if i < 0 {
			t.Fatalf("%s: no tools in %s", api, prefix)
		}
		var raw json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(prefix[i+len(`"tools":`):])).Decode(&raw); err != nil {
			t.Fatalf("%s: %v", api, err)
		}
		if got[api] != len(raw) {
			t.Errorf("%s: ToolsBytes %d, the request carries %d: %s", api, got[api], len(raw), raw)
		}
	}
}

// TestMaxTokensDialects: provider.max_tokens goes out in each API's field,
// nothing is sent when it is unset except Anthropic's required default.
func TestMaxTokensDialects(t *testing.T) {
	for _, tc := range []struct {
		api       string
		maxTokens int
		path      []string
		want      any // nil: absent
	}{
		{scenarios.APIOpenAI, 256, []string{"max_completion_tokens"}, 256.0},
		{scenarios.APIOpenAI, 0, []string{"max_completion_tokens"}, nil},
		{scenarios.APIAnthropic, 256, []string{"max_tokens"}, 256.0},
		{scenarios.APIAnthropic, 0, []string{"max_tokens"}, float64(scenarios.DefaultAnthropicMaxTokens)},
		{scenarios.APIGemini, 256, []string{"generationConfig", "maxOutputTokens"}, 256.0},
		{scenarios.APIGemini, 0, []string{"generationConfig"}, nil},
	} {
		sc := fixture.Conversation()
		p := sc.Providers["primary"]
		p.API, p.Model, p.MaxTokens = tc.api, fixture.Models[tc.api], tc.maxTokens
		d, _ := dialectFor(tc.api)
		prefix, err := d.prefix(p, sc.Tools)
		if err != nil {
			t.Fatal(err)
		}
		var got any
		fixture.MustUnmarshal(t, d.appendBody(prefix, fixture.Msgs), &got)
		for _, k := range tc.path {
			m, _ := got.(map[string]any)
			got = m[k]
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s max_tokens %d: %v = %v, want %v", tc.api, tc.maxTokens, tc.path, got, tc.want)
		}
	}
}
