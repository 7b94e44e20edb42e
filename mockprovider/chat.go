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
	name string
	// api is the scenario's dialect of the provider. The mock answers
	// every dialect on every provider; api only picks what Endpoints lists.
	api   string
	model string
	mock  scenarios.ProviderMock
	// key identifies the provider in per-request RNG derivation.
	key uint64
	// limiter enforces mock.limits; nil when there are none. The admin
	// endpoint may swap it while requests run.
	limiter atomic.Pointer[limiter]
	// counts counts the requests answered, and what a mock gateway
	// reported (gateway.go).
	counts *gatewayCounts
	// capacity is mock.concurrency and mock.latency_per_in_flight; nil
	// when unset.
	capacity *capacity
}

// chatRequest is the part of a chat completion request the mock reads.
// Contents are only measured, not kept: they may be strings or arrays of
// content parts, and only their size matters (for the prompt estimate).
type chatRequest struct {
	Model             string                    `json:"model"`
	Messages          []chatMessage             `json:"messages"`
	Tools             rawSize                   `json:"tools"`
	ToolChoice        json.RawMessage           `json:"tool_choice"`
	ParallelToolCalls *bool                     `json:"parallel_tool_calls"`
	Stream            bool                      `json:"stream"`
	StreamOptions     *openaichat.StreamOptions `json:"stream_options"`
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
	// call is the chat completion between prepare and its answer.
	call chatCall
}

// chatCall is what a chat completion carries from its decoding to its
// answer, across the wait for its latency (see serveChat).
type chatCall struct {
	ex exchange
	p  *provider
	a  answer
	wt waiter
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
	if p := s.namedProvider(w, r, writeError); p != nil {
		s.serveChat(w, r, p)
	}
}

// namedProvider returns the provider the request's {name} path value names.
// For a name the mock does not serve, it drains the request, answers 404
// through write (the error shape of the API asked for) and returns nil.
func (s *Server) namedProvider(w http.ResponseWriter, r *http.Request, write func(http.ResponseWriter, *apiError)) *provider {
	name := r.PathValue("name")
	if p := s.providers[name]; p != nil {
		return p
	}
	drain(r)
	write(w, &apiError{
		status:  http.StatusNotFound,
		message: fmt.Sprintf("The mock provider %q does not exist; the mock serves %v.", name, s.providerNames),
		typ:     typeInvalidRequest,
		code:    "provider_not_found",
	})
	return nil
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, http.MethodPost)
		return
	}
	s.serveChat(w, r, nil)
}

// serveChat answers one chat completion request for p, or for the
// provider of the request's model when p is nil. The wait for the
// latency happens here, with the call's state in its pooled buffers,
// rather than down in chat and prepare: thousands of handlers wait at
// once (45 s each in the incident), and the runtime halves a waiting
// goroutine's stack only while it uses under a quarter of it, the
// runtime's 800-byte guard included. Waiting here uses about 1 KiB, so a
// handler keeps 4 KiB of stack rather than 8.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, p *provider) {
	bufs := s.chat(w, r, p)
	if bufs == nil {
		return
	}
	defer s.endChat(bufs)
	c := &bufs.call
	if err := c.wt.wait(c.a.wait); err != nil {
		s.abortIn(w, openAI{}, err)
		return
	}
	s.answerChat(w, bufs)
}

// endChat releases a call's timer and buffers.
func (s *Server) endChat(bufs *buffers) {
	bufs.call.wt.stop()
	bufs.call = chatCall{}
	s.putBuffers(bufs)
}

// answerChat writes a prepared call's answer, once its latency is over.
func (s *Server) answerChat(w http.ResponseWriter, bufs *buffers) {
	c := &bufs.call
	a := &c.a
	if c.ex.stream {
		streamOpenAI(w, &c.wt, bufs, c.ex.model, c.p, a.rep, a.rng, a.usage, c.ex.includeUsage, a.f)
		return
	}
	completeOpenAI(w, &c.wt, bufs, c.ex.model, a.rep, a.rng, a.usage, a.f)
}

