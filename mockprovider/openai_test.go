package mockprovider

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

func newOpenAI(base, provider string) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(base+"/providers/"+provider+"/v1/"),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(30*time.Second),
	)
}

func testParams(model string) openai.ChatCompletionNewParams {
	sc := testScenario()
	return openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(sc.Conversation.System),
			openai.UserMessage(sc.Conversation.Turns[0].User),
		},
		Tools: []openai.ChatCompletionToolUnionParam{
			openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
				Name:       "get_weather",
				Parameters: openai.FunctionParameters(sc.Tools[0].InputSchema),
			}),
		},
	}
}

// checkToolCalls asserts that calls are the first reply of the script.
func checkToolCalls(t *testing.T, ids, names, args []string) {
	t.Helper()
	want := testScenario().Conversation.Turns[0].Model[0].ToolCalls
	if len(names) != len(want) {
		t.Fatalf("got %d tool calls %v, want %d", len(names), names, len(want))
	}
	seen := map[string]bool{}
	for i, w := range want {
		if !strings.HasPrefix(ids[i], "call_") || len(ids[i]) != len("call_")+callIDLen {
			t.Errorf("tool call %d: id %q, want call_ and %d characters", i, ids[i], callIDLen)
		}
		if seen[ids[i]] {
			t.Errorf("tool call %d: id %q repeats", i, ids[i])
		}
		seen[ids[i]] = true
		if names[i] != w.Name {
			t.Errorf("tool call %d: name %q, want %q", i, names[i], w.Name)
		}
		if got, want := normJSON(t, args[i]), normValue(t, w.Arguments); !reflect.DeepEqual(got, want) {
			t.Errorf("tool call %d: arguments %v, want %v", i, got, want)
		}
	}
}

func TestOpenAIClientConversation(t *testing.T) {
	_, base := startMock(t, testScenario())
	client := newOpenAI(base, "primary")
	ctx := context.Background()
	params := testParams("my-model-alias")

	// Turn 1, reply 1: parallel tool calls.
	resp, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if !strings.HasPrefix(resp.ID, "chatcmpl-") || resp.Object != "chat.completion" || resp.Created == 0 {
		t.Errorf("id %q object %q created %d", resp.ID, resp.Object, resp.Created)
	}
	if resp.Model != "my-model-alias" {
		t.Errorf("model %q, want the request's model", resp.Model)
	}
	if len(resp.Choices) != 1 {
		t.Fatalf("%d choices", len(resp.Choices))
	}
	ch := resp.Choices[0]
	if ch.FinishReason != "tool_calls" {
		t.Errorf("finish_reason %q, want tool_calls", ch.FinishReason)
	}
	if ch.Message.JSON.Content.Valid() || ch.Message.Content != "" {
		t.Errorf("content %q (valid=%v), want null", ch.Message.Content, ch.Message.JSON.Content.Valid())
	}
	var ids, names, args []string
	for _, tc := range ch.Message.ToolCalls {
		if tc.Type != "function" {
			t.Errorf("tool call type %q", tc.Type)
		}
		ids, names, args = append(ids, tc.ID), append(names, tc.Function.Name), append(args, tc.Function.Arguments)
	}
	checkToolCalls(t, ids, names, args)
	if u := resp.Usage; u.PromptTokens != 120 || u.CompletionTokens != 30 || u.TotalTokens != 150 {
		t.Errorf("usage %+v, want the scripted 120+30=150", u)
	}
	if resp.Usage.JSON.PromptTokensDetails.Valid() {
		t.Errorf("prompt_tokens_details present with no cached tokens scripted")
	}

	// Send the tool results back: turn 1, reply 2, the final answer.
	params.Messages = append(params.Messages, ch.Message.ToParam())
	for i, id := range ids {
		params.Messages = append(params.Messages, openai.ToolMessage("result "+names[i], id))
	}
	resp, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	ch = resp.Choices[0]
	if ch.FinishReason != "stop" || ch.Message.Content != testAnswer || len(ch.Message.ToolCalls) != 0 {
		t.Errorf("final answer: finish %q content %q tool calls %d", ch.FinishReason, ch.Message.Content, len(ch.Message.ToolCalls))
	}
	u := resp.Usage
	if u.PromptTokensDetails.CachedTokens != 64 {
		t.Errorf("cached_tokens %d, want 64", u.PromptTokensDetails.CachedTokens)
	}
	if u.PromptTokens < 64 {
		t.Errorf("prompt_tokens %d below its cached 64", u.PromptTokens)
	}
	if want := estimateTokens(len(testAnswer)); u.CompletionTokens != int64(want) {
		t.Errorf("completion_tokens %d, want the estimate %d", u.CompletionTokens, want)
	}
	if u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("total_tokens %d != %d + %d", u.TotalTokens, u.PromptTokens, u.CompletionTokens)
	}

	// Turn 2.
	params.Messages = append(params.Messages, ch.Message.ToParam(), openai.UserMessage("Thanks!"))
	resp, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("third call: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != testThanks {
		t.Errorf("turn 2: %q, want %q", got, testThanks)
	}
	// The estimated prompt grows with the conversation.
	if resp.Usage.PromptTokens <= u.PromptTokens {
		t.Errorf("turn 2 prompt_tokens %d not above turn 1's %d", resp.Usage.PromptTokens, u.PromptTokens)
	}

	// Past the script: the last turn's final reply again.
	params.Messages = append(params.Messages, resp.Choices[0].Message.ToParam(), openai.UserMessage("Bye"))
	resp, err = client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatalf("fourth call: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != testThanks {
		t.Errorf("past the script: %q, want %q", got, testThanks)
	}
}

