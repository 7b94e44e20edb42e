package mockprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// Id lengths of Anthropic's ids, after their prefixes (msg_01..., toolu_01...).
const (
	anthropicIDLen = 22
)

// messagesRequest is the part of a Messages API request the mock reads.
// As for chat, contents are measured, not kept.
type messagesRequest struct {
	Model      string                `json:"model"`
	MaxTokens  *int                  `json:"max_tokens"`
	System     rawSize               `json:"system"`
	Messages   []anthropicMessage    `json:"messages"`
	Tools      rawSize               `json:"tools"`
	ToolChoice *anthropic.ToolChoice `json:"tool_choice"`
	Stream     bool                  `json:"stream"`
}

// anthropicMessage is one input message. Content is kept raw: position
// looks into it to tell a user's turn from a reply of tool results.
type anthropicMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

func (s *Server) handleProviderMessages(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		anthropicMethodNotAllowed(w, r)
		return
	}
	if p := s.namedProvider(w, r, anthropicDialect{}.writeError); p != nil {
		s.messages(w, r, p)
	}
}

func (s *Server) handleMessages(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		anthropicMethodNotAllowed(w, r)
		return
	}
	s.messages(w, r, nil)
}

func anthropicMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	drain(r)
	w.Header().Set("Allow", http.MethodPost)
	anthropicDialect{}.writeError(w, &apiError{
		status:  http.StatusMethodNotAllowed,
		message: "Method " + r.Method + " is not allowed for " + r.URL.Path + "; use POST.",
	})
}

// messages answers one Messages API request for p, or for the provider of
// the request's model when p is nil.
func (s *Server) messages(w http.ResponseWriter, r *http.Request, p *provider) {
	d := anthropicDialect{}
	if aerr := checkAnthropicHeaders(r.Header); aerr != nil {
		drain(r)
		d.writeError(w, aerr)
		return
	}
	bufs := s.getBuffers()
	defer s.putBuffers(bufs)
	var req messagesRequest
	if aerr := decodeMessages(w, r, &bufs.body, &req); aerr != nil {
		d.writeError(w, aerr)
		return
	}
	if p == nil {
		p = s.providerFor(req.Model)
	}
	turn, replies, results, size := anthropicPosition(req.Messages)
	ex := exchange{
		model:       req.Model,
		stream:      req.Stream,
		turn:        turn,
		replies:     replies,
		results:     results,
		promptBytes: size + int(req.System) + int(req.Tools),
	}
	if tc := req.ToolChoice; tc != nil {
		switch tc.Type {
		case "none":
			ex.choice = choiceNone
		case "any":
			ex.choice = choiceRequired
		case "tool":
			ex.choice = tc.Name
		}
		ex.serial = tc.DisableParallelToolUse
	}
	s.answer(w, r, d, p, ex, bufs)
}

// checkAnthropicHeaders checks the headers as the API does: a version, and
// a key (x-api-key, or a bearer token). The mock takes any key.
func checkAnthropicHeaders(h http.Header) *apiError {
	if h.Get(anthropic.HeaderVersion) == "" {
		return &apiError{status: http.StatusBadRequest, message: "anthropic-version: header is required"}
	}
	if h.Get(anthropic.HeaderAPIKey) == "" && h.Get("Authorization") == "" {
		return &apiError{status: http.StatusUnauthorized, message: "x-api-key header is required"}
	}
	return nil
}

// decodeMessages reads and checks the request, answering with the API's
// messages for the common mistakes.
func decodeMessages(w http.ResponseWriter, r *http.Request, body *bytes.Buffer, req *messagesRequest) *apiError {
	if aerr := readBody(w, r, body); aerr != nil {
		return aerr
	}
	bad := func(msg string) *apiError { return &apiError{status: http.StatusBadRequest, message: msg} }
	if err := json.Unmarshal(body.Bytes(), req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return bad(fmt.Sprintf("%s: Input should be a valid %s", te.Field, te.Type))
		}
		return bad("There was an error parsing the body of your request: it is not valid JSON.")
	}
	switch {
	case req.Model == "":
		return bad("model: Field required")
	case req.MaxTokens == nil:
		return bad("max_tokens: Field required")
	case *req.MaxTokens < 1:
		return bad("max_tokens: Input should be greater than or equal to 1")
	case req.Messages == nil:
		return bad("messages: Field required")
	case len(req.Messages) == 0:
		return bad("messages: at least one message is required")
	}
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return bad(fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
		}
		if len(m.Content) == 0 || string(m.Content) == "null" {
			return bad(fmt.Sprintf("messages.%d.content: Field required", i))
		}
	}
	if tc := req.ToolChoice; tc != nil {
		switch {
		case tc.Type != "auto" && tc.Type != "any" && tc.Type != "tool" && tc.Type != "none":
			return bad("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
		case tc.Type == "tool" && tc.Name == "":
			return bad("tool_choice.tool.name: Field required")
		}
	}
	return nil
}