// chat decodes and prepares one chat completion request for p (or the
// provider of its model, when p is nil). It returns the buffers holding
// the prepared call, or nil when it has answered already (a bad request,
// a refusal, a fault) and released them.
func (s *Server) chat(w http.ResponseWriter, r *http.Request, p *provider) *buffers {
	bufs := s.getBuffers()
	var req chatRequest
	if aerr := decodeChat(w, r, &bufs.body, &req); aerr != nil {
		writeError(w, aerr)
		s.putBuffers(bufs)
		return nil
	}
	if p == nil {
		p = s.providerFor(req.Model)
	}
	turn, replies, results, promptBytes := position(req.Messages)
	ex := exchange{
		model:        req.Model,
		stream:       req.Stream,
		includeUsage: req.StreamOptions != nil && req.StreamOptions.IncludeUsage,
		turn:         turn,
		replies:      replies,
		results:      results,
		promptBytes:  promptBytes + int(req.Tools),
		serial:       req.ParallelToolCalls != nil && !*req.ParallelToolCalls,
	}
	if req.ToolChoice != nil {
		ex.choice = openAIChoice(req.ToolChoice) // checked by decodeChat
	}
	c := &bufs.call
	c.ex, c.p = ex, p
	c.wt = waiter{ctx: r.Context(), done: s.done, waiting: &s.waiting}
	a, ok := s.prepare(w, r, openAI{}, p, ex, &c.wt)
	if !ok {
		s.endChat(bufs)
		return nil
	}
	c.a = a
	return bufs
}

// providerFor is the provider of model on the routes that do not name one:
// the first whose model it is, else the first provider.
func (s *Server) providerFor(model string) *provider {
	if p := s.byModel[model]; p != nil {
		return p
	}
	return s.providers[s.providerNames[0]]
}

// answer is what prepare decided for a request: the scripted reply, its
// usage and RNG, and the fault that spoils the answer, if any.
type answer struct {
	rep   *reply
	rng   *rand.Rand
	usage openaichat.Usage
	f     *fault
	// wait is the latency still to wait out before the answer.
	wait time.Duration
}

// prepare does for a decoded request ex to p, in dialect d, everything
// before the answer is written, the same for every dialect: it picks the
// scripted reply, applies p's rate limits and the fault timeline, and
// draws the latency, a.wait, which the caller waits out. It reports false
// when it has answered already (a refusal, a fault). The caller then
// writes the answer
// in its dialect, calling its functions directly: wt would escape to the
// heap, one allocation per request, if it went through the dialect
// interface.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, d dialect, p *provider, ex exchange, wt *waiter) (answer, bool) {
	rep := s.script.choose(ex)
	a := answer{rep: rep, usage: rep.usageFor(ex.promptBytes)}
	a.rng = s.rng.forRequest(r.Header, p.key, uint64(ex.turn), uint64(ex.replies))
	s.answerHeaders(w.Header(), d, p, a.rng)

	// The rate limiter stands where a provider's gateway does: before
	// anything else, and a refusal is immediate.
	if lim := p.limiter.Load(); lim != nil {
		st := lim.admit(s.now(), a.usage.TotalTokens)
		if st.refused != "" {
			d.rateLimited(w, st, ex.model)
			return a, false
		}
		d.limitHeaders(w.Header(), st)
	}
	var dec decision
	if tl := s.timeline.Load(); tl.chat {
		dec = s.chatDecision(tl, r, p, ex.model, ex.turn, ex.replies, a.rng)
	}
	latency := Sample(p.mock.Latency, a.rng)
	if f := dec.f; f != nil {
		if s.failFast(w, wt, d, f, dec.delay, p, a.usage.TotalTokens, ex.model) {
			return a, false
		}
		if f.spec.Kind == scenarios.FaultSlowHeaders {
			latency += Sample(f.spec.Latency, a.rng)
		}
	}
	// A request takes its place in the server's queue once past the
	// gateway (limits, fast faults), and holds it until its answer is
	// written (the waiter's stop frees it): a latency fault slows the
	// server, so it lowers the capacity too.
	extra, err := wt.hold(p.capacity)
	if err != nil {
		s.abortIn(w, d, err)
		return a, false
	}
	a.f, a.wait = dec.f, latency+extra+dec.delay
	return a, true
}

