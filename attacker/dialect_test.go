package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// dialectModels is a plausible model of each dialect.
var dialectModels = map[string]string{
	scenarios.APIOpenAI:    "gpt-4.1-mini",
	scenarios.APIAnthropic: "claude-sonnet-4-5",
	scenarios.APIGemini:    "gemini-2.5-flash",
}

// bodyRecorder serves h and keeps the body of every model request.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies map[string][][]byte // by path
	hdrs   []http.Header
}

func recordBodies(t *testing.T, h http.Handler) (*bodyRecorder, string) {
	t.Helper()
	rec := &bodyRecorder{bodies: map[string][][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if !strings.HasPrefix(r.URL.Path, "/mcp") {
			rec.mu.Lock()
			rec.bodies[r.URL.Path] = append(rec.bodies[r.URL.Path], b)
			rec.hdrs = append(rec.hdrs, r.Header.Clone())
			rec.mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

func (r *bodyRecorder) get(path string) [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bodies[path]
}

// TestConversationDialects runs the same conversation, tools and script
// through every dialect, JSON and streamed, and checks that what is
// recorded is the same: step and attempt keys, outcomes, tokens; and that
// each request went out in its dialect, with the tools translated.
func TestConversationDialects(t *testing.T) {
	for _, api := range scenarios.APIs() {
		for _, stream := range []bool{false, true} {
			name := api + "/json"
			if stream {
				name = api + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				sc := jobsConversationScenario()
				p := sc.Providers["primary"]
				p.API, p.Model, p.Stream = api, dialectModels[api], stream
				// The first tool fails: its result goes back marked as an error.
				sc.Tools[0].Mock.IsError = true
				m, err := mockprovider.New(sc)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { m.Close() })
				rec, base := recordBodies(t, m.Handler())
				j := jobsNewJob(t, sc, jobConfig{MockURL: base})
				sink := &jobsSink{}

				res := j.Do(context.Background(), 3, 0, sink)
				if res.Outcome != record.OutcomeToolError {
					t.Fatalf("result %+v, want the tool error of get_weather only", res)
				}
				attempts, steps, invalid := sink.snapshot()
				if invalid != 0 || len(steps) != 5 {
					t.Fatalf("%d invalid args, %d steps: %+v", invalid, len(steps), steps)
				}
				for _, i := range []int{0, 4} {
					s := steps[i]
					if s.Kind != record.StepModel || s.Key != "model:primary" || s.Outcome != record.OutcomeOK || stream != (s.TTFT > 0) {
						t.Fatalf("model step %d: %+v", i, s)
					}
				}
				var model []record.Attempt
				for _, a := range attempts {
					if a.Kind == record.StepModel {
						model = append(model, a)
					}
				}
				wantKey := "model:primary/" + dialectModels[api]
				if len(model) != 2 || model[0].Key != wantKey || model[1].Key != wantKey {
					t.Fatalf("model attempts %+v, want key %s", model, wantKey)
				}
				// Tokens as scripted, normalised: prompt includes the cached part.
				if model[0].PromptTokens != 120 || model[0].CompletionTokens != 30 || model[0].CachedTokens != 0 ||
					model[1].PromptTokens != 200 || model[1].CompletionTokens != 25 || model[1].CachedTokens != 64 {
					t.Fatalf("tokens %+v", model)
				}
				if stream != (model[0].TTFTUS > 0) {
					t.Fatalf("attempt TTFT %dµs with stream=%v", model[0].TTFTUS, stream)
				}
				checkDialectRequests(t, api, stream, rec, sc)
			})
		}
	}
}

// checkDialectRequests checks the two model requests of the conversation
// as the API reads them.
func checkDialectRequests(t *testing.T, api string, stream bool, rec *bodyRecorder, sc *scenarios.Scenario) {
	t.Helper()
	schema := normalise(t, sc.Tools[0].InputSchema)
	switch api {
	case scenarios.APIOpenAI:
		bodies := rec.get("/providers/primary/v1/chat/completions")
		if len(bodies) != 2 {
			t.Fatalf("%d requests", len(bodies))
		}
		var req openaichat.Request
		mustUnmarshal(t, bodies[1], &req)
		if req.Stream != stream || len(req.Tools) != 3 || !reflect.DeepEqual(normalise(t, req.Tools[0].Function.Parameters), schema) {
			t.Fatalf("request %s", bodies[1])
		}
		if n := len(req.Messages); n != 6 || req.Messages[2].Role != "assistant" || req.Messages[3].Role != "tool" {
			t.Fatalf("messages %s", bodies[1])
		}
	case scenarios.APIAnthropic:
		bodies := rec.get("/providers/primary/v1/messages")
		if len(bodies) != 2 {
			t.Fatalf("%d requests", len(bodies))
		}
		var req anthropic.Request
		mustUnmarshal(t, bodies[1], &req)
		if req.Model != dialectModels[api] || req.MaxTokens <= 0 || req.Stream != stream || string(req.System) != `"You are a travel assistant."` {
			t.Fatalf("request %s", bodies[1])
		}
		if len(req.Tools) != 3 || req.Tools[0].Name != "get_weather" || !reflect.DeepEqual(normalise(t, req.Tools[0].InputSchema), schema) {
			t.Fatalf("tools %s", bodies[1])
		}
		// user, assistant (tool_use x3), user (tool_result x3).
		if len(req.Messages) != 3 || req.Messages[1].Role != "assistant" || req.Messages[2].Role != "user" {
			t.Fatalf("messages %s", bodies[1])
		}
		var uses, results []anthropic.ContentBlock
		mustUnmarshal(t, req.Messages[1].Content, &uses)
		mustUnmarshal(t, req.Messages[2].Content, &results)
		if len(uses) != 3 || len(results) != 3 {
			t.Fatalf("blocks %s", bodies[1])
		}
		for i := range uses {
			if uses[i].Type != "tool_use" || !strings.HasPrefix(uses[i].ID, "toolu_") || results[i].Type != "tool_result" || results[i].ToolUseID != uses[i].ID {
				t.Fatalf("tool_use %+v answered by %+v", uses[i], results[i])
			}
			if results[i].IsError != (uses[i].Name == "get_weather") {
				t.Fatalf("tool_result of %s: is_error %v", uses[i].Name, results[i].IsError)
			}
		}
		if got := normalise(t, uses[0].Input); !reflect.DeepEqual(got, map[string]any{"city": "Hanoi"}) {
			t.Fatalf("input %v", got)
		}
		for _, h := range rec.hdrs {
			if h.Get("X-Api-Key") == "" || h.Get("Anthropic-Version") != anthropic.Version || h.Get("Authorization") != "" {
				t.Fatalf("headers %v", h)
			}
		}
	case scenarios.APIGemini:
		path := "/providers/primary/v1beta/models/" + dialectModels[api] + ":generateContent"
		if stream {
			path = "/providers/primary/v1beta/models/" + dialectModels[api] + ":streamGenerateContent"
		}
		bodies := rec.get(path)
		if len(bodies) != 2 {
			t.Fatalf("%d requests to %s", len(bodies), path)
		}
		var req gemini.Request
		mustUnmarshal(t, bodies[1], &req)
		if req.SystemInstruction == nil || *req.SystemInstruction.Parts[0].Text != "You are a travel assistant." {
			t.Fatalf("systemInstruction %s", bodies[1])
		}
		if len(req.Tools) != 1 || len(req.Tools[0].FunctionDeclarations) != 3 {
			t.Fatalf("tools %s", bodies[1])
		}
		// Gemini's Schema has no additionalProperties: it is left out.
		want := schema.(map[string]any)
		delete(want, "additionalProperties")
		if got := normalise(t, req.Tools[0].FunctionDeclarations[0].Parameters); !reflect.DeepEqual(got, want) {
			t.Fatalf("parameters %v, want %v", got, want)
		}
		c := req.Contents
		if len(c) != 3 || c[0].Role != "user" || c[1].Role != "model" || c[2].Role != "user" || len(c[1].Parts) != 3 || len(c[2].Parts) != 3 {
			t.Fatalf("contents %s", bodies[1])
		}
		for i := range c[1].Parts {
			call, resp := c[1].Parts[i].FunctionCall, c[2].Parts[i].FunctionResponse
			if call == nil || resp == nil || resp.Name != call.Name || call.ID != "" || resp.ID != "" {
				t.Fatalf("call %+v answered by %+v", call, resp)
			}
			key := "output"
			if call.Name == "get_weather" {
				key = "error"
			}
			if r := normalise(t, resp.Response).(map[string]any); len(r) != 1 || r[key] == nil {
				t.Fatalf("response of %s: %s", call.Name, resp.Response)
			}
		}
		for _, h := range rec.hdrs {
			if h.Get("X-Goog-Api-Key") == "" || h.Get("Authorization") != "" {
				t.Fatalf("headers %v", h)
			}
		}
	}
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// normalise turns a value into plain JSON values (through JSON).
func normalise(t *testing.T, v any) any {
	t.Helper()
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out
}

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
				sc := faultScenario(tc.stream, tc.f)
				_, base := startFaultMock(t, sc)
				d, _ := dialectFor(api)
				client := &scenarios.Client{Timeout: sd(600 * time.Millisecond), Stream: scenarios.StreamTimeouts{Idle: sd(200 * time.Millisecond)},
					Retry: &scenarios.Retry{MaxAttempts: 1}}
				c := jobsPolicyClient(t, jobsHTTPClient(t), client,
					jobsProvider{name: "primary", url: base + "/providers/primary" + d.basePath(), stream: tc.stream, api: api})
				r := c.do(context.Background(), 1, 0, jobsMsgs, &jobsSink{})
				if r.outcome != tc.want || r.status != tc.status || !strings.Contains(r.err, tc.errHas) {
					t.Fatalf("outcome %s status %d err %q, want %s %d %q", r.outcome, r.status, r.err, tc.want, tc.status, tc.errHas)
				}
				if tc.want == record.OutcomeOK && (r.msg.Text() != "hello there, how are you today?" || r.finish != openaichat.FinishStop) {
					t.Fatalf("answer %q finish %q", r.msg.Text(), r.finish)
				}
			})
		}
	}
}