// anthropicPosition is position for Messages: a user message is a new turn
// unless it carries tool results, which answer the model's last reply.
func anthropicPosition(msgs []anthropicMessage) (turn, replies, results, size int) {
	users, last := 0, -1
	counts := make([]int, len(msgs))
	for i, m := range msgs {
		size += len(m.Content)
		if m.Role != "user" {
			continue
		}
		if counts[i] = toolResults(m.Content); counts[i] == 0 {
			users++
			last = i
		}
	}
	for i, m := range msgs[last+1:] {
		if m.Role == "assistant" {
			replies++
		}
		results += counts[last+1+i]
	}
	return max(users-1, 0), replies, results, size
}

// toolResults counts the tool_result blocks of content, a string or an
// array of blocks.
func toolResults(content json.RawMessage) int {
	c := bytes.TrimLeft(content, " \t\r\n")
	if len(c) == 0 || c[0] != '[' {
		return 0
	}
	var blocks []struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(c, &blocks) != nil {
		return 0
	}
	n := 0
	for _, b := range blocks {
		if b.Type == anthropic.BlockToolResult {
			n++
		}
	}
	return n
}

// anthropicDialect answers as Anthropic's Messages API.
type anthropicDialect struct{}

// writeError writes e in Anthropic's shape; the error type follows the
// status, as the API's do.
func (anthropicDialect) writeError(w http.ResponseWriter, e *apiError) {
	body := anthropic.ErrorBody{Type: "error", Error: anthropic.ErrorDetail{Type: anthropic.ErrorType(e.status), Message: e.message}}
	b, _ := json.Marshal(body) // plain strings: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	w.Write(append(b, '\n'))
}

// limitHeaders writes st as anthropic-ratelimit-* headers: each limit's
// -limit, -remaining and -reset, an RFC 3339 time.
func (anthropicDialect) limitHeaders(h http.Header, st limitState) {
	now := time.Now()
	reset := func(d time.Duration) []string {
		return []string{now.Add(max(d, 0)).UTC().Truncate(time.Second).Format(time.RFC3339)}
	}
	if st.limits.RPM > 0 {
		h[anthropic.HeaderRateLimitRequests+"Limit"] = []string{strconv.Itoa(st.limits.RPM)}
		h[anthropic.HeaderRateLimitRequests+"Remaining"] = []string{strconv.Itoa(st.remainingRequests)}
		h[anthropic.HeaderRateLimitRequests+"Reset"] = reset(st.resetRequests)
	}
	if st.limits.TPM > 0 {
		h[anthropic.HeaderRateLimitTokens+"Limit"] = []string{strconv.Itoa(st.limits.TPM)}
		h[anthropic.HeaderRateLimitTokens+"Remaining"] = []string{strconv.Itoa(st.remainingTokens)}
		h[anthropic.HeaderRateLimitTokens+"Reset"] = reset(st.resetTokens)
	}
}

// rateLimited answers Anthropic's 429: rate_limit_error, the limits in
// anthropic-ratelimit-* headers, and retry-after in whole seconds, the only
// wait hint the API sends.
func (d anthropicDialect) rateLimited(w http.ResponseWriter, st limitState, model string) {
	h := w.Header()
	d.limitHeaders(h, st)
	h["Retry-After"] = []string{strconv.FormatInt(int64(retryAfterSeconds(st.retryAfter)), 10)}
	h[hdrShouldRetry] = []string{"true"}
	what, limit := "requests per minute", st.limits.RPM
	if st.refused == "tokens" {
		what, limit = "input tokens per minute", st.limits.TPM
	}
	d.writeError(w, &apiError{
		status: http.StatusTooManyRequests,
		message: fmt.Sprintf("This request would exceed the rate limit for your organization of %d %s for %s. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.",
			limit, what, model),
	})
}

