package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// geminiDialect is the Gemini API: POST {base}/models/MODEL:generateContent,
// or :streamGenerateContent?alt=sse, with the key in x-goog-api-key (never
// in the URL, which is recorded). The system prompt goes in
// systemInstruction; an assistant message is a "model" content whose tool
// calls are functionCall parts; the tool messages that answer it, one
// "user" content of functionResponse parts.
type geminiDialect struct{}

// geminiLocalID starts the ids the client gives function calls that came
// without one (most models send none). They are never sent back: Gemini
// pairs a response with its call by name and order.
const geminiLocalID = "mcpload-fc-"

func (geminiDialect) basePath() string { return "/v1beta" }

func (geminiDialect) url(base, model string, stream bool) string {
	u := strings.TrimRight(base, "/") + "/models/" + url.PathEscape(strings.TrimPrefix(model, "models/"))
	if stream {
		return u + ":" + gemini.MethodStream + "?alt=sse"
	}
	return u + ":" + gemini.MethodGenerate
}

func (geminiDialect) headers(key string) []header {
	if key == "" {
		key = mockKey
	}
	return []header{{gemini.HeaderAPIKey, []string{key}}}
}

// prefix is the body up to the system instruction: the tools, as one
// tool of functionDeclarations, and the tool choice as toolConfig. The
// model and streaming are in the URL; Gemini has no switch for parallel
// calls.
func (geminiDialect) prefix(p *scenarios.Provider, tools []*scenarios.Tool) ([]byte, error) {
	b := []byte{'{'}
	if p.MaxTokens > 0 {
		b = append(b, `"generationConfig":{"maxOutputTokens":`...)
		b = append(strconv.AppendInt(b, int64(p.MaxTokens), 10), "},"...)
	}
	if len(tools) == 0 {
		return b, nil
	}
	decls := make([]gemini.FunctionDeclaration, 0, len(tools))
	for _, t := range tools {
		params, err := scenarios.GeminiParameters(t)
		if err != nil {
			return nil, err
		}
		decls = append(decls, gemini.FunctionDeclaration{Name: t.Name, Description: t.Description, Parameters: params})
	}
	tj, err := json.Marshal([]gemini.Tool{{FunctionDeclarations: decls}})
	if err != nil {
		return nil, fmt.Errorf("marshalling tools: %w", err)
	}
	b = append(append(b, `"tools":`...), tj...)
	switch c := p.ToolChoice; c {
	case "", scenarios.ToolChoiceAuto:
	case scenarios.ToolChoiceNone:
		b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}`...)
	case scenarios.ToolChoiceRequired:
		b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`...)
	default:
		b = append(b, `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":[`...)
		b = append(httpx.AppendJSONString(b, c), "]}}"...)
	}
	return append(b, ','), nil
}

// appendBody appends "systemInstruction" (the system messages' text) and
// "contents".
func (geminiDialect) appendBody(b []byte, msgs []openaichat.Message) []byte {
	if system, ok := systemText(msgs); ok {
		b = append(b, `"systemInstruction":{"parts":[{"text":`...)
		b = httpx.AppendJSONString(b, system)
		b = append(b, "}]},"...)
	}
	b = append(b, `"contents":[`...)
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
			// content of functionResponse parts, in the calls' order.
			sep()
			b = append(b, `{"role":"user","parts":[`...)
			for j := i; j < len(msgs) && msgs[j].Role == "tool"; j++ {
				if j > i {
					b = append(b, ',')
				}
				t := &msgs[j]
				b = append(b, `{"functionResponse":{`...)
				if t.ToolCallID != "" && !strings.HasPrefix(t.ToolCallID, geminiLocalID) {
					b = append(b, `"id":`...)
					b = httpx.AppendJSONString(b, t.ToolCallID)
					b = append(b, ',')
				}
				b = append(b, `"name":`...)
				b = httpx.AppendJSONString(b, callName(msgs[:i], t.ToolCallID))
				if t.IsError {
					b = append(b, `,"response":{"error":`...)
				} else {
					b = append(b, `,"response":{"output":`...)
				}
				b = httpx.AppendJSONString(b, t.Text())
				b = append(b, "}}}"...)
				i = j
			}
			b = append(b, "]}"...)
		case "assistant":
			sep()
			b = append(b, `{"role":"model","parts":[`...)
			text := m.Text()
			if text != "" || len(m.ToolCalls) == 0 {
				b = append(b, `{"text":`...)
				b = httpx.AppendJSONString(b, text)
				b = append(b, '}')
			}
			for j := range m.ToolCalls {
				tc := &m.ToolCalls[j]
				if j > 0 || text != "" {
					b = append(b, ',')
				}
				b = append(b, `{"functionCall":{`...)
				if tc.ID != "" && !strings.HasPrefix(tc.ID, geminiLocalID) {
					b = append(b, `"id":`...)
					b = httpx.AppendJSONString(b, tc.ID)
					b = append(b, ',')
				}
				b = append(b, `"name":`...)
				b = httpx.AppendJSONString(b, tc.Function.Name)
				b = append(b, `,"args":`...)
				b = append(b, argsObject(tc.Function.Arguments)...)
				b = append(b, '}')
				if tc.Signature != "" {
					b = append(b, `,"thoughtSignature":`...)
					b = httpx.AppendJSONString(b, tc.Signature)
				}
				b = append(b, '}')
			}
			b = append(b, "]}"...)
		default: // user
			sep()
			b = append(b, `{"role":"user","parts":[{"text":`...)
			b = httpx.AppendJSONString(b, m.Text())
			b = append(b, "}]}"...)
		}
	}
	return append(b, "]}"...)
}

