package mockprovider

import (
	"encoding/json"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// Script values the tests check against.
const (
	testModel       = "gpt-4.1-mini"
	testBackupModel = "gpt-4o-mini"
	testAnswer      = "It is 21°C and clear in Paris <sunny> & calm; the local time is 12:00."
	testThanks      = "You're welcome."
	testTimeResult  = "12:00"
	testDenied      = "permission denied"
)

// testScenario is a loaded, defaulted scenario built by hand: two mock
// providers and one real one, two mock MCP servers and one real one, and a
// two-turn conversation whose first turn calls two tools in parallel.
func testScenario() *scenarios.Scenario {
	weatherSchema := map[string]any{
		"type": "object",
		"properties": map[string]any{
			"city":  map[string]any{"type": "string", "description": "City name"},
			"units": map[string]any{"type": "string", "enum": []any{"metric", "imperial"}},
		},
		"required":             []any{"city"},
		"additionalProperties": false,
	}
	return &scenarios.Scenario{
		Version: 1,
		Name:    "mocktest",
		Seed:    42,
		Providers: map[string]*scenarios.Provider{
			"primary": {API: scenarios.APIOpenAI, BaseURL: scenarios.MockURL, Model: testModel},
			"backup":  {API: scenarios.APIOpenAI, BaseURL: scenarios.MockURL, Model: testBackupModel},
			"real":    {API: scenarios.APIOpenAI, BaseURL: "https://api.openai.com/v1", Model: "gpt-4.1"},
		},
		MCPServers: map[string]*scenarios.MCPServer{
			"weather": {URL: scenarios.MockURL},
			"files":   {URL: scenarios.MockURL},
			"remote":  {URL: "http://127.0.0.1:1/mcp"},
		},
		Tools: []*scenarios.Tool{
			{
				Name: "get_weather", Description: "Current weather of a city.", InputSchema: weatherSchema, Server: "weather",
				Mock: scenarios.ToolMock{Result: map[string]any{"temp_c": 21, "sky": "clear", "wind": []any{"N", 5}}},
			},
			{
				Name: "get_time", Description: "Local time in a time zone.", Server: "weather",
				InputSchema: map[string]any{"type": "object", "properties": map[string]any{"tz": map[string]any{"type": "string"}}},
				Mock:        scenarios.ToolMock{Result: testTimeResult},
			},
			{
				Name: "read_file", Description: "Reads a file.", Server: "files",
				InputSchema: map[string]any{"type": "object", "properties": map[string]any{"path": map[string]any{"type": "string"}}},
				Mock:        scenarios.ToolMock{Result: testDenied, IsError: true},
			},
		},
		Conversation: &scenarios.Conversation{
			Provider: "primary",
			System:   "You are a helpful assistant.",
			MaxSteps: 8,
			Turns: []scenarios.Turn{
				{
					User: "What's the weather in Paris, and what time is it there?",
					Model: []scenarios.ModelReply{
						{
							ToolCalls: []scenarios.ToolCall{
								{Name: "get_weather", Arguments: map[string]any{"city": "Paris", "units": "metric"}},
								{Name: "get_time", Arguments: map[string]any{"tz": "Europe/Paris"}},
							},
							Usage: scenarios.Usage{PromptTokens: 120, CompletionTokens: 30},
						},
						{Content: testAnswer, Usage: scenarios.Usage{CachedTokens: 64}},
					},
				},
				{User: "Thanks!", Model: []scenarios.ModelReply{{Content: testThanks}}},
			},
		},
	}
}

// startMock starts a mock of sc on a loopback port and closes it when the
// test ends.
func startMock(t testing.TB, sc *scenarios.Scenario, opts ...Option) (*Server, string) {
	t.Helper()
	s, err := New(sc, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, base
}

// normJSON decodes a JSON document into plain Go values, so that documents
// can be compared whatever their key order and number types.
func normJSON(t testing.TB, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("not JSON: %v: %q", err, doc)
	}
	return v
}

// normValue normalises a Go value through JSON.
func normValue(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return normJSON(t, string(b))
}