// retryAfterSeconds rounds d up to whole seconds, so that a client that
// waits exactly that long is not early.
func retryAfterSeconds(d time.Duration) time.Duration {
	return (max(d, 0) + time.Second - 1) / time.Second
}

// httpError answers an http_error fault as api_error; a 503 carries
// retry-after when the fault sets one.
func (d anthropicDialect) httpError(w http.ResponseWriter, f *fault) {
	status := f.spec.Status
	if status == 0 {
		status = defaultHTTPStatus
	}
	if status == http.StatusServiceUnavailable && f.spec.RetryAfter > 0 {
		w.Header()["Retry-After"] = []string{strconv.FormatInt(int64(retryAfterSeconds(f.spec.RetryAfter.D())), 10)}
	}
	msg := "Internal server error"
	if status != http.StatusInternalServerError {
		msg = http.StatusText(status)
	}
	d.writeError(w, &apiError{status: status, message: msg})
}

// overloaded answers 529 overloaded_error, Anthropic's own.
func (anthropicDialect) overloaded(w http.ResponseWriter, f *fault) { writeOverloaded(w, f) }

// usage converts the mock's usage: Anthropic's input_tokens leaves out the
// cache reads, which cache_read_input_tokens counts.
func anthropicUsage(u openaichat.Usage) anthropic.Usage {
	cached := u.Cached()
	return anthropic.Usage{
		InputTokens:          u.PromptTokens - cached,
		CacheReadInputTokens: cached,
		CacheCreation:        &anthropic.CacheCreation{},
		OutputTokens:         u.CompletionTokens,
		ServiceTier:          "standard",
	}
}

// stopReason is rep's stop_reason.
func anthropicStop(rep *reply) string {
	if len(rep.calls) > 0 {
		return anthropic.StopToolUse
	}
	return anthropic.StopEndTurn
}

