package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// anthropicDialect is Anthropic's Messages API: POST {base}/messages with
// x-api-key and anthropic-version. The system prompt goes in "system";
// an assistant message's tool calls become tool_use blocks; the tool
// messages that answer them, one user message of tool_result blocks.
type anthropicDialect struct{}

func (anthropicDialect) basePath() string { return "/v1" }

func (anthropicDialect) url(base, _ string, _ bool) string {
	return strings.TrimRight(base, "/") + "/messages"
}

func (anthropicDialect) headers(key string) []header {
	if key == "" {
		key = mockKey
	}
	return []header{
		{anthropic.HeaderAPIKey, []string{key}},
		{anthropic.HeaderVersion, []string{anthropic.Version}},
	}
}

// prefix is the body up to the system prompt: model, max_tokens, stream
// and the tools, each MCP inputSchema as its input_schema.
func (anthropicDialect) prefix(p *scenarios.Provider, tools []*scenarios.Tool) ([]byte, error) {
	b := append([]byte(`{"model":`), httpx.AppendJSONString(nil, p.Model)...)
	b = append(b, `,"max_tokens":`...)
	// The API requires max_tokens; a provider built in Go rather than
	// loaded has no defaults applied.
	maxTokens := p.MaxTokens
	if maxTokens <= 0 {
		maxTokens = scenarios.DefaultAnthropicMaxTokens
	}
	b = strconv.AppendInt(b, int64(maxTokens), 10)
	if p.Stream {
		b = append(b, `,"stream":true`...)
	}
	if len(tools) > 0 {
		decls := make([]anthropic.Tool, 0, len(tools))
		for _, t := range tools {
			schema, err := inputSchema(t)
			if err != nil {
				return nil, err
			}
			decls = append(decls, anthropic.Tool{Name: t.Name, Description: t.Description, InputSchema: schema})
		}
		tj, err := json.Marshal(decls)
		if err != nil {
			return nil, fmt.Errorf("marshalling tools: %w", err)
		}
		b = append(append(b, `,"tools":`...), tj...)
		b = appendAnthropicToolChoice(b, p)
	}
	return append(b, ','), nil
}

