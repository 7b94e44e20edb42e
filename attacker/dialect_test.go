package attacker

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// dialectModels is a plausible model of each dialect.
var dialectModels = fixture.Models

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

func mustUnmarshal(t *testing.T, b []byte, v any) { t.Helper(); fixture.MustUnmarshal(t, b, v) }

// normalise turns a value into plain JSON values (through JSON).
func normalise(t *testing.T, v any) any { t.Helper(); return fixture.Normalise(t, v) }

// TestToolChoiceSerial runs a conversation with parallel calls forbidden:
// the mock's calls then come one per model step.
func TestToolChoiceSerial(t *testing.T) {
	no := false
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