// TestGeminiRetryDelayHonoured retries a Gemini 429: the wait comes from
// the body's RetryInfo, since Gemini sends no Retry-After.
func TestGeminiRetryDelayHonoured(t *testing.T) {
	sc := faultScenario(false, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultRateLimit,
		For: sd(300 * time.Millisecond), RetryAfter: sd(400 * time.Millisecond)})
	_, base := startFaultMock(t, sc)
	c := jobsPolicyClient(t, jobsHTTPClient(t), &scenarios.Client{Timeout: sd(5 * time.Second), Retry: quickRetry()},
		jobsProvider{name: "primary", url: base + "/providers/primary/v1beta", api: scenarios.APIGemini})
	sink := &jobsSink{}
	r := c.do(context.Background(), 1, 0, jobsMsgs, sink)
	if r.outcome != record.OutcomeOK {
		t.Fatalf("step %s: %s", r.outcome, r.err)
	}
	attempts, _, _ := sink.snapshot()
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
			sc := faultScenario(true, scenarios.Fault{Target: "provider:primary", Kind: scenarios.FaultHTTPError, Status: 503})
			sc.Providers["secondary"].API, sc.Providers["secondary"].Model = api, dialectModels[api]
			_, base := startFaultMock(t, sc)
			d, _ := dialectFor(api)
			client := &scenarios.Client{Timeout: sd(5 * time.Second), Retry: &scenarios.Retry{MaxAttempts: 1},
				Fallback: []scenarios.FallbackStep{{Provider: "secondary"}}}
			c := jobsPolicyClient(t, jobsHTTPClient(t), client,
				jobsProvider{name: "primary", url: base + "/providers/primary/v1", stream: true},
				jobsProvider{name: "secondary", url: base + "/providers/secondary" + d.basePath(), stream: true, api: api})
			sink := &jobsSink{}
			r := c.do(context.Background(), 1, 0, jobsMsgs, sink)
			if r.outcome != record.OutcomeOK || r.provider != "secondary" || r.msg.Text() != "hello there, how are you today?" {
				t.Fatalf("step %s by %q: %s %q", r.outcome, r.provider, r.err, r.msg.Text())
			}
			attempts, _, _ := sink.snapshot()
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
			if !reflect.DeepEqual(normalise(t, got), normalise(t, json.RawMessage(tc.want))) {
				t.Fatalf("parameters %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestToolChoiceDialects sends tool_choice and parallel_tool_calls in
// each dialect's words, and runs a conversation with parallel calls
// forbidden: the mock's calls then come one per model step.
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
		sc := jobsConversationScenario()
		p := sc.Providers["primary"]
		p.API, p.Model, p.ToolChoice, p.ParallelToolCalls = tc.api, dialectModels[tc.api], tc.choice, tc.parallel
		d, _ := dialectFor(tc.api)
		prefix, err := d.prefix(p, sc.Tools)
		if err != nil {
			t.Fatal(err)
		}
		body := d.appendBody(prefix, jobsMsgs)
		var got map[string]any
		mustUnmarshal(t, body, &got)
		want := normalise(t, json.RawMessage(tc.want)).(map[string]any)
		for _, k := range []string{"tool_choice", "parallel_tool_calls", "toolConfig"} {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s %q parallel %v: %s = %v, want %v", tc.api, tc.choice, tc.parallel, k, got[k], want[k])
			}
		}
	}

	for _, api := range []string{scenarios.APIOpenAI, scenarios.APIAnthropic} {
		t.Run(api+"/serial", func(t *testing.T) {
			sc := jobsConversationScenario()
			p := sc.Providers["primary"]
			p.API, p.Model, p.ParallelToolCalls = api, dialectModels[api], &no
			base := jobsStartMock(t, sc)
			j := jobsNewJob(t, sc, jobConfig{MockURL: base})
			sink := &jobsSink{}
			if res := j.Do(context.Background(), 1, 0, sink); res.Outcome != record.OutcomeOK {
				t.Fatalf("result %+v", res)
			}
			_, steps, _ := sink.snapshot()
			var kinds []string
			for _, s := range steps {
				kinds = append(kinds, s.Kind)
			}
			// Three calls, one per model step, then the answer.
			want := []string{"model", "tool", "model", "tool", "model", "tool", "model"}
			if !reflect.DeepEqual(kinds, want) {
				t.Fatalf("steps %v, want %v", kinds, want)
			}
		})
	}
}
