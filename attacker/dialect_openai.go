package attacker

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// openAIDialect is OpenAI Chat Completions, mcpload's first dialect and
// its hot path: its functions (appendMessages, readChatJSON,
// readChatStream) live in chatclient.go, written for speed.
type openAIDialect struct{}

func (openAIDialect) basePath() string { return "/v1" }

func (openAIDialect) url(base, _ string, _ bool) string {
	return strings.TrimRight(base, "/") + "/chat/completions"
}

func (openAIDialect) headers(key string) []header {
	if key == "" {
		return nil
	}
	return []header{{"Authorization", []string{"Bearer " + key}}}
}

// prefix is the body up to the messages array: model, stream options and
// the tools.
func (openAIDialect) prefix(p *scenarios.Provider, tools []*scenarios.Tool) ([]byte, error) {
	toolsJ, err := toolsJSON(tools)
	if err != nil {
		return nil, err
	}
	b := append([]byte(`{"model":`), httpx.AppendJSONString(nil, p.Model)...)
	if p.Stream {
		b = append(b, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	if p.MaxTokens > 0 {
		// max_tokens is deprecated, and refused by reasoning models.
		b = append(b, `,"max_completion_tokens":`...)
		b = strconv.AppendInt(b, int64(p.MaxTokens), 10)
	}
	if toolsJ != nil {
		b = append(b, `,"tools":`...)
		b = append(b, toolsJ...)
		switch c := p.ToolChoice; c {
		case "", scenarios.ToolChoiceAuto:
		case scenarios.ToolChoiceNone, scenarios.ToolChoiceRequired:
			b = append(b, `,"tool_choice":`...)
			b = httpx.AppendJSONString(b, c)
		default:
			b = append(b, `,"tool_choice":{"type":"function","function":{"name":`...)
			b = append(httpx.AppendJSONString(b, c), "}}"...)
		}
		if p.ParallelToolCalls != nil {
			b = append(b, `,"parallel_tool_calls":`...)
			b = strconv.AppendBool(b, *p.ParallelToolCalls)
		}
	}
	return append(b, `,"messages":`...), nil
}

func (openAIDialect) appendBody(b []byte, msgs []openaichat.Message) []byte {
	return append(appendMessages(b, msgs), '}')
}

func (openAIDialect) readJSON(ctx, actx context.Context, body io.Reader, maxCalls int) (r chatResult) {
	readChatJSON(ctx, actx, body, &r, maxCalls)
	return r
}

func (openAIDialect) readStream(ctx, actx context.Context, body io.Reader, start time.Time, w *streamWatch, maxCalls int) chatResult {
	r := chatResult{start: start}
	readChatStream(ctx, actx, body, &r, w, maxCalls)
	return r
}

func (openAIDialect) errorText(resp *http.Response, body io.Reader) string {
	return httpx.ErrorText(resp.StatusCode, body)
}
