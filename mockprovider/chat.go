package mockprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// maxRequestBytes bounds a chat request body. Long conversations with big
// tool results stay far below it.
const maxRequestBytes = 32 << 20

// provider is one mock provider.
type provider struct {
	name  string
	model string
	mock  scenarios.ProviderMock
	// key identifies the provider in per-request RNG derivation.
	key uint64
	// limiter enforces mock.limits; nil when there are none. The admin
	// endpoint may swap it while requests run.
	limiter atomic.Pointer[limiter]
}

// chatRequest is the part of a chat completion request the mock reads.
// Contents are only measured, not kept: they may be strings or arrays of
// content parts, and only their size matters (for the prompt estimate).
type chatRequest struct {
	Model         string                    `json:"model"`
	Messages      []chatMessage             `json:"messages"`
	Tools         rawSize                   `json:"tools"`
	Stream        bool                      `json:"stream"`
	StreamOptions *openaichat.StreamOptions `json:"stream_options"`
}

type chatMessage struct {
	Role      role    `json:"role"`
	Content   rawSize `json:"content"`
	ToolCalls rawSize `json:"tool_calls"`
}

// rawSize records the length of a JSON value without keeping it.
type rawSize int

// UnmarshalJSON records len(b).
func (r *rawSize) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = 0
		return nil
	}
	*r = rawSize(len(b))
	return nil
}

// role is a message role, decoded without allocating.
type role uint8

const (
	roleMissing role = iota
	roleUnknown
	roleSystem
	roleDeveloper
	roleUser
	roleAssistant
	roleTool
	roleFunction
)

