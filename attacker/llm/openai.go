package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// openAIDialect is OpenAI Chat Completions, mcpload's first dialect and
// its hot path: its functions (appendMessages, readChatJSON,
// readChatStream) are below, written for speed.
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

func (openAIDialect) readJSON(ctx, actx context.Context, body io.Reader, maxCalls int) (r Result) {
	readChatJSON(ctx, actx, body, &r, maxCalls)
	return r
}

func (openAIDialect) readStream(ctx, actx context.Context, body io.Reader, start time.Time, w *streamWatch, maxCalls int) Result {
	r := Result{Start: start}
	readChatStream(ctx, actx, body, &r, w, maxCalls)
	return r
}

func (openAIDialect) errorText(resp *http.Response, body io.Reader) string {
	return httpx.ErrorText(resp.StatusCode, body)
}

// toolsJSON translates MCP tool definitions into OpenAI function tools; nil
// when there are none.
func toolsJSON(tools []*scenarios.Tool) ([]byte, error) {
	if len(tools) == 0 {
		return nil, nil
	}
	decls := make([]openaichat.Tool, 0, len(tools))
	for _, t := range tools {
		params, err := json.Marshal(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("tool %q: marshalling inputSchema: %w", t.Name, err)
		}
		if t.InputSchema == nil {
			params = []byte(`{"type":"object"}`)
		}
		decls = append(decls, openaichat.Tool{
			Type:     "function",
			Function: openaichat.FunctionDecl{Name: t.Name, Description: t.Description, Parameters: params},
		})
	}
	b, err := json.Marshal(decls)
	if err != nil {
		return nil, fmt.Errorf("marshalling tools: %w", err)
	}
	return b, nil
}

// readChatJSON parses a non-streamed completion of at most maxCalls tool
// calls.
func readChatJSON(ctx, actx context.Context, body io.Reader, r *Result, maxCalls int) {
	var resp chatResponse
	buf, ok := readJSONBody(ctx, actx, body, &resp, r, maxCalls, openAIArrays)
	defer httpx.PutBuffer(buf)
	if !ok {
		return
	}
	if len(resp.Choices) == 0 {
		r.Outcome, r.Err = record.OutcomeProtocol, "response has no choices: "+httpx.Snippet(buf.Bytes())
		return
	}
	ch := resp.Choices[0]
	if len(ch.Message.ToolCalls) > maxCalls {
		r.Outcome, r.Err = record.OutcomeProtocol, tooManyCalls(maxCalls)
		return
	}
	r.Msg = ch.Message
	r.Msg.Role = "assistant"
	r.Finish = ch.FinishReason
	if resp.Usage != nil {
		r.Usage = *resp.Usage
	}
	r.Outcome = record.OutcomeOK
}

// chatResponse is the part of openaichat.Response the client uses. Fields
// it leaves out (id, model, fingerprint...) are skipped by the decoder
// instead of allocated: decoding is most of the client's CPU per step.
type chatResponse struct {
	Choices []struct {
		Message      openaichat.Message `json:"message"`
		FinishReason string             `json:"finish_reason"`
	} `json:"choices"`
	Usage *openaichat.Usage `json:"usage"`
}

// streamChunk is the part of openaichat.Chunk the client uses, or the error
// object some providers send mid-stream.
type streamChunk struct {
	Choices []openaichat.ChunkChoice `json:"choices"`
	Usage   *openaichat.Usage        `json:"usage"`
	Error   *openaichat.ErrorDetail  `json:"error"`
}

// toolCallAcc accumulates one streamed tool call.
type toolCallAcc struct {
	id, typ, name string
	args          []byte
}