// appendAnthropicToolChoice appends tool_choice when the provider sets
// tool_choice or forbids parallel calls: type auto, none, any (required)
// or tool (a name), with disable_parallel_tool_use.
func appendAnthropicToolChoice(b []byte, p *scenarios.Provider) []byte {
	serial := p.ParallelToolCalls != nil && !*p.ParallelToolCalls
	typ := "auto"
	switch p.ToolChoice {
	case "", scenarios.ToolChoiceAuto:
		if !serial {
			return b
		}
	case scenarios.ToolChoiceNone:
		return append(b, `,"tool_choice":{"type":"none"}`...)
	case scenarios.ToolChoiceRequired:
		typ = "any"
	default:
		typ = "tool"
	}
	b = append(b, `,"tool_choice":{"type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if typ == "tool" {
		b = append(b, `,"name":`...)
		b = httpx.AppendJSONString(b, p.ToolChoice)
	}
	if serial {
		b = append(b, `,"disable_parallel_tool_use":true`...)
	}
	return append(b, '}')
}

// inputSchema is t's inputSchema as JSON, {"type":"object"} when it has
// none.
func inputSchema(t *scenarios.Tool) (json.RawMessage, error) {
	if t.InputSchema == nil {
		return json.RawMessage(`{"type":"object"}`), nil
	}
	b, err := json.Marshal(t.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("tool %q: marshalling inputSchema: %w", t.Name, err)
	}
	return b, nil
}

// appendBody appends "system" (the system messages' text) and "messages".
func (anthropicDialect) appendBody(b []byte, msgs []openaichat.Message) []byte {
	if system, ok := systemText(msgs); ok {
		b = append(b, `"system":`...)
		b = httpx.AppendJSONString(b, system)
		b = append(b, ',')
	}
	b = append(b, `"messages":[`...)
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	for i := 0; i < len(msgs); i++ {
		m := &msgs[i]
		switch m.Role {
		case "system", "developer":
		case "tool":
			// The tool messages of one assistant message: one user
			// message of tool_result blocks, in the calls' order.
			sep()
			b = append(b, `{"role":"user","content":[`...)
			for j := i; j < len(msgs) && msgs[j].Role == "tool"; j++ {
				if j > i {
					b = append(b, ',')
				}
				b = append(b, `{"type":"tool_result","tool_use_id":`...)
				b = httpx.AppendJSONString(b, msgs[j].ToolCallID)
				if text := msgs[j].Text(); text != "" { // the API takes no empty content
					b = append(b, `,"content":`...)
					b = httpx.AppendJSONString(b, text)
				}
				if msgs[j].IsError {
					b = append(b, `,"is_error":true`...)
				}
				b = append(b, '}')
				i = j
			}
			b = append(b, "]}"...)
		case "assistant":
			sep()
			b = append(b, `{"role":"assistant","content":`...)
			if len(m.ToolCalls) == 0 {
				b = httpx.AppendJSONString(b, m.Text())
				b = append(b, '}')
				continue
			}
			b = append(b, '[')
			if text := m.Text(); text != "" {
				b = append(b, `{"type":"text","text":`...)
				b = httpx.AppendJSONString(b, text)
				b = append(b, "},"...)
			}
			for j := range m.ToolCalls {
				tc := &m.ToolCalls[j]
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"type":"tool_use","id":`...)
				b = httpx.AppendJSONString(b, tc.ID)
				b = append(b, `,"name":`...)
				b = httpx.AppendJSONString(b, tc.Function.Name)
				b = append(b, `,"input":`...)
				b = append(b, argsObject(tc.Function.Arguments)...)
				b = append(b, '}')
			}
			b = append(b, "]}"...)
		default: // user
			sep()
			b = append(b, `{"role":"user","content":`...)
			b = httpx.AppendJSONString(b, m.Text())
			b = append(b, '}')
		}
	}
	return append(b, "]}"...)
}

// argsObject returns a tool call's arguments as a JSON object to embed:
// the arguments themselves when they are one, {} otherwise (an empty or
// broken string, which the tool call was refused for already).
func argsObject(args string) string {
	a := strings.TrimSpace(args)
	if len(a) > 0 && a[0] == '{' && json.Valid([]byte(a)) {
		return a
	}
	return "{}"
}

// anthropicResponse is the part of a message the client uses.
type anthropicResponse struct {
	Type       string                   `json:"type"`
	Content    []anthropic.ContentBlock `json:"content"`
	StopReason *string                  `json:"stop_reason"`
	Usage      anthropic.Usage          `json:"usage"`
	Error      *anthropic.ErrorDetail   `json:"error"`
}

func (anthropicDialect) readJSON(ctx, actx context.Context, body io.Reader, maxCalls int) (r Result) {
	var resp anthropicResponse
	buf, ok := readJSONBody(ctx, actx, body, &resp, &r, maxCalls, anthropicArrays)
	defer httpx.PutBuffer(buf)
	if !ok {
		return
	}
	if resp.Type != "message" || resp.StopReason == nil {
		r.Outcome, r.Err = record.OutcomeProtocol, "response is not a whole message: "+httpx.Snippet(buf.Bytes())
		return
	}
	var text []byte
	hasText := false
	for i := range resp.Content {
		c := &resp.Content[i]
		switch c.Type {
		case anthropic.BlockText:
			if c.Text != nil {
				hasText = true
				text = append(text, *c.Text...)
			}
		case anthropic.BlockToolUse:
			if len(r.Msg.ToolCalls) == maxCalls {
				return Result{Outcome: record.OutcomeProtocol, Err: tooManyCalls(maxCalls)}
			}
			r.Msg.ToolCalls = append(r.Msg.ToolCalls, openaichat.ToolCall{
				ID:       c.ID,
				Type:     "function",
				Function: openaichat.FunctionCall{Name: c.Name, Arguments: toolInput(c.Input)},
			})
		}
	}
	r.Msg.Role = "assistant"
	if hasText {
		s := string(text)
		r.Msg.Content = &s
	}
	r.Finish = anthropicFinish(*resp.StopReason)
	r.Usage = anthropicUsage(&resp.Usage)
	r.Outcome = record.OutcomeOK
	return r
}

// toolInput is a tool_use input as the arguments string: "{}" when empty.
func toolInput(in []byte) string {
	if len(bytes.TrimSpace(in)) == 0 {
		return "{}"
	}
	return string(in)
}

// anthropicFinish maps a stop_reason to the finish reason the
// conversation reads.
func anthropicFinish(stop string) string {
	switch stop {
	case anthropic.StopToolUse:
		return openaichat.FinishToolCalls
	case anthropic.StopEndTurn, "stop_sequence":
		return openaichat.FinishStop
	case anthropic.StopMaxTokens:
		return openaichat.FinishLength
	}
	return stop
}

// anthropicUsage normalises Anthropic's usage: the prompt is the input
// with the cache reads and writes, the cached part the cache reads, as
// OpenAI counts them.
func anthropicUsage(u *anthropic.Usage) openaichat.Usage {
	if !plausibleTokens(u.InputTokens, u.CacheCreationInputTokens, u.CacheReadInputTokens, u.OutputTokens) {
		return implausibleUsage()
	}
	out := openaichat.Usage{PromptTokens: u.Prompt(), CompletionTokens: u.OutputTokens}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	if u.CacheReadInputTokens > 0 {
		out.PromptTokensDetails = &openaichat.PromptTokensDetails{CachedTokens: u.CacheReadInputTokens}
	}
	return out
}

// anthropicBlock accumulates one streamed content block.
type anthropicBlock struct {
	typ, id, name string
	text          []byte
	input         []byte
}

// readStream parses Anthropic's event stream: message_start carries the
// input usage, content blocks accumulate by index (text deltas, tool_use
// input fragments), message_delta the stop reason and output tokens. A
// stream is whole only with a stop reason and message_stop; an error event
// fails the attempt with the outcome of its error type (overloaded_error
// is 5xx, rate_limit_error 429).
//
// The output events are a tool_use block's start (it names the call), a
// text block's start with text, and the non-empty text and input_json
// deltas; message_start, ping, content_block_stop and message_delta carry
// none. A tool_use block's content_block_stop completes its arguments.
func (anthropicDialect) readStream(ctx, actx context.Context, body io.Reader, start time.Time, w *streamWatch, maxCalls int) (r Result) {
	r.Start, r.stream.start = start, start
	events := newEventReader(ctx, actx, body, w, maxCalls, anthropicArrays)
	defer events.release()
	defer func() { r.broken = r.Outcome != record.OutcomeOK }()
	var (
		blocks []anthropicBlock
		calls  int // tool_use blocks
		usage  anthropic.Usage
		stop   string
		done   bool
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
		var ev anthropic.StreamEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			r.Outcome, r.Err = decodeOutcome(err), "decoding stream event: "+err.Error()+": "+httpx.Snippet(data)
			return
		}
		block := func() *anthropicBlock {
			if ev.Index == nil || *ev.Index < 0 || *ev.Index >= len(blocks) {
				return nil
			}
			return &blocks[*ev.Index]
		}
		switch ev.Type {
		case anthropic.EventMessageStart:
			if ev.Message != nil {
				usage = ev.Message.Usage
			}
		case anthropic.EventContentBlockStart:
			if ev.Index == nil || *ev.Index != len(blocks) || ev.ContentBlock == nil {
				r.Outcome, r.Err = record.OutcomeProtocol, "stream: content_block_start out of order: "+httpx.Snippet(data)
				return
			}
			cb := ev.ContentBlock
			if cb.Type == anthropic.BlockToolUse {
				if calls++; calls > maxCalls {
					r.Outcome, r.Err = record.OutcomeProtocol, tooManyCalls(maxCalls)
					return
				}
			}
			nb := anthropicBlock{typ: cb.Type, id: cb.ID, name: cb.Name}
			if cb.Text != nil {
				nb.text = append(nb.text, *cb.Text...)
			}
			if in := bytes.TrimSpace(cb.Input); len(in) > 0 && string(in) != "{}" {
				nb.input = append(nb.input, in...)
			}
			blocks = append(blocks, nb)
			switch {
			case cb.Type == anthropic.BlockToolUse:
				r.stream.toolCall(r.stream.output(w)) // its start names the call
			case len(nb.text) > 0:
				r.stream.output(w)
			}
		case anthropic.EventContentBlockDelta:
			b := block()
			if b == nil || ev.Delta == nil {
				r.Outcome, r.Err = record.OutcomeProtocol, "stream: content_block_delta for no block: "+httpx.Snippet(data)
				return
			}
			switch ev.Delta.Type {
			case anthropic.DeltaText:
				if ev.Delta.Text != nil && *ev.Delta.Text != "" {
					r.stream.output(w)
					b.text = append(b.text, *ev.Delta.Text...)
				}
			case anthropic.DeltaInputJSON:
				if ev.Delta.PartialJSON != nil && *ev.Delta.PartialJSON != "" {
					r.stream.toolCall(r.stream.output(w))
					b.input = append(b.input, *ev.Delta.PartialJSON...)
				}
			}
		case anthropic.EventContentBlockStop:
			if b := block(); b != nil && b.typ == anthropic.BlockToolUse {
				r.stream.argsComplete(r.stream.now())
			}
		case anthropic.EventMessageDelta:
			if ev.Delta != nil && ev.Delta.StopReason != nil {
				stop = *ev.Delta.StopReason
			}
			if u := ev.Usage; u != nil {
				usage.OutputTokens = u.OutputTokens
				if u.InputTokens != nil {
					usage.InputTokens = *u.InputTokens
				}
				if u.CacheCreationInputTokens != nil {
					usage.CacheCreationInputTokens = *u.CacheCreationInputTokens
				}
				if u.CacheReadInputTokens != nil {
					usage.CacheReadInputTokens = *u.CacheReadInputTokens
				}
			}
		case anthropic.EventMessageStop:
			done = true
		case anthropic.EventError:
			r.Outcome, r.Err = streamErrorOutcome(anthropicStreamError(ev.Error))
			return
		}
	}
	r.Usage = anthropicUsage(&usage)
	if !done {
		r.Outcome, r.Err = record.OutcomeProtocol, "stream ended without message_stop"
		return
	}
	if stop == "" {
		r.Outcome, r.Err = record.OutcomeProtocol, "stream ended without a stop_reason"
		return
	}
	r.Finish = anthropicFinish(stop)
	r.Msg.Role = "assistant"
	var text []byte
	hasText := false
	for i := range blocks {
		b := &blocks[i]
		switch b.typ {
		case anthropic.BlockText:
			hasText = true
			text = append(text, b.text...)
		case anthropic.BlockToolUse:
			r.Msg.ToolCalls = append(r.Msg.ToolCalls, openaichat.ToolCall{
				ID:       b.id,
				Type:     "function",
				Function: openaichat.FunctionCall{Name: b.name, Arguments: toolInput(b.input)},
			})
		}
	}
	if hasText {
		s := string(text)
		r.Msg.Content = &s
	}
	r.Outcome = record.OutcomeOK
	return r
}

// anthropicStreamError returns the status and message of an error event.
func anthropicStreamError(e *anthropic.ErrorDetail) (int, string, string) {
	if e == nil {
		return 0, "", "error event without an error"
	}
	return anthropic.ErrorStatus(e.Type), e.Type, e.Message
}

// streamErrorOutcome classifies an error sent in place of a stream's next
// event: as its status would be (overloaded mid-stream is a 5xx), or a
// protocol failure when it has none.
func streamErrorOutcome(status int, typ, msg string) (outcome, text string) {
	text = "error in stream: "
	if typ != "" {
		text += typ + ": "
	}
	text += httpx.Truncate(msg, httpx.MaxErrorDetail)
	if status == 0 {
		return record.OutcomeProtocol, text
	}
	if o := policy.StatusOutcome(status); o != record.OutcomeOK {
		return o, text
	}
	return record.OutcomeProtocol, text
}

func (anthropicDialect) errorText(resp *http.Response, body io.Reader) string {
	return httpx.ErrorText(resp.StatusCode, body)
}
