package mockprovider

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"google.golang.org/genai"

	"github.com/mcpload/mcpload/wire/openaichat"
)

// TestOpenAIClientParallelToolCalls asks with parallel_tool_calls false:
// the script's two parallel calls come one per answer, in order, then the
// final answer.
func TestOpenAIClientParallelToolCalls(t *testing.T) {
	for _, stream := range []bool{false, true} {
		_, base, rec := recordingMock(t, testScenario())
		client := newOpenAI(base, "primary")
		ctx := context.Background()
		params := testParams(testModel)
		params.ParallelToolCalls = openai.Bool(false)
		ask := func() openai.ChatCompletionMessage {
			t.Helper()
			if !stream {
				resp, err := client.Chat.Completions.New(ctx, params)
				if err != nil {
					t.Fatal(err)
				}
				return resp.Choices[0].Message
			}
			s := client.Chat.Completions.NewStreaming(ctx, params)
			defer s.Close()
			var acc openai.ChatCompletionAccumulator
			for s.Next() {
				acc.AddChunk(s.Current())
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			return acc.Choices[0].Message
		}
		var names []string
		for range 2 {
			msg := ask()
			if len(msg.ToolCalls) != 1 {
				t.Fatalf("stream=%v: %d tool calls with parallel_tool_calls false", stream, len(msg.ToolCalls))
			}
			tc := msg.ToolCalls[0]
			names = append(names, tc.Function.Name)
			params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage("ok", tc.ID))
		}
		if strings.Join(names, ",") != "get_weather,get_time" {
			t.Errorf("stream=%v: calls %v, want the script's, one at a time", stream, names)
		}
		if msg := ask(); msg.Content != testAnswer || len(msg.ToolCalls) != 0 {
			t.Errorf("stream=%v: after both calls %q %d", stream, msg.Content, len(msg.ToolCalls))
		}
		var sent openaichat.Request
		if err := json.Unmarshal(rec.last(t).body, &sent); err != nil || sent.ParallelToolCalls == nil || *sent.ParallelToolCalls {
			t.Errorf("parallel_tool_calls on the wire: %s", rec.last(t).body)
		}
	}
}

// TestOpenAIClientToolChoice sends each tool_choice through openai-go.
func TestOpenAIClientToolChoice(t *testing.T) {
	_, base, rec := recordingMock(t, testScenario())
	client := newOpenAI(base, "primary")
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		choice openai.ChatCompletionToolChoiceOptionUnionParam
		wire   string
		calls  []string
		text   string
	}{
		{"none", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}, `"none"`, nil, testAnswer},
		{"required", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}, `"required"`, []string{"get_weather", "get_time"}, ""},
		{"auto", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")}, `"auto"`, []string{"get_weather", "get_time"}, ""},
		{"named", openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_time"}),
			`{"function":{"name":"get_time"},"type":"function"}`, []string{"get_time"}, ""},
	} {
		params := testParams(testModel)
		params.ToolChoice = tc.choice
		resp, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var sent map[string]json.RawMessage
		if err := json.Unmarshal(rec.last(t).body, &sent); err != nil {
			t.Fatal(err)
		}
		if got, want := normJSON(t, string(sent["tool_choice"])), normJSON(t, tc.wire); !equalJSON(got, want) {
			t.Errorf("%s: tool_choice sent %s, want %s", tc.name, sent["tool_choice"], tc.wire)
		}
		msg := resp.Choices[0].Message
		var names []string
		for _, c := range msg.ToolCalls {
			names = append(names, c.Function.Name)
		}
		if strings.Join(names, ",") != strings.Join(tc.calls, ",") || msg.Content != tc.text {
			t.Errorf("%s: calls %v content %q, want %v %q", tc.name, names, msg.Content, tc.calls, tc.text)
		}
		want := "tool_calls"
		if tc.calls == nil {
			want = "stop"
		}
		if resp.Choices[0].FinishReason != want {
			t.Errorf("%s: finish_reason %q, want %s", tc.name, resp.Choices[0].FinishReason, want)
		}
	}
	resp, b := post(t, base+"/providers/primary/v1/chat/completions",
		`{"model":"m","tool_choice":"sometimes","tools":[],"messages":[{"role":"user","content":"hi"}]}`)
	if resp.StatusCode != 400 || errorBody(t, b).Param == nil || *errorBody(t, b).Param != "tool_choice" {
		t.Errorf("bad tool_choice: %d %s", resp.StatusCode, b)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestAnthropicClientToolChoice: disable_parallel_tool_use spreads the
// calls over answers; type none answers in text.
func TestAnthropicClientToolChoice(t *testing.T) {
	sc := anthropicScenario()
	_, base, _ := recordingMock(t, sc)
	client := newAnthropic(base, "claude")
	ctx := context.Background()

	params := anthropicParams(t, sc)
	params.ToolChoice = anthropic.ToolChoiceUnionParam{OfAuto: &anthropic.ToolChoiceAutoParam{DisableParallelToolUse: anthropic.Bool(true)}}
	var names []string
	for range 2 {
		msg, err := client.Messages.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if len(msg.Content) != 1 || msg.Content[0].Type != "tool_use" {
			t.Fatalf("content %+v, want one tool_use", msg.Content)
		}
		names = append(names, msg.Content[0].Name)
		params.Messages = append(params.Messages, msg.ToParam(), anthropicToolResults([]string{msg.Content[0].ID}))
	}
	if strings.Join(names, ",") != "get_weather,get_time" {
		t.Errorf("calls %v", names)
	}
	msg, err := client.Messages.New(ctx, params)
	if err != nil || msg.StopReason != anthropic.StopReasonEndTurn || msg.Content[0].Text != testAnswer {
		t.Errorf("after both calls: %v %+v", err, msg)
	}

	params = anthropicParams(t, sc)
	params.ToolChoice = anthropic.ToolChoiceUnionParam{OfNone: &anthropic.ToolChoiceNoneParam{}}
	msg, err = client.Messages.New(ctx, params)
	if err != nil || msg.StopReason != anthropic.StopReasonEndTurn || msg.Content[0].Text != testAnswer {
		t.Errorf("tool_choice none: %v %+v", err, msg)
	}
}

// TestGeminiClientToolConfig: mode NONE answers in text; ANY with one
// allowed name calls only that function.
func TestGeminiClientToolConfig(t *testing.T) {
	sc := geminiScenario()
	_, base, _ := recordingMock(t, sc)
	client := newGenAI(t, base, "gemini", nil)
	ctx := context.Background()
	contents := []*genai.Content{genai.NewContentFromText(sc.Conversation.Turns[0].User, genai.RoleUser)}

	cfg := geminiConfig(sc)
	cfg.ToolConfig = &genai.ToolConfig{FunctionCallingConfig: &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeNone}}
	resp, err := client.Models.GenerateContent(ctx, testGemini, contents, cfg)
	if err != nil || resp.Text() != testAnswer || len(resp.FunctionCalls()) != 0 {
		t.Errorf("mode NONE: %v %+v", err, resp)
	}
	cfg.ToolConfig.FunctionCallingConfig = &genai.FunctionCallingConfig{Mode: genai.FunctionCallingConfigModeAny, AllowedFunctionNames: []string{"get_time"}}
	resp, err = client.Models.GenerateContent(ctx, testGemini, contents, cfg)
	if err != nil || len(resp.FunctionCalls()) != 1 || resp.FunctionCalls()[0].Name != "get_time" {
		t.Errorf("mode ANY get_time: %v %+v", err, resp)
	}
}
