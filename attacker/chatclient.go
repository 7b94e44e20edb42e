package attacker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// Limits on what one attempt reads, so that a misbehaving peer costs bounded
// memory. drainLimit bounds what is read from a body nobody needs (errors,
// leftovers after [DONE]): small bodies are read to the end so that the
// connection goes back to the pool, big ones are cut and the connection is
// dropped. A whole body, streamed or not, is bounded by
// client.limits.max_response_bytes (countingBody).
const (
	drainLimit = 64 << 10
	maxSSELine = 16 << 20
	// maxErrorDetail bounds a target's text quoted in an error before it
	// is redacted; redactor.clip cuts it to its final length after.
	maxErrorDetail = maxRawDetail
)

// Header values shared by every request. They are assigned into the header
// map directly, which saves Header.Set's canonicalisation and a slice per
// request; nothing mutates them.
var (
	hdrJSON       = []string{"application/json"}
	hdrAcceptChat = []string{"application/json, text/event-stream"}
)

// chatClient sends the model steps of a conversation: it builds the
// request for the conversation's provider and sends it through the
// provider's policy chain (policy.NewChain), or straight to its attempt
// RoundTripper when the scenario sets no policy. It does no redirects of
// its own, and every HTTP exchange in the chain is one recorded attempt.
type chatClient struct {
	rt       http.RoundTripper
	attempt  *chatAttempt  // the primary's, called directly without policies
	ep       *chatEndpoint // the primary provider
	stepKey  string        // record.ModelKey(primary)
	seed     uint64
	redact   *redactor
	accept   []string
	hasChain bool // a policy chain, not the bare attempt, is rt
}

// chatEndpoint is where one provider's chat requests go, and how their
// bodies start.
type chatEndpoint struct {
	provider string
	url      string // .../chat/completions, .../messages, ...:generateContent
	dialect  dialect
	// hdrs carry the key (and the API's version).
	hdrs   []header
	stream bool
	// prefix is the request body up to the conversation: model, stream
	// options and the tools, marshalled once per job.
	prefix []byte
}

// newChatEndpoint builds the endpoint of provider name at url (its model
// step URL) in dialect d; apiKey is "" for the mock.
func newChatEndpoint(name string, p *scenarios.Provider, d dialect, url, apiKey string, tools []*scenarios.Tool) (*chatEndpoint, error) {
	prefix, err := d.prefix(p, tools)
	if err != nil {
		return nil, err
	}
	return &chatEndpoint{provider: name, url: url, dialect: d, hdrs: d.headers(apiKey), stream: p.Stream, prefix: prefix}, nil
}

// body returns the request body of a step over msgs.
func (ep *chatEndpoint) body(msgs []openaichat.Message) []byte {
	b := make([]byte, 0, len(ep.prefix)+256*len(msgs)+2)
	return ep.dialect.appendBody(append(b, ep.prefix...), msgs)
}

// setHeaders sets the endpoint's key headers into h.
func (ep *chatEndpoint) setHeaders(h http.Header) {
	for _, kv := range ep.hdrs {
		h[kv.name] = kv.value
	}
}

// accept returns the Accept header of the endpoint's requests.
func (ep *chatEndpoint) accept() []string {
	if ep.stream {
		return hdrAcceptChat
	}
	return hdrJSON
}

// rewriteFrom returns the fallback rewrite from the primary's requests to
// this endpoint: the same conversation for this provider (its model,
// stream options and dialect), at its URL, with its credentials. Within a
// dialect the primary's body keeps its conversation behind this
// provider's prefix; across dialects the conversation, which the step
// carries, is written anew.
func (ep *chatEndpoint) rewriteFrom(primary *chatEndpoint) func(*http.Request) (*http.Request, error) {
	return func(req *http.Request) (*http.Request, error) {
		var body []byte
		if ep.dialect == primary.dialect {
			if req.GetBody == nil {
				return nil, errors.New("fallback: request body cannot be read again")
			}
			rc, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("fallback: %w", err)
			}
			old, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("fallback: %w", err)
			}
			if !bytes.HasPrefix(old, primary.prefix) {
				return nil, errors.New("fallback: request was not built for the primary provider")
			}
			body = make([]byte, 0, len(ep.prefix)+len(old)-len(primary.prefix))
			body = append(append(body, ep.prefix...), old[len(primary.prefix):]...)
		} else {
			ss := stepStateFrom(req.Context())
			if ss == nil || ss.msgs == nil {
				return nil, errors.New("fallback: the step's conversation is not known")
			}
			body = ep.body(ss.msgs)
		}
		out, err := http.NewRequestWithContext(req.Context(), http.MethodPost, ep.url, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("fallback: %w", err)
		}
		out.Header = req.Header.Clone()
		out.Header["Accept"] = ep.accept()
		for _, kv := range primary.hdrs {
			delete(out.Header, kv.name)
		}
		ep.setHeaders(out.Header)
		return out, nil
	}
}