// failFast carries out the faults that answer without the provider's
// normal latency (a gateway's answer, or none): hang, http_error,
// rate_limit, overloaded and reset, after the delay of the latency faults
// that fired. It reports whether it answered.
func (s *Server) failFast(w http.ResponseWriter, wt *waiter, d dialect, f *fault, delay time.Duration, p *provider, tokens int, model string) bool {
	switch f.spec.Kind {
	case scenarios.FaultHang, scenarios.FaultHTTPError, scenarios.FaultRateLimit, scenarios.FaultOverloaded, scenarios.FaultReset:
	default:
		return false
	}
	if err := wt.wait(delay); err != nil {
		s.abortIn(w, d, err)
		return true
	}
	switch f.spec.Kind {
	case scenarios.FaultHang:
		s.abortIn(w, d, wt.hang())
	case scenarios.FaultHTTPError:
		d.httpError(w, f)
	case scenarios.FaultRateLimit:
		d.rateLimited(w, *s.rateLimitFaultState(f, p.limiter.Load(), tokens), model)
	case scenarios.FaultOverloaded:
		d.overloaded(w, f)
	case scenarios.FaultReset:
		resetConn(w)
	}
	return true
}

// abort ends a request whose wait was cut short. A client that went away
// gets nothing; a server that is closing answers 503.
func (s *Server) abort(w http.ResponseWriter, err error) { s.abortIn(w, openAI{}, err) }

// abortIn is abort, answering in dialect d.
func (s *Server) abortIn(w http.ResponseWriter, d dialect, err error) {
	if errors.Is(err, errClosed) {
		d.writeError(w, &apiError{
			status:  http.StatusServiceUnavailable,
			message: "The mock server is shutting down.",
			typ:     typeServer,
		})
	}
}

// decodeChat reads and checks the request as OpenAI would, answering with
// OpenAI's messages for the common mistakes.
func decodeChat(w http.ResponseWriter, r *http.Request, body *bytes.Buffer, req *chatRequest) *apiError {
	if aerr := readBody(w, r, body); aerr != nil {
		return aerr
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
	// tool_choice and parallel_tool_calls without tools are taken, as
	// they always were by the mock, though OpenAI refuses them.
	if req.ToolChoice != nil && openAIChoice(req.ToolChoice) == "" && string(req.ToolChoice) != `"auto"` && string(req.ToolChoice) != "null" {
		return invalidRequest(`Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or {"type": "function", "function": {"name": ...}}.`, "tool_choice", "invalid_value")
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

// readBody reads a request body into body, within maxRequestBytes.
func readBody(w http.ResponseWriter, r *http.Request, body *bytes.Buffer) *apiError {
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
	return nil
}

// position finds where the conversation is: the turn is the number of user
// messages less one, the reply the number of assistant messages since the
// last user message, and results the number of tool messages since then.
// It also sums the size of the messages, for the prompt estimate.
func position(msgs []chatMessage) (turn, replies, results, size int) {
	users, last := 0, -1
	for i, m := range msgs {
		size += int(m.Content) + int(m.ToolCalls)
		if m.Role == roleUser {
			users++
			last = i
		}
	}
	for _, m := range msgs[last+1:] {
		switch m.Role {
		case roleAssistant:
			replies++
		case roleTool:
			results++
		}
	}
	return max(users-1, 0), replies, results, size
}

// openAIChoice is the exchange's choice of a tool_choice: "" for auto or
// a value it does not know.
func openAIChoice(raw json.RawMessage) string {
	switch string(raw) {
	case `"none"`:
		return choiceNone
	case `"required"`:
		return choiceRequired
	case `"auto"`, "null":
		return ""
	}
	var named openaichat.NamedToolChoice
	if json.Unmarshal(raw, &named) == nil && named.Type == "function" {
		return named.Function.Name
	}
	return ""
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

// completeOpenAI writes a non-streaming completion.
// f, when set, is a fault that spoils the response (stream_stall before
// the body, stream_cut, malformed).
func completeOpenAI(w http.ResponseWriter, wt *waiter, bufs *buffers, model string, rep *reply, rng *rand.Rand, usage openaichat.Usage, f *fault) {
	resp := openaichat.Response{
		ID:                randomID(rng, "chatcmpl-", completionIDLen),
		Object:            "chat.completion",
		Created:           time.Now().Unix(),
		Model:             model,
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
		completeFault(w, wt, f, rng, body)
		return
	}
	w.Write(body)
}

// completeFault writes body, a whole answer, as f spoils it.
func completeFault(w http.ResponseWriter, wt *waiter, f *fault, rng *rand.Rand, body []byte) {
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