// UnmarshalJSON maps the role names OpenAI accepts.
func (r *role) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"user"`:
		*r = roleUser
	case `"assistant"`:
		*r = roleAssistant
	case `"tool"`:
		*r = roleTool
	case `"system"`:
		*r = roleSystem
	case `"developer"`:
		*r = roleDeveloper
	case `"function"`:
		*r = roleFunction
	case "null":
		*r = roleMissing
	default:
		*r = roleUnknown
	}
	return nil
}

// buffers are a request's reusable scratch space.
type buffers struct {
	body bytes.Buffer
	out  bytes.Buffer
	enc  *json.Encoder
}

func newBuffers() *buffers {
	b := &buffers{}
	b.enc = json.NewEncoder(&b.out)
	b.enc.SetEscapeHTML(false) // OpenAI does not escape <, > and &
	return b
}

// maxPooledBuffer keeps one huge request from pinning its memory in the pool.
const maxPooledBuffer = 1 << 20

func (s *Server) getBuffers() *buffers { return s.pool.Get().(*buffers) }

func (s *Server) putBuffers(b *buffers) {
	if b.body.Cap() > maxPooledBuffer || b.out.Cap() > maxPooledBuffer {
		return
	}
	b.body.Reset()
	b.out.Reset()
	s.pool.Put(b)
}

func (s *Server) handleProviderChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	name := r.PathValue("name")
	p := s.providers[name]
	if p == nil {
		drain(r)
		writeError(w, &apiError{
			status:  http.StatusNotFound,
			message: fmt.Sprintf("The mock provider %q does not exist; the mock serves %v.", name, s.providerNames),
			typ:     typeInvalidRequest,
			code:    "provider_not_found",
		})
		return
	}
	s.chat(w, r, p)
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	s.chat(w, r, nil)
}

// chat answers one chat completion request for p, or for the provider of
// the request's model when p is nil.
func (s *Server) chat(w http.ResponseWriter, r *http.Request, p *provider) {
	bufs := s.getBuffers()
	defer s.putBuffers(bufs)

	var req chatRequest
	if aerr := decodeChat(w, r, &bufs.body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if p == nil {
		if p = s.byModel[req.Model]; p == nil {
			p = s.providers[s.providerNames[0]]
		}
	}
	turn, replies, promptBytes := position(req.Messages)
	promptBytes += int(req.Tools)
	rep := s.script.pick(turn, replies)
	usage := rep.usageFor(promptBytes)
	rng := s.rng.forRequest(r.Header, p.key, uint64(turn), uint64(replies))

	// The rate limiter stands where a provider's gateway does: before
	// anything else, and a refusal is immediate.
	if lim := p.limiter.Load(); lim != nil {
		st := lim.admit(s.now(), usage.TotalTokens)
		if st.refused != "" {
			rateLimited(w, &st, req.Model)
			return
		}
		st.setHeaders(w.Header())
	}
	var dec decision
	if tl := s.timeline.Load(); tl.chat {
		dec = s.chatDecision(tl, r, p, req.Model, turn, replies, rng)
	}

	wt := waiter{ctx: r.Context(), done: s.done, waiting: &s.waiting}
	defer wt.stop()
	latency := Sample(p.mock.Latency, rng)
	if f := dec.f; f != nil {
		if s.failFast(w, &wt, f, dec.delay, p, usage.TotalTokens, req.Model) {
			return
		}
		if f.spec.Kind == scenarios.FaultSlowHeaders {
			latency += Sample(f.spec.Latency, rng)
		}
	}
	if err := wt.wait(latency + dec.delay); err != nil {
		s.abort(w, err)
		return
	}
	if req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		s.stream(w, &wt, bufs, &req, p, rep, rng, usage, includeUsage, dec.f)
		return
	}
	s.complete(w, &wt, bufs, &req, rep, rng, usage, dec.f)
}

// failFast carries out the faults that answer without the provider's
// normal latency (a gateway's answer, or none): hang, http_error,
// rate_limit, overloaded and reset, after the delay of the latency faults
// that fired. It reports whether it answered.
func (s *Server) failFast(w http.ResponseWriter, wt *waiter, f *fault, delay time.Duration, p *provider, tokens int, model string) bool {
	switch f.spec.Kind {
	case scenarios.FaultHang, scenarios.FaultHTTPError, scenarios.FaultRateLimit, scenarios.FaultOverloaded, scenarios.FaultReset:
	default:
		return false
	}
	if err := wt.wait(delay); err != nil {
		s.abort(w, err)
		return true
	}
	switch f.spec.Kind {
	case scenarios.FaultHang:
		s.abort(w, wt.hang())
	case scenarios.FaultHTTPError:
		writeHTTPError(w, f)
	case scenarios.FaultRateLimit:
		s.writeRateLimitFault(w, f, p.limiter.Load(), tokens, model)
	case scenarios.FaultOverloaded:
		writeOverloaded(w, f)
	case scenarios.FaultReset:
		resetConn(w)
	}
	return true
}

// abort ends a request whose wait was cut short. A client that went away
// gets nothing; a server that is closing answers 503.
func (s *Server) abort(w http.ResponseWriter, err error) {
	if errors.Is(err, errClosed) {
		writeError(w, &apiError{
			status:  http.StatusServiceUnavailable,
			message: "The mock server is shutting down.",
			typ:     typeServer,
		})
	}
}

// decodeChat reads and checks the request as OpenAI would, answering with
// OpenAI's messages for the common mistakes.
func decodeChat(w http.ResponseWriter, r *http.Request, body *bytes.Buffer, req *chatRequest) *apiError {
	rd := http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if r.ContentLength > 0 && r.ContentLength <= maxRequestBytes {
		body.Grow(int(r.ContentLength))
	}
	if _, err := body.ReadFrom(rd); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &apiError{
				status:  http.StatusRequestEntityTooLarge,
				message: fmt.Sprintf("The request body exceeds the mock's limit of %d bytes.", mbe.Limit),
				typ:     typeInvalidRequest,
			}
		}
		return invalidRequest("Could not read the request body: "+err.Error(), "", "")
	}
	if err := json.Unmarshal(body.Bytes(), req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return invalidRequest(fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", te.Field, te.Type, te.Value), te.Field, "invalid_type")
		}
		return invalidRequest("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "", "")
	}
	if req.Model == "" {
		return invalidRequest("you must provide a model parameter", "", "")
	}
	if req.Messages == nil {
		return invalidRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
	}
	if len(req.Messages) == 0 {
		return invalidRequest("[] is too short - 'messages'", "messages", "empty_array")
	}
	for i, m := range req.Messages {
		switch m.Role {
		case roleMissing:
			param := fmt.Sprintf("messages[%d].role", i)
			return invalidRequest("Missing required parameter: '"+param+"'.", param, "missing_required_parameter")
		case roleUnknown:
			param := fmt.Sprintf("messages[%d].role", i)
			return invalidRequest("Invalid value for '"+param+"'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", param, "invalid_value")
		}
	}
	return nil
}

// position finds where the conversation is: the turn is the number of user
// messages less one, the reply the number of assistant messages since the
// last user message. It also sums the size of the messages, for the prompt
// estimate.
func position(msgs []chatMessage) (turn, replies, size int) {
	users, last := 0, -1
	for i, m := range msgs {
		size += int(m.Content) + int(m.ToolCalls)
		if m.Role == roleUser {
			users++
			last = i
		}
	}
	for _, m := range msgs[last+1:] {
		if m.Role == roleAssistant {
			replies++
		}
	}
	return max(users-1, 0), replies, size
}

// usageFor is the reply's usage for a prompt of promptBytes: scripted
// fields as scripted, zero fields estimated. A prompt is never smaller than
// its cached part.
func (r *reply) usageFor(promptBytes int) openaichat.Usage {
	u := openaichat.Usage{PromptTokens: r.usage.PromptTokens, CompletionTokens: r.completion}
	if u.PromptTokens == 0 {
		u.PromptTokens = estimateTokens(promptBytes)
	}
	if c := r.usage.CachedTokens; c > 0 {
		u.PromptTokens = max(u.PromptTokens, c)
		u.PromptTokensDetails = &openaichat.PromptTokensDetails{CachedTokens: c}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// Id lengths of OpenAI's ids, after their prefixes.
const (
	completionIDLen = 29
	callIDLen       = 24
)

// complete writes a non-streaming completion.
// f, when set, is a fault that spoils the response (stream_stall before
// the body, stream_cut, malformed).
func (s *Server) complete(w http.ResponseWriter, wt *waiter, bufs *buffers, req *chatRequest, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	resp := openaichat.Response{
		ID:                randomID(rng, "chatcmpl-", completionIDLen),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             req.Model,
		Usage:             &usage,
		SystemFingerprint: systemFingerprint,
	}
	var choice [1]openaichat.Choice
	choice[0] = openaichat.Choice{Message: openaichat.Message{Role: "assistant"}, FinishReason: rep.finish}
	if len(rep.calls) > 0 {
		calls := make([]openaichat.ToolCall, len(rep.calls))
		for i, c := range rep.calls {
			calls[i] = openaichat.ToolCall{
				ID:       randomID(rng, "call_", callIDLen),
				Type:     "function",
				Function: openaichat.FunctionCall{Name: c.name, Arguments: c.args},
			}
		}
		choice[0].Message.ToolCalls = calls
	} else {
		choice[0].Message.Content = &rep.content
	}
	resp.Choices = choice[:]
	if err := bufs.enc.Encode(&resp); err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, message: "encoding the response: " + err.Error(), typ: typeServer})
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	body := bufs.out.Bytes()
	if f != nil {
		s.completeFault(w, wt, f, rng, body)
		return
	}
	w.Write(body)
}

// completeFault writes body, a whole completion, as f spoils it.
func (s *Server) completeFault(w http.ResponseWriter, wt *waiter, f *fault, rng *rand.Rand, body []byte) {
	h := w.Header()
	switch f.spec.Kind {
	case scenarios.FaultStreamStall:
		// The headers go out, then the body is late.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		if stall(wt, Sample(f.spec.Latency, rng)) != nil {
			return
		}
	case scenarios.FaultStreamCut:
		// The length promises the whole body; the connection ends before.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body[:cutAt(len(body))])
		cutConn(w)
	case scenarios.FaultMalformed:
		// A whole response, but not JSON: a proxy or a provider bug cut it.
		body = body[:cutAt(len(body))]
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.Write(body)
}

// cutAt is where a cut or malformed body ends: after a few bytes, before
// the end.
func cutAt(n int) int { return min(max(n/3, 1), n-1) }

// systemFingerprint marks responses as the mock's.
const systemFingerprint = "fp_mcpload_mock"

// Shared header values, set without allocating.
var (
	jsonContentType = []string{"application/json"}
	sseContentType  = []string{"text/event-stream"}
	noCache         = []string{"no-cache"}
)