// newChatClient builds the model client of a conversation: primary is
// conversation.provider, others the providers its fallback chain may use,
// attempts their attempt RoundTrippers, by name.
func newChatClient(c *scenarios.Client, seed int64, primary *chatEndpoint, attempts map[string]*chatAttempt, others map[string]*chatEndpoint, rd *redactor) (*chatClient, error) {
	cc := &chatClient{
		ep:      primary,
		stepKey: record.ModelKey(primary.provider),
		seed:    uint64(seed),
		redact:  rd,
		accept:  primary.accept(),
	}
	cc.attempt = attempts[primary.provider]
	cc.rt = cc.attempt
	if !hasPolicies(c) {
		return cc, nil
	}
	var targets []policy.Target
	for name, ep := range others {
		targets = append(targets, policy.Target{Provider: name, Attempt: attempts[name], Rewrite: ep.rewriteFrom(primary)})
	}
	chain, err := policy.NewChain(c, policy.Target{Provider: primary.provider, Attempt: attempts[primary.provider]}, targets...)
	if err != nil {
		return nil, err
	}
	cc.rt, cc.hasChain = chain, true
	return cc, nil
}

// hasPolicies reports whether c sets any policy that wraps the attempt.
func hasPolicies(c *scenarios.Client) bool {
	return c.Retry != nil || c.Breaker != nil || len(c.Fallback) > 0 ||
		(c.Hedge != nil && c.Hedge.Delay > 0) || (c.Cache != nil && c.Cache.TTL > 0)
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

// chatResult is the outcome of one chat attempt or, from do, of a step.
type chatResult struct {
	msg     openaichat.Message
	finish  string
	usage   openaichat.Usage
	status  int
	bytesIn int64
	outcome string
	err     string
	start   time.Time
	latency time.Duration
	ttft    time.Duration
	// stream times a streamed answer's events (an attempt's only).
	stream streamClock
	// provider is the provider that answered the step (do only).
	provider string
	// broken is set when the body failed part-way: what is left of it may
	// never end, so it is not drained and its connection is dropped.
	broken bool
}

// do runs model step step of conversation seq: one request through the
// chain, with every attempt recorded to sink as it ends. The result's
// start, latency and TTFT are the step's; its bytes sum every attempt's.
func (c *chatClient) do(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink) chatResult {
	body := c.ep.body(msgs)
	if !c.hasChain {
		// No policy: one attempt, without a template request or a
		// context value, so that this path costs what it did before
		// policies existed.
		st := policy.Step{Conversation: seq, Index: step}
		start := time.Now()
		r, _ := c.attempt.attempt(ctx, nil, body, &st, sink)
		r.start, r.latency, r.provider = start, time.Since(start), c.ep.provider
		return r
	}

	st := newStepState(seq, step, c.stepKey, c.ep.provider, c.seed, sink)
	st.msgs = msgs // for a fallback to another dialect
	start := time.Now()
	var r chatResult
	req, err := http.NewRequestWithContext(policy.WithStep(ctx, &st.Step), http.MethodPost, c.ep.url, bytes.NewReader(body))
	if err != nil {
		r.outcome, r.err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
	} else {
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = c.accept
		c.ep.setHeaders(req.Header)
		resp, err := c.rt.RoundTrip(req)
		r = c.result(ctx, resp, err)
	}
	if r.ttft > 0 {
		r.ttft += r.start.Sub(start) // the winning attempt's, from the step's start
	}
	if st.Attempts() == 0 {
		r.ttft = 0 // answered without an attempt: a cache hit
	}
	r.start = start
	r.latency = time.Since(start)
	r.bytesIn = st.bytesIn.Load()
	r.provider = st.CurrentProvider()
	return r
}

// result extracts the step's result from what the chain returned: the
// attempt's own, or the classified error of a policy (a breaker refusal,
// a wait cut short).
func (c *chatClient) result(ctx context.Context, resp *http.Response, err error) chatResult {
	if err != nil {
		var ae *attemptError
		if errors.As(err, &ae) {
			return ae.res
		}
		r := chatResult{outcome: policy.OutcomeOf(nil, err), err: c.redact.clip(err.Error())}
		if o := policy.StopOutcome(ctx); o != "" {
			r.outcome = o
		}
		return r
	}
	if b, ok := resp.Body.(*chatBody); ok {
		return b.res
	}
	// Not an attempt's response: some RoundTripper in between made it.
	policy.Discard(resp)
	r := chatResult{status: resp.StatusCode, outcome: policy.StatusOutcome(resp.StatusCode)}
	if r.outcome == record.OutcomeOK {
		r.outcome, r.err = record.OutcomeProtocol, "response without a parsed body"
	} else {
		r.err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	return r
}

// readJSONBody reads a whole response body into a pooled buffer and
// decodes it into v. On failure it records the outcome in r and returns
// false. The caller puts buf back when done: error texts quote it. The
// body's size is bounded by the countingBody it comes through, and what
// it decodes into by arrayBound over arrays, for maxCalls.
func readJSONBody(ctx, actx context.Context, body io.Reader, v any, r *chatResult, maxCalls int, arrays []jsonPath) (buf *bytes.Buffer, ok bool) {
	buf = getBuffer()
	if _, err := buf.ReadFrom(body); err != nil {
		r.outcome, r.err, r.broken = classifyBodyErr(ctx, actx, err), "reading response: "+bodyErrText(actx, err), true
		return buf, false
	}
	if e := arrayBound(buf.Bytes(), maxCalls, arrays); e != "" {
		r.outcome, r.err = record.OutcomeProtocol, e
		return buf, false
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		r.outcome, r.err = decodeOutcome(err), "decoding response: "+err.Error()+": "+snippet(buf.Bytes())
		return buf, false
	}
	return buf, true
}

// readChatJSON parses a non-streamed completion of at most maxCalls tool
// calls.
func readChatJSON(ctx, actx context.Context, body io.Reader, r *chatResult, maxCalls int) {
	var resp chatResponse
	buf, ok := readJSONBody(ctx, actx, body, &resp, r, maxCalls, openAIArrays)
	defer putBuffer(buf)
	if !ok {
		return
	}
	if len(resp.Choices) == 0 {
		r.outcome, r.err = record.OutcomeProtocol, "response has no choices: "+snippet(buf.Bytes())
		return
	}
	ch := resp.Choices[0]
	if len(ch.Message.ToolCalls) > maxCalls {
		r.outcome, r.err = record.OutcomeProtocol, tooManyCalls(maxCalls)
		return
	}
	r.msg = ch.Message
	r.msg.Role = "assistant"
	r.finish = ch.FinishReason
	if resp.Usage != nil {
		r.usage = *resp.Usage
	}
	r.outcome = record.OutcomeOK
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
func readChatStream(ctx, actx context.Context, body io.Reader, r *chatResult, w *streamWatch, maxCalls int) {
	r.stream.start = r.start
	sr := newSSEReader(body)
	defer sr.release()
	defer func() { r.broken = r.outcome != record.OutcomeOK }()
	var (
		content    []byte
		hasContent bool
		calls      []toolCallAcc
		done       bool
	)
	for !done {
		data, err := sr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.outcome, r.err = classifyBodyErr(ctx, actx, err), "reading stream: "+bodyErrText(actx, err)
			return
		}
		w.event()
		if string(data) == openaichat.StreamDone {
			done = true
			break
		}
		if e := arrayBound(data, maxCalls, openAIArrays); e != "" {
			r.outcome, r.err = record.OutcomeProtocol, e
			return
		}
		var ch streamChunk
		if err := json.Unmarshal(data, &ch); err != nil {
			r.outcome, r.err = decodeOutcome(err), "decoding stream chunk: "+err.Error()+": "+snippet(data)
			return
		}
		if ch.Error != nil {
			r.outcome, r.err = record.OutcomeProtocol, "error in stream: "+truncate(ch.Error.Message, maxErrorDetail)
			return
		}
		if ch.Usage != nil {
			r.usage = *ch.Usage
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
					r.outcome, r.err = record.OutcomeProtocol, fmt.Sprintf("stream: tool call index %d out of range", idx)
					return
				}
				if idx >= maxCalls {
					r.outcome, r.err = record.OutcomeProtocol, tooManyCalls(maxCalls)
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
				r.finish = *choice.FinishReason
				if len(calls) > 0 {
					// OpenAI has no event that ends one call: the
					// arguments are whole with the finish reason.
					r.stream.argsComplete(r.stream.now())
				}
			}
		}
	}
	if !done {
		r.outcome, r.err = record.OutcomeProtocol, "stream ended without [DONE]"
		return
	}
	if r.finish == "" {
		r.outcome, r.err = record.OutcomeProtocol, "stream ended without a finish_reason"
		return
	}
	r.msg.Role = "assistant"
	if hasContent && (len(content) > 0 || len(calls) == 0) {
		s := string(content)
		r.msg.Content = &s
	}
	if len(calls) > 0 {
		r.msg.ToolCalls = make([]openaichat.ToolCall, len(calls))
		for i, acc := range calls {
			typ := acc.typ
			if typ == "" {
				typ = "function"
			}
			r.msg.ToolCalls[i] = openaichat.ToolCall{
				ID:       acc.id,
				Type:     typ,
				Function: openaichat.FunctionCall{Name: acc.name, Arguments: string(acc.args)},
			}
		}
	}
	r.outcome = record.OutcomeOK
}

// classifyStatus maps a non-2xx HTTP status to an outcome class.
func classifyStatus(code int) string { return policy.StatusOutcome(code) }

// classifyTransportErr classifies an error from Client.Do, before any
// response: the step being cut short (the run stopping: canceled; the
// conversation's deadline: timeout) beats the harness running out of its
// own resources (local), which beats the attempt's own timeout, which
// beats a network failure (policy.TransportOutcome).
func classifyTransportErr(parent, attempt context.Context, err error) string {
	if o := policy.StopOutcome(parent); o != "" {
		return o
	}
	if !policy.IsLocal(err) && isTimeout(attempt, err) {
		return record.OutcomeTimeout
	}
	return policy.TransportOutcome(err)
}

// classifyBodyErr classifies an error while reading a response body. The
// response had started, so anything that is neither the step being cut
// short nor a timeout is a truncated, unusable reply: a protocol failure.
func classifyBodyErr(parent, attempt context.Context, err error) string {
	if o := policy.StopOutcome(parent); o != "" {
		return o
	}
	if policy.IsLocal(err) {
		return record.OutcomeLocal
	}
	if isTimeout(attempt, err) {
		return record.OutcomeTimeout
	}
	return record.OutcomeProtocol
}

// isTimeout reports whether the attempt ended by a timer: its deadline, a
// stream timer, or a network timeout.
func isTimeout(attempt context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(attempt.Err(), context.DeadlineExceeded) {
		return true
	}
	var tt *streamTimeout
	if errors.As(context.Cause(attempt), &tt) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// bodyErrText describes an error while reading a body: the stream timer
// that fired, if one did, says more than "context canceled".
func bodyErrText(attempt context.Context, err error) string {
	var tt *streamTimeout
	if errors.As(context.Cause(attempt), &tt) {
		return tt.Error()
	}
	return err.Error()
}

// httpErrorText describes a failed response: the status and, when the body
// is OpenAI's error shape, its message; otherwise the start of the body.
func httpErrorText(code int, body io.Reader) string {
	buf := getBuffer()
	defer putBuffer(buf)
	_, _ = buf.ReadFrom(io.LimitReader(body, drainLimit))
	data := buf.Bytes()
	msg := ""
	var eb openaichat.ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error.Message != "" {
		msg = truncate(eb.Error.Message, maxErrorDetail)
	} else {
		msg = snippet(data)
	}
	if msg == "" {
		return "HTTP " + strconv.Itoa(code)
	}
	return "HTTP " + strconv.Itoa(code) + ": " + msg
}

// snippet returns the start of a body for an error message.
func snippet(b []byte) string {
	return truncate(string(bytes.TrimSpace(b)), maxErrorDetail)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isEventStream(contentType string) bool {
	return len(contentType) >= len("text/event-stream") && contentType[:len("text/event-stream")] == "text/event-stream"
}

// countingBody counts the bytes read from a response body and bounds
// them: past limit (client.limits.max_response_bytes; 0 is the default),
// Read fails with a *bodyTooLarge, streamed or not, so that no target can
// make an attempt read without end.
type countingBody struct {
	r     io.ReadCloser
	n     int64
	limit int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	limit := c.limit
	if limit <= 0 {
		limit = scenarios.DefaultMaxResponseBytes
	}
	// One byte past the limit tells a body of exactly limit bytes from a
	// longer one.
	if left := limit + 1 - c.n; left <= 0 {
		return 0, &bodyTooLarge{limit}
	} else if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > limit {
		return n - int(c.n-limit), &bodyTooLarge{limit}
	}
	return n, err
}

// bodyTooLarge is the error of a body longer than
// client.limits.max_response_bytes: a protocol failure of the target.
type bodyTooLarge struct{ limit int64 }

func (e *bodyTooLarge) Error() string {
	return "response exceeds client.limits.max_response_bytes (" + strconv.FormatInt(e.limit, 10) + " bytes)"
}

// drainClose closes the body and returns the bytes read. With drain, it
// first reads a bounded remainder, so that the connection goes back to the
// pool instead of being torn down.
func (c *countingBody) drainClose(drain bool) int64 {
	if drain {
		n, _ := io.CopyN(io.Discard, c.r, drainLimit)
		c.n += n
	}
	c.r.Close()
	return c.n
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 1<<20 {
		return // let an outsized buffer go rather than pin it
	}
	b.Reset()
	bufferPool.Put(b)
}

// sseReader reads Server-Sent Events and returns the data of each event
// (data lines joined by "\n"); other fields and comments are ignored.
type sseReader struct {
	br   *bufio.Reader
	line []byte
	data []byte
}

var bufioPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

func newSSEReader(r io.Reader) *sseReader {
	br := bufioPool.Get().(*bufio.Reader)
	br.Reset(r)
	return &sseReader{br: br}
}

// release returns the reader's buffer to the pool. The reader must not be
// used afterwards.
func (s *sseReader) release() {
	s.br.Reset(nil)
	bufioPool.Put(s.br)
	s.br = nil
}

// next returns the data of the next event, valid until the following call,
// or io.EOF. An event cut off by the end of the body is still returned: a
// cut stream then fails in its parser instead of vanishing silently.
func (s *sseReader) next() ([]byte, error) {
	s.data = s.data[:0]
	inEvent := false
	for {
		line, err := s.readLine()
		if err == io.EOF {
			if inEvent {
				return s.data, nil
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if inEvent {
				return s.data, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue
		}
		if inEvent {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		inEvent = true
	}
}

// readLine returns one line without its line ending. A last line with no
// line ending is returned before io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.br.ReadSlice('\n')
		s.line = append(s.line, chunk...)
		if len(s.line) > maxSSELine {
			return nil, fmt.Errorf("SSE line exceeds %d bytes", maxSSELine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (err != io.EOF || len(s.line) == 0) {
			return nil, err
		}
		line := s.line
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		return line, nil
	}
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
		b = appendJSONString(b, m.Role)
		b = append(b, `,"content":`...)
		if m.Content == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, *m.Content)
		}
		if len(m.ToolCalls) > 0 {
			b = append(b, `,"tool_calls":[`...)
			for j := range m.ToolCalls {
				tc := &m.ToolCalls[j]
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = appendJSONString(b, tc.ID)
				typ := tc.Type
				if typ == "" {
					typ = "function"
				}
				b = append(b, `,"type":`...)
				b = appendJSONString(b, typ)
				b = append(b, `,"function":{"name":`...)
				b = appendJSONString(b, tc.Function.Name)
				b = append(b, `,"arguments":`...)
				b = appendJSONString(b, tc.Function.Arguments)
				b = append(b, "}}"...)
			}
			b = append(b, ']')
		}
		if m.ToolCallID != "" {
			b = append(b, `,"tool_call_id":`...)
			b = appendJSONString(b, m.ToolCallID)
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, m.Name)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does (without HTML escaping): invalid UTF-8 becomes U+FFFD, and U+2028
// and U+2029 are escaped so that the output is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
