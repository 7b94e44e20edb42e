package mockprovider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/genai"

	"github.com/mcpload/mcpload/scenarios"
	wire "github.com/mcpload/mcpload/wire/gemini"
)

const testGemini = "gemini-2.5-flash"

// geminiScenario is testScenario with a Gemini provider, "gemini".
func geminiScenario() *scenarios.Scenario {
	sc := testScenario()
	sc.Providers["gemini"] = &scenarios.Provider{API: scenarios.APIGemini, BaseURL: scenarios.MockURL, Model: testGemini}
	return sc
}

// newGenAI is a Gemini API client of provider at the mock.
func newGenAI(t *testing.T, base, provider string, retry *genai.HTTPRetryOptions) *genai.Client {
	t.Helper()
	c, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:  "test-gemini-key",
		Backend: genai.BackendGeminiAPI,
		HTTPOptions: genai.HTTPOptions{
			BaseURL:      base + "/providers/" + provider + "/",
			RetryOptions: retry,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// geminiConfig is the system prompt and the tools of testScenario.
func geminiConfig(sc *scenarios.Scenario) *genai.GenerateContentConfig {
	var decls []*genai.FunctionDeclaration
	for _, tool := range sc.Tools {
		decls = append(decls, &genai.FunctionDeclaration{Name: tool.Name, Description: tool.Description, ParametersJsonSchema: tool.InputSchema})
	}
	return &genai.GenerateContentConfig{
		SystemInstruction: genai.NewContentFromText(sc.Conversation.System, genai.RoleUser),
		Tools:             []*genai.Tool{{FunctionDeclarations: decls}},
	}
}

// checkFunctionCalls asserts that calls are the first reply of the script.
func checkFunctionCalls(t *testing.T, calls []*genai.FunctionCall) {
	t.Helper()
	want := testScenario().Conversation.Turns[0].Model[0].ToolCalls
	if len(calls) != len(want) {
		t.Fatalf("got %d function calls, want %d", len(calls), len(want))
	}
	for i, w := range want {
		if calls[i].Name != w.Name {
			t.Errorf("call %d: name %q, want %q", i, calls[i].Name, w.Name)
		}
		if got, want := normValue(t, calls[i].Args), normValue(t, w.Arguments); !reflect.DeepEqual(got, want) {
			t.Errorf("call %d: args %v, want %v", i, got, want)
		}
	}
}

// functionResponses answers calls; the second answer is an error.
func functionResponses(calls []*genai.FunctionCall) *genai.Content {
	var parts []*genai.Part
	for i, c := range calls {
		resp := map[string]any{"output": "result " + c.Name}
		if i == 1 {
			resp = map[string]any{"error": "failed"}
		}
		parts = append(parts, genai.NewPartFromFunctionResponse(c.Name, resp))
	}
	return genai.NewContentFromParts(parts, genai.RoleUser)
}

func TestGeminiClientConversation(t *testing.T) {
	sc := geminiScenario()
	_, base, rec := recordingMock(t, sc)
	client := newGenAI(t, base, "gemini", nil)
	ctx := context.Background()
	cfg := geminiConfig(sc)
	contents := []*genai.Content{genai.NewContentFromText(sc.Conversation.Turns[0].User, genai.RoleUser)}

	// Turn 1, reply 1: parallel function calls.
	resp, err := client.Models.GenerateContent(ctx, testGemini, contents, cfg)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	checkFunctionCalls(t, resp.FunctionCalls())
	c := resp.Candidates[0]
	if c.FinishReason != genai.FinishReasonStop || c.Content.Role != genai.RoleModel {
		t.Errorf("finishReason %q role %q", c.FinishReason, c.Content.Role)
	}
	if resp.ModelVersion != testGemini || resp.ResponseID == "" {
		t.Errorf("modelVersion %q responseId %q", resp.ModelVersion, resp.ResponseID)
	}
	u := resp.UsageMetadata
	if u.PromptTokenCount != 120 || u.CandidatesTokenCount != 30 || u.TotalTokenCount != 150 || u.CachedContentTokenCount != 0 {
		t.Errorf("usage %+v, want the scripted 120+30=150", u)
	}

	// The request as the API reads it, and the answer's keys.
	req := rec.last(t)
	if req.path != "/providers/gemini/v1beta/models/"+testGemini+":generateContent" || req.header.Get("X-Goog-Api-Key") != "test-gemini-key" {
		t.Errorf("request %s key %q", req.path, req.header.Get("X-Goog-Api-Key"))
	}
	var sent map[string]any
	if err := json.Unmarshal(req.body, &sent); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"contents", "systemInstruction", "tools"} {
		if sent[k] == nil {
			t.Errorf("request without %s: %s", k, req.body)
		}
	}
	raw := normJSON(t, string(req.response)).(map[string]any)
	if got := sortedKeys(raw); !reflect.DeepEqual(got, []string{"candidates", "modelVersion", "responseId", "usageMetadata"}) {
		t.Errorf("response keys %v", got)
	}
	cand := raw["candidates"].([]any)[0].(map[string]any)
	if got := sortedKeys(cand); !reflect.DeepEqual(got, []string{"content", "finishReason", "index"}) {
		t.Errorf("candidate keys %v", got)
	}
	part := cand["content"].(map[string]any)["parts"].([]any)[0].(map[string]any)
	if got := sortedKeys(part["functionCall"].(map[string]any)); !reflect.DeepEqual(got, []string{"args", "name"}) {
		t.Errorf("functionCall keys %v", got)
	}

	// Send the responses back, one an error: turn 1, reply 2.
	contents = append(contents, c.Content, functionResponses(resp.FunctionCalls()))
	resp, err = client.Models.GenerateContent(ctx, testGemini, contents, cfg)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if resp.Text() != testAnswer || len(resp.FunctionCalls()) != 0 || resp.Candidates[0].FinishReason != genai.FinishReasonStop {
		t.Errorf("final answer %q calls %d", resp.Text(), len(resp.FunctionCalls()))
	}
	u = resp.UsageMetadata
	if u.CachedContentTokenCount != 64 || u.PromptTokenCount < 64 || u.TotalTokenCount != u.PromptTokenCount+u.CandidatesTokenCount {
		t.Errorf("usage %+v, want 64 cached within the prompt", u)
	}

	// Turn 2.
	contents = append(contents, resp.Candidates[0].Content, genai.NewContentFromText("Thanks!", genai.RoleUser))
	resp, err = client.Models.GenerateContent(ctx, testGemini, contents, cfg)
	if err != nil {
		t.Fatalf("third call: %v", err)
	}
	if resp.Text() != testThanks {
		t.Errorf("turn 2: %q, want %q", resp.Text(), testThanks)
	}
}

func TestGeminiClientStreaming(t *testing.T) {
	sc := geminiScenario()
	sc.Providers["gemini"].Mock.TTFT = fixed(time.Millisecond)
	sc.Providers["gemini"].Mock.TokenGap = fixed(100 * time.Microsecond)
	_, base, rec := recordingMock(t, sc)
	client := newGenAI(t, base, "gemini", nil)
	ctx := context.Background()
	cfg := geminiConfig(sc)
	contents := []*genai.Content{genai.NewContentFromText(sc.Conversation.Turns[0].User, genai.RoleUser)}

	run := func() ([]*genai.GenerateContentResponse, *genai.Content) {
		t.Helper()
		var chunks []*genai.GenerateContentResponse
		merged := &genai.Content{Role: genai.RoleModel}
		for resp, err := range client.Models.GenerateContentStream(ctx, testGemini, contents, cfg) {
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			chunks = append(chunks, resp)
			if len(resp.Candidates) > 0 && resp.Candidates[0].Content != nil {
				merged.Parts = append(merged.Parts, resp.Candidates[0].Content.Parts...)
			}
		}
		if len(chunks) == 0 {
			t.Fatal("no chunks")
		}
		return chunks, merged
	}

	chunks, merged := run()
	var calls []*genai.FunctionCall
	for _, p := range merged.Parts {
		if p.FunctionCall != nil {
			calls = append(calls, p.FunctionCall)
		}
	}
	checkFunctionCalls(t, calls)
	last := chunks[len(chunks)-1]
	if last.Candidates[0].FinishReason != genai.FinishReasonStop || last.UsageMetadata == nil || last.UsageMetadata.PromptTokenCount != 120 {
		t.Errorf("last chunk %+v", last)
	}
	for _, c := range chunks[:len(chunks)-1] {
		if c.Candidates[0].FinishReason != "" {
			t.Errorf("finishReason %q before the last chunk", c.Candidates[0].FinishReason)
		}
	}
	// The raw stream: data lines only, CRLF CRLF between events, as
	// Google's servers send; the request asked for alt=sse.
	r := rec.last(t)
	if !strings.HasSuffix(r.path, ":streamGenerateContent") || r.respHeader.Get("Content-Type") != "text/event-stream" {
		t.Errorf("path %s content-type %q", r.path, r.respHeader.Get("Content-Type"))
	}
	body := string(r.response)
	if !strings.HasSuffix(body, "\r\n\r\n") {
		t.Errorf("stream ends with %q", body[max(len(body)-8, 0):])
	}
	events := strings.Split(strings.TrimSuffix(body, "\r\n\r\n"), "\r\n\r\n")
	if len(events) != len(chunks) {
		t.Errorf("%d events on the wire, the SDK saw %d", len(events), len(chunks))
	}
	for _, ev := range events {
		if !strings.HasPrefix(ev, "data: ") || strings.ContainsAny(ev, "\r\n") {
			t.Fatalf("event %q is not one data line", ev)
		}
	}

	contents = append(contents, &genai.Content{Role: genai.RoleModel, Parts: merged.Parts}, functionResponses(calls))
	chunks, merged = run()
	var text strings.Builder
	for _, p := range merged.Parts {
		text.WriteString(p.Text)
	}
	if text.String() != testAnswer {
		t.Errorf("streamed text %q, want %q", text.String(), testAnswer)
	}
	if len(chunks) < 3 {
		t.Errorf("answer came in %d chunks; want it split", len(chunks))
	}
	if u := chunks[len(chunks)-1].UsageMetadata; u == nil || u.CachedContentTokenCount != 64 {
		t.Errorf("usage %+v, want 64 cached", u)
	}
}

func TestGeminiClientErrors(t *testing.T) {
	sc := geminiScenario()
	_, base, _ := recordingMock(t, sc)
	ctx := context.Background()
	contents := []*genai.Content{genai.NewContentFromText("hi", genai.RoleUser)}

	_, err := newGenAI(t, base, "nope", nil).Models.GenerateContent(ctx, testGemini, contents, nil)
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusNotFound || apiErr.Status != "NOT_FOUND" {
		t.Fatalf("unknown provider: %v, want a 404 NOT_FOUND", err)
	}

	url := base + "/v1beta/models/" + testGemini + ":generateContent"
	body := `{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}`
	for _, tc := range []struct {
		name, url, body string
		hdr             []string
		status          int
		rpc             string
	}{
		{"no key", url, body, nil, 403, "PERMISSION_DENIED"},
		{"key in the query", url + "?key=k", body, nil, 200, ""},
		{"no contents", url, `{"contents":[]}`, []string{"X-Goog-Api-Key", "k"}, 400, "INVALID_ARGUMENT"},
		{"bad role", url, `{"contents":[{"role":"assistant","parts":[{"text":"hi"}]}]}`, []string{"X-Goog-Api-Key", "k"}, 400, "INVALID_ARGUMENT"},
		{"stream without alt=sse", strings.Replace(url, ":generateContent", ":streamGenerateContent", 1), body, []string{"X-Goog-Api-Key", "k"}, 400, "INVALID_ARGUMENT"},
		{"unknown method", strings.Replace(url, ":generateContent", ":countTokens", 1), body, []string{"X-Goog-Api-Key", "k"}, 404, "NOT_FOUND"},
	} {
		resp, b := post(t, tc.url, tc.body, tc.hdr...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.status, b)
			continue
		}
		if tc.status == 200 {
			continue
		}
		var eb wire.ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil || eb.Error.Code != tc.status || eb.Error.Status != tc.rpc || eb.Error.Message == "" {
			t.Errorf("%s: body %s", tc.name, b)
		}
	}
}