// complete writes a whole message: a text block, or one tool_use block
// per call.
func (anthropicDialect) complete(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	stop := anthropicStop(rep)
	resp := anthropic.Response{
		ID:         randomID(rng, "msg_01", anthropicIDLen),
		Type:       "message",
		Role:       "assistant",
		Model:      ex.model,
		StopReason: &stop,
		Usage:      anthropicUsage(usage),
	}
	if len(rep.calls) > 0 {
		resp.Content = make([]anthropic.ContentBlock, len(rep.calls))
		for i, c := range rep.calls {
			resp.Content[i] = anthropic.ContentBlock{
				Type:  anthropic.BlockToolUse,
				ID:    randomID(rng, "toolu_01", anthropicIDLen),
				Name:  c.name,
				Input: json.RawMessage(c.args),
			}
		}
	} else {
		resp.Content = []anthropic.ContentBlock{{Type: anthropic.BlockText, Text: &rep.content}}
	}
	if err := bufs.enc.Encode(&resp); err != nil {
		anthropicDialect{}.writeError(w, &apiError{status: http.StatusInternalServerError, message: "encoding the response: " + err.Error()})
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	body := bufs.out.Bytes()
	if f != nil {
		completeFault(w, wt, f, rng, body)
		return
	}
	w.Write(body)
}

// stream writes rep as Anthropic's event stream: message_start, then per
// content block content_block_start, its deltas (text_delta, or
// input_json_delta fragments of a tool_use's input) and content_block_stop;
// message_delta with the stop reason and output tokens; message_stop. A
// ping follows the first block's start, as the API sends one early.
//
// The first delta (a text delta, or the start of a tool_use block, which
// names the call) waits ttft, each later one token_gap. f spoils the
// stream as for OpenAI: stream_stall and stream_cut act after
// f.AfterChunks deltas, or before message_delta when there are fewer;
// malformed sends an event whose data is not JSON in place of the first
// delta, then message_stop.
func (anthropicDialect) stream(w http.ResponseWriter, wt *waiter, bufs *buffers, ex exchange, p *provider, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	startSSE(w)
	e := newEvents(w, bufs, "\n\n")
	u := anthropicUsage(usage)
	start := u
	start.OutputTokens = 1 // the API counts the first token at the start
	msg := anthropic.Response{
		ID:      randomID(rng, "msg_01", anthropicIDLen),
		Type:    "message",
		Role:    "assistant",
		Model:   ex.model,
		Content: []anthropic.ContentBlock{},
		Usage:   start,
	}
	if e.send(anthropic.EventMessageStart, anthropic.StreamEvent{Type: anthropic.EventMessageStart, Message: &msg}) != nil {
		return
	}
	if f != nil && f.spec.Kind == scenarios.FaultMalformed {
		if e.write(malformedAnthropicEvent) == nil {
			e.send(anthropic.EventMessageStop, anthropic.StreamEvent{Type: anthropic.EventMessageStop})
		}
		return
	}
	ping := func() error { return e.send(anthropic.EventPing, anthropic.StreamEvent{Type: anthropic.EventPing}) }
	pc := newPacer(wt, p, rng)
	sent := 0
	// spoil counts a delta that went out and carries out f after the
	// right one; it reports whether the stream must end.
	spoil := func() bool {
		sent++
		return f != nil && sent == f.spec.AfterChunks && streamFault(w, wt, f, rng)
	}
	blockEvent := func(typ string, i int, v *anthropic.StreamEvent) error {
		v.Type, v.Index = typ, &i
		return e.send(typ, v)
	}
	if len(rep.calls) > 0 {
		if ping() != nil {
			return
		}
		for i, c := range rep.calls {
			if pc.pause() != nil {
				return
			}
			block := anthropic.ContentBlock{
				Type:  anthropic.BlockToolUse,
				ID:    randomID(rng, "toolu_01", anthropicIDLen),
				Name:  c.name,
				Input: json.RawMessage("{}"),
			}
			if blockEvent(anthropic.EventContentBlockStart, i, &anthropic.StreamEvent{ContentBlock: &block}) != nil || spoil() {
				return
			}
			for j := range c.frags {
				if pc.pause() != nil {
					return
				}
				delta := anthropic.Delta{Type: anthropic.DeltaInputJSON, PartialJSON: &c.frags[j]}
				if blockEvent(anthropic.EventContentBlockDelta, i, &anthropic.StreamEvent{Delta: &delta}) != nil || spoil() {
					return
				}
			}
			if blockEvent(anthropic.EventContentBlockStop, i, &anthropic.StreamEvent{}) != nil {
				return
			}
		}
	} else {
		empty := ""
		block := anthropic.ContentBlock{Type: anthropic.BlockText, Text: &empty}
		if blockEvent(anthropic.EventContentBlockStart, 0, &anthropic.StreamEvent{ContentBlock: &block}) != nil || ping() != nil {
			return
		}
		for i := range rep.pieces {
			if pc.pause() != nil {
				return
			}
			delta := anthropic.Delta{Type: anthropic.DeltaText, Text: &rep.pieces[i]}
			if blockEvent(anthropic.EventContentBlockDelta, 0, &anthropic.StreamEvent{Delta: &delta}) != nil || spoil() {
				return
			}
		}
		if blockEvent(anthropic.EventContentBlockStop, 0, &anthropic.StreamEvent{}) != nil {
			return
		}
	}
	if f != nil && sent < f.spec.AfterChunks && streamFault(w, wt, f, rng) {
		return
	}
	if pc.pause() != nil {
		return
	}
	stop := anthropicStop(rep)
	null := json.RawMessage("null")
	md := anthropic.StreamEvent{
		Type:  anthropic.EventMessageDelta,
		Delta: &anthropic.Delta{StopReason: &stop, StopSequence: &null},
		Usage: &anthropic.DeltaUsage{OutputTokens: u.OutputTokens},
	}
	if e.send(anthropic.EventMessageDelta, md) != nil {
		return
	}
	e.send(anthropic.EventMessageStop, anthropic.StreamEvent{Type: anthropic.EventMessageStop})
}

// malformedAnthropicEvent is a content_block_delta whose data is not JSON:
// an event cut short.
var malformedAnthropicEvent = []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"It is\n\n")