// callName finds the name of the call id among the tool calls of msgs,
// latest first: a functionResponse names its function.
func callName(msgs []openaichat.Message, id string) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, tc := range msgs[i].ToolCalls {
			if tc.ID == id {
				return tc.Function.Name
			}
		}
	}
	return ""
}

// geminiAnswer accumulates the parts of a whole answer or of a stream's
// events into a Result.
type geminiAnswer struct {
	text    []byte
	hasText bool
	calls   []openaichat.ToolCall
	finish  string
	usage   *gemini.UsageMetadata
	// maxCalls bounds calls; tooMany is set, and add stops taking parts,
	// when a response brings one more.
	maxCalls int
	tooMany  bool
	// respID is the first responseId: Gemini's id of the answer, which
	// it sends in place of a request-id header.
	respID string
}

// add takes in one response (a whole answer, or a stream event). It
// reports whether the response brought content or a call.
func (a *geminiAnswer) add(resp *gemini.Response) bool {
	if a.respID == "" {
		a.respID = resp.ResponseID
	}
	if resp.UsageMetadata != nil {
		a.usage = resp.UsageMetadata
	}
	if len(resp.Candidates) == 0 {
		return false
	}
	c := &resp.Candidates[0]
	if c.FinishReason != "" {
		a.finish = c.FinishReason
	}
	delta := false
	if c.Content == nil {
		return false
	}
	for i := range c.Content.Parts {
		p := &c.Content.Parts[i]
		switch {
		case p.FunctionCall != nil:
			if len(a.calls) >= a.maxCalls {
				a.tooMany = true
				return false
			}
			fc := p.FunctionCall
			id := fc.ID
			if id == "" {
				id = geminiLocalID + strconv.Itoa(len(a.calls))
			}
			args := "{}"
			if len(fc.Args) > 0 && string(fc.Args) != "null" {
				args = string(fc.Args)
			}
			a.calls = append(a.calls, openaichat.ToolCall{
				ID:        id,
				Type:      "function",
				Function:  openaichat.FunctionCall{Name: fc.Name, Arguments: args},
				Signature: p.ThoughtSignature,
			})
			delta = true
		case p.Text != nil && !p.Thought:
			a.hasText = true
			a.text = append(a.text, *p.Text...)
			delta = delta || *p.Text != ""
		}
	}
	return delta
}

// result fills r from the answer: a finish reason is required.
func (a *geminiAnswer) result(r *Result) {
	r.reqID = a.respID
	if a.usage != nil {
		u := a.usage
		if !plausibleTokens(u.PromptTokenCount, u.CandidatesTokenCount, u.ThoughtsTokenCount, u.CachedContentTokenCount) {
			r.Usage = implausibleUsage()
		} else {
			r.Usage = openaichat.Usage{
				PromptTokens:     u.PromptTokenCount,
				CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
			}
			r.Usage.TotalTokens = r.Usage.PromptTokens + r.Usage.CompletionTokens
			if u.CachedContentTokenCount > 0 {
				r.Usage.PromptTokensDetails = &openaichat.PromptTokensDetails{CachedTokens: u.CachedContentTokenCount}
			}
		}
	}
	if a.finish == "" {
		r.Outcome, r.Err = record.OutcomeProtocol, "answer without a finishReason"
		return
	}
	r.Msg.Role = "assistant"
	if a.hasText && (len(a.text) > 0 || len(a.calls) == 0) {
		s := string(a.text)
		r.Msg.Content = &s
	}
	r.Msg.ToolCalls = a.calls
	r.Finish = geminiFinish(a.finish, len(a.calls) > 0)
	r.Outcome = record.OutcomeOK
}