// TestGeminiClientRetries injects a 429 and an overload (503) and lets
// genai's own retry policy see them: it retries both and succeeds on the
// third attempt. Gemini's 429 carries its wait in the body only.
func TestGeminiClientRetries(t *testing.T) {
	sc := geminiScenario()
	sc.Faults = []scenarios.Fault{
		{Kind: scenarios.FaultRateLimit, Target: "provider:gemini", From: 0, For: sd(time.Minute), RetryAfter: sd(1500 * time.Millisecond)},
		{Kind: scenarios.FaultOverloaded, Target: "provider:gemini", From: sd(time.Minute), For: sd(time.Minute)},
	}
	base, rec := retryMock(t, sc)

	quick := &genai.HTTPRetryOptions{Attempts: genai.Ptr[int32](3), InitialDelay: genai.Ptr(0.01), MaxDelay: genai.Ptr(0.05), Jitter: genai.Ptr(0.0)}
	contents := []*genai.Content{genai.NewContentFromText("What's the weather in Paris?", genai.RoleUser)}
	resp, err := newGenAI(t, base, "gemini", quick).Models.GenerateContent(context.Background(), testGemini, contents, nil)
	if err != nil {
		t.Fatalf("the SDK gave up: %v", err)
	}
	if len(resp.FunctionCalls()) != 2 {
		t.Errorf("answer %+v", resp)
	}
	exs := rec.all()
	var statuses []int
	for _, ex := range exs {
		statuses = append(statuses, ex.status)
	}
	if !reflect.DeepEqual(statuses, []int{429, 503, 200}) {
		t.Fatalf("attempts answered %v, want [429 503 200]", statuses)
	}
	// The 429 as Gemini sends it: no Retry-After; a RetryInfo and a
	// QuotaFailure in the body.
	if h := exs[0].header; h.Get("Retry-After") != "" || h.Get("Retry-After-Ms") != "" {
		t.Errorf("Retry-After on a Gemini 429: %v", h)
	}
	var eb wire.ErrorBody
	if err := json.Unmarshal(exs[0].response, &eb); err != nil || eb.Error.Code != 429 || eb.Error.Status != "RESOURCE_EXHAUSTED" {
		t.Fatalf("429 body %s", exs[0].response)
	}
	var types []string
	delay := ""
	for _, d := range eb.Error.Details {
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatal(err)
		}
		types = append(types, m["@type"].(string))
		if m["@type"] == wire.TypeRetryInfo {
			delay, _ = m["retryDelay"].(string)
		}
	}
	if !reflect.DeepEqual(types, []string{wire.TypeQuotaFailure, wire.TypeRetryInfo}) || delay != "1.500s" {
		t.Errorf("details %v, retryDelay %q, want QuotaFailure and RetryInfo 1.500s", types, delay)
	}
	if err := json.Unmarshal(exs[1].response, &eb); err != nil || eb.Error.Code != 503 || eb.Error.Status != "UNAVAILABLE" || !strings.Contains(eb.Error.Message, "overloaded") {
		t.Errorf("503 body %s", exs[1].response)
	}

	// Without retries the SDK reports the 429 with its details.
	rec.reset()
	_, err = newGenAI(t, base, "gemini", nil).Models.GenerateContent(context.Background(), testGemini, contents, nil)
	var apiErr genai.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 429 || apiErr.Status != "RESOURCE_EXHAUSTED" || len(apiErr.Details) != 2 {
		t.Errorf("no retries: %v, want the 429 RESOURCE_EXHAUSTED with its details", err)
	}
}