func TestOpenAIClientStreaming(t *testing.T) {
	sc := testScenario()
	// Small stream delays, so that chunks really are apart on the wire.
	sc.Providers["primary"].Mock.TTFT.Dist, sc.Providers["primary"].Mock.TTFT.Value = "fixed", 1e6
	sc.Providers["primary"].Mock.TokenGap.Dist, sc.Providers["primary"].Mock.TokenGap.Value = "fixed", 1e5
	_, base := startMock(t, sc)
	client := newOpenAI(base, "primary")
	ctx := context.Background()
	params := testParams(testModel)
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}

	run := func() (openai.ChatCompletionAccumulator, []openai.FinishedChatCompletionToolCall, int) {
		t.Helper()
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		defer stream.Close()
		var acc openai.ChatCompletionAccumulator
		var finished []openai.FinishedChatCompletionToolCall
		chunks := 0
		for stream.Next() {
			chunk := stream.Current()
			chunks++
			if !acc.AddChunk(chunk) {
				t.Fatalf("accumulator rejected chunk %d: %s", chunks, chunk.RawJSON())
			}
			if tc, ok := acc.JustFinishedToolCall(); ok {
				finished = append(finished, tc)
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatalf("stream: %v", err)
		}
		return acc, finished, chunks
	}

	acc, finished, chunks := run()
	if len(acc.Choices) != 1 {
		t.Fatalf("%d choices", len(acc.Choices))
	}
	ch := acc.Choices[0]
	if ch.FinishReason != "tool_calls" {
		t.Errorf("finish_reason %q", ch.FinishReason)
	}
	var ids, names, args []string
	for _, tc := range ch.Message.ToolCalls {
		ids, names, args = append(ids, tc.ID), append(names, tc.Function.Name), append(args, tc.Function.Arguments)
	}
	checkToolCalls(t, ids, names, args)
	if len(finished) != 2 || finished[0].Name != "get_weather" || finished[1].ID != ids[1] {
		t.Errorf("JustFinishedToolCall events %+v", finished)
	}
	if u := acc.Usage; u.PromptTokens != 120 || u.CompletionTokens != 30 || u.TotalTokens != 150 {
		t.Errorf("usage %+v, want 120+30=150 from the include_usage chunk", u)
	}
	// role + per call (name + several fragments) + finish + usage.
	if chunks < 1+2*2+1+1 {
		t.Errorf("only %d chunks: arguments were not split", chunks)
	}

	params.Messages = append(params.Messages, ch.Message.ToParam())
	for i, id := range ids {
		params.Messages = append(params.Messages, openai.ToolMessage("result "+names[i], id))
	}
	acc, _, chunks = run()
	ch = acc.Choices[0]
	if ch.FinishReason != "stop" || ch.Message.Content != testAnswer {
		t.Errorf("final answer: finish %q content %q", ch.FinishReason, ch.Message.Content)
	}
	if len(split(testAnswer, contentPieceBytes, true)) < 3 || chunks < 3+2 {
		t.Errorf("content came in %d chunks; want it split", chunks)
	}
	if acc.Usage.PromptTokensDetails.CachedTokens != 64 {
		t.Errorf("cached_tokens %d, want 64", acc.Usage.PromptTokensDetails.CachedTokens)
	}
}

func TestOpenAIClientErrors(t *testing.T) {
	_, base := startMock(t, testScenario())
	ctx := context.Background()

	// A provider the mock does not serve: the real one, and an unknown one.
	for _, name := range []string{"real", "nope"} {
		c := newOpenAI(base, name)
		_, err := c.Chat.Completions.New(ctx, testParams(testModel))
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("%s: error %v (%T), want *openai.Error", name, err, err)
		}
		if apiErr.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", name, apiErr.StatusCode)
		}
		if !strings.Contains(apiErr.Message, name) || apiErr.Type != "invalid_request_error" {
			t.Errorf("%s: message %q type %q", name, apiErr.Message, apiErr.Type)
		}
	}

	// No messages: 400 naming the parameter.
	p := testParams(testModel)
	p.Messages = []openai.ChatCompletionMessageParamUnion{}
	c := newOpenAI(base, "primary")
	_, err := c.Chat.Completions.New(ctx, p)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest || apiErr.Param != "messages" {
		t.Fatalf("empty messages: %v, want a 400 on param messages", err)
	}
}

func TestOpenAIClientRootRoute(t *testing.T) {
	_, base := startMock(t, testScenario())
	client := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
	ctx := context.Background()

	resp, err := client.Chat.Completions.New(ctx, testParams(testBackupModel))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != testBackupModel || resp.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("model %q finish %q", resp.Model, resp.Choices[0].FinishReason)
	}
	// An unknown model still gets the first provider's answers.
	if _, err := client.Chat.Completions.New(ctx, testParams("some-other-model")); err != nil {
		t.Errorf("unknown model on /v1: %v", err)
	}

	models, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range models.Data {
		got = append(got, m.ID)
	}
	// Sorted by provider name: backup, primary. The real provider is not served.
	if want := []string{testBackupModel, testModel}; !reflect.DeepEqual(got, want) {
		t.Errorf("models %v, want %v", got, want)
	}
}