// readChatStream parses an SSE completion: content and tool calls
// accumulate by index, arguments concatenate, usage comes from the last
// chunk. A stream is whole only with a finish_reason and [DONE]; anything
// less was cut. w, when not nil, is told of each event and of the first
// delta, for the stream timers. A tool call index of maxCalls or more
// ends the reading: the answer has too many calls.
func readChatStream(ctx, actx context.Context, body io.Reader, r *Result, w *streamWatch, maxCalls int) {
	r.stream.start = r.Start
	events := newEventReader(ctx, actx, body, w, maxCalls, openAIArrays)
	defer events.release()
	defer func() { r.broken = r.Outcome != record.OutcomeOK }()
	var (
		content    []byte
		hasContent bool
		calls      []toolCallAcc
		done       bool
	)
	for !done {
		data, err := events.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Outcome, r.Err = events.fail(err)
			return
		}
		if string(data) == openaichat.StreamDone {
			done = true
			break
		}
		var ch streamChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			r.Outcome, r.Err = decodeOutcome(err), "decoding stream chunk: "+err.Error()+": "+httpx.Snippet(data)
			return
		}
		if ch.Error != nil {
			r.Outcome, r.Err = record.OutcomeProtocol, "error in stream: "+httpx.Truncate(ch.Error.Message, httpx.MaxErrorDetail)
			return
		}
		if ch.Usage != nil {
			r.Usage = *ch.Usage
		}
		for _, choice := range ch.Choices {
			if choice.Index != 0 {
				continue // mcpload asks for one choice; ignore any others
			}
			d := choice.Delta
			// An output event carries text or tool-call data; the role
			// chunk, the finish chunk and the usage chunk do not.
			if (d.Content != nil && *d.Content != "") || len(d.ToolCalls) > 0 {
				at := r.stream.output(w)
				if len(d.ToolCalls) > 0 {
					r.stream.toolCall(at)
				}
			}
			if d.Content != nil {
				hasContent = true
				content = append(content, *d.Content...)
			}
			for i, tc := range d.ToolCalls {
				idx := i
				if tc.Index != nil {
					idx = *tc.Index
				}
				if idx < 0 {
					r.Outcome, r.Err = record.OutcomeProtocol, fmt.Sprintf("stream: tool call index %d out of range", idx)
					return
				}
				if idx >= maxCalls {
					r.Outcome, r.Err = record.OutcomeProtocol, tooManyCalls(maxCalls)
					return
				}
				for len(calls) <= idx {
					calls = append(calls, toolCallAcc{})
				}
				acc := &calls[idx]
				if tc.ID != "" {
					acc.id = tc.ID
				}
				if tc.Type != "" {
					acc.typ = tc.Type
				}
				acc.name += tc.Function.Name
				acc.args = append(acc.args, tc.Function.Arguments...)
			}
			if choice.FinishReason != nil && *choice.FinishReason != "" {
				r.Finish = *choice.FinishReason
				if len(calls) > 0 {
					// OpenAI has no event that ends one call: the
					// arguments are whole with the finish reason.
					r.stream.argsComplete(r.stream.now())
				}
			}
		}
	}
	if !done {
		r.Outcome, r.Err = record.OutcomeProtocol, "stream ended without [DONE]"
		return
	}
	if r.Finish == "" {
		r.Outcome, r.Err = record.OutcomeProtocol, "stream ended without a finish_reason"
		return
	}
	r.Msg.Role = "assistant"
	if hasContent && (len(content) > 0 || len(calls) == 0) {
		s := string(content)
		r.Msg.Content = &s
	}
	if len(calls) > 0 {
		r.Msg.ToolCalls = make([]openaichat.ToolCall, len(calls))
		for i, acc := range calls {
			typ := acc.typ
			if typ == "" {
				typ = "function"
			}
			r.Msg.ToolCalls[i] = openaichat.ToolCall{
				ID:       acc.id,
				Type:     typ,
				Function: openaichat.FunctionCall{Name: acc.name, Arguments: string(acc.args)},
			}
		}
	}
	r.Outcome = record.OutcomeOK
}

// appendMessages appends msgs as a JSON array. It writes what
// json.Marshal would, without reflection: the messages are the one part of
// the request body that changes between steps.
func appendMessages(b []byte, msgs []openaichat.Message) []byte {
	b = append(b, '[')
	for i := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		m := &msgs[i]
		b = append(b, `{"role":`...)
		b = httpx.AppendJSONString(b, m.Role)
		b = append(b, `,"content":`...)
		if m.Content == nil {
			b = append(b, "null"...)
		} else {
			b = httpx.AppendJSONString(b, *m.Content)
		}
		if len(m.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for j := range m.ToolCalls {
				tc := &m.ToolCalls[j]
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = httpx.AppendJSONString(b, tc.ID)
				typ := tc.Type
				if typ == "" {
					typ = "function"
				}
				b = append(b, `,"type":`...)
				b = httpx.AppendJSONString(b, typ)
				b = append(b, `,"function":{"name":`...)
				b = httpx.AppendJSONString(b, tc.Function.Name)
				b = append(b, `,"arguments":`...)
				b = httpx.AppendJSONString(b, tc.Function.Arguments)
				b = append(b, "}}"...)
			}
			b = append(b, ']')
		}
		if m.ToolCallID != "" {
			b = append(b, `,"tool_call_id":`...)
			b = httpx.AppendJSONString(b, m.ToolCallID)
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = httpx.AppendJSONString(b, m.Name)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}