// geminiFinish maps a finishReason to the finish reason the conversation
// reads: Gemini says STOP after function calls too.
func geminiFinish(reason string, calls bool) string {
	switch {
	case calls:
		return openaichat.FinishToolCalls
	case reason == gemini.FinishStop:
		return openaichat.FinishStop
	case reason == gemini.FinishMaxTokens:
		return openaichat.FinishLength
	}
	return strings.ToLower(reason)
}

func (geminiDialect) readJSON(ctx, actx context.Context, body io.Reader, maxCalls int) (r Result) {
	var resp gemini.Response
	buf, ok := readJSONBody(ctx, actx, body, &resp, &r, maxCalls, geminiArrays)
	defer httpx.PutBuffer(buf)
	if !ok {
		return
	}
	if len(resp.Candidates) == 0 {
		r.Outcome, r.Err = record.OutcomeProtocol, "response has no candidates: "+httpx.Snippet(buf.Bytes())
		return
	}
	a := geminiAnswer{maxCalls: maxCalls}
	if !a.add(&resp) && a.tooMany {
		r.Outcome, r.Err = record.OutcomeProtocol, tooManyCalls(maxCalls)
		return
	}
	a.result(&r)
	return r
}

// readStream parses streamGenerateContent's events, each a whole response
// whose parts add up. The stream has no end marker: it is whole when an
// event gave a finishReason before the body ended. An error object in
// place of an event fails the attempt with the outcome of its code.
//
// An output event is one with text or a functionCall part. Gemini sends
// each call whole, so the event with the last functionCall completes the
// arguments.
func (geminiDialect) readStream(ctx, actx context.Context, body io.Reader, start time.Time, w *streamWatch, maxCalls int) (r Result) {
	r.Start, r.stream.start = start, start
	events := newEventReader(ctx, actx, body, w, maxCalls, geminiArrays)
	defer events.release()
	defer func() { r.broken = r.Outcome != record.OutcomeOK }()
	a := geminiAnswer{maxCalls: maxCalls}
	for {
		data, err := events.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.Outcome, r.Err = events.fail(err)
			return
		}
		var resp gemini.Response
		if err := json.Unmarshal(data, &resp); err != nil {
			r.Outcome, r.Err = decodeOutcome(err), "decoding stream event: "+err.Error()+": "+httpx.Snippet(data)
			return
		}
		if e := resp.Error; e != nil {
			r.Outcome, r.Err = streamErrorOutcome(e.Code, e.Status, e.Message)
			return
		}
		calls := len(a.calls)
		delta := a.add(&resp)
		if a.tooMany {
			r.Outcome, r.Err = record.OutcomeProtocol, tooManyCalls(maxCalls)
			return
		}
		if delta {
			at := r.stream.output(w)
			if len(a.calls) > calls {
				r.stream.toolCall(at)
				r.stream.argsComplete(at)
			}
		}
	}
	a.result(&r)
	if r.Outcome != record.OutcomeOK {
		r.Err = "stream ended without a finishReason"
	}
	return r
}

// errorText describes a failed answer. Gemini sends no Retry-After: its
// 429 says when to retry in a RetryInfo detail, which is copied into the
// response's Retry-After-Ms header for the policies to read.
func (geminiDialect) errorText(resp *http.Response, body io.Reader) string {
	buf := httpx.GetBuffer()
	defer httpx.PutBuffer(buf)
	_, _ = buf.ReadFrom(io.LimitReader(body, httpx.DrainLimit))
	data := buf.Bytes()
	var eb gemini.ErrorBody
	if json.Unmarshal(data, &eb) != nil || eb.Error.Message == "" {
		return httpx.ErrorText(resp.StatusCode, bytes.NewReader(data))
	}
	if d, ok := geminiRetryDelay(eb.Error.Details); ok && resp.Header.Get("Retry-After") == "" && resp.Header.Get("Retry-After-Ms") == "" {
		if resp.Header == nil {
			resp.Header = make(http.Header)
		}
		resp.Header.Set("Retry-After-Ms", strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', -1, 64))
	}
	msg := "HTTP " + strconv.Itoa(resp.StatusCode) + ": "
	if eb.Error.Status != "" {
		msg += eb.Error.Status + ": "
	}
	return msg + httpx.Truncate(eb.Error.Message, httpx.MaxErrorDetail)
}

// geminiRetryDelay finds the RetryInfo among an error's details.
func geminiRetryDelay(details []json.RawMessage) (time.Duration, bool) {
	for _, raw := range details {
		var ri gemini.RetryInfo
		if json.Unmarshal(raw, &ri) != nil || ri.Type != gemini.TypeRetryInfo {
			continue
		}
		secs, ok := strings.CutSuffix(ri.RetryDelay, "s")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(secs, 64)
		if err != nil || f < 0 {
			continue
		}
		return time.Duration(f * float64(time.Second)), true
	}
	return 0, false
}
