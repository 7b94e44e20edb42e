package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
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
	proto   string // the response's, a constant of net/http's
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
	// reqID and headers are the response's request id and recorded
	// headers (respheaders.go), unclipped.
	reqID   string
	headers map[string]string
}

// call runs model step step of conversation seq into r: one request
// through the chain, with every attempt recorded to sink as it ends. The
// result's start, latency and TTFT are the step's; its bytes sum every
// attempt's. r is filled in place, not returned, to keep the stack of a
// conversation waiting on its answer small (see chatAttempt.RoundTrip).
func (c *chatClient) call(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink, r *chatResult) {
	body := c.ep.body(msgs)
	if !c.hasChain {
		// No policy: one attempt, without a template request or a
		// context value, so that this path costs what it did before
		// policies existed.
		st := policy.Step{Conversation: seq, Index: step}
		start := time.Now()
		c.attempt.attempt(ctx, nil, body, &st, sink, r)
		r.start, r.latency, r.provider = start, time.Since(start), c.ep.provider
		return
	}

	st := newStepState(seq, step, c.stepKey, c.ep.provider, c.seed, sink)
	st.msgs = msgs // for a fallback to another dialect
	start := time.Now()
	req, err := http.NewRequestWithContext(policy.WithStep(ctx, &st.Step), http.MethodPost, c.ep.url, bytes.NewReader(body))
	if err != nil {
		*r = chatResult{outcome: record.OutcomeProtocol, err: fmt.Sprintf("building request: %v", err)}
	} else {
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = c.accept
		c.ep.setHeaders(req.Header)
		resp, err := c.rt.RoundTrip(req)
		c.result(ctx, resp, err, r)
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
}

// result puts the step's result into r from what the chain returned: the
// attempt's own, or the classified error of a policy (a breaker refusal,
// a wait cut short).
func (c *chatClient) result(ctx context.Context, resp *http.Response, err error, r *chatResult) {
	if err != nil {
		var ae *attemptError
		if errors.As(err, &ae) {
			*r = ae.res
			return
		}
		*r = chatResult{outcome: policy.OutcomeOf(nil, err), err: c.redact.clip(err.Error())}
		if o := policy.StopOutcome(ctx); o != "" {
			r.outcome = o
		}
		return
	}
	if b, ok := resp.Body.(*chatBody); ok {
		*r = b.res
		return
	}
	// Not an attempt's response: some RoundTripper in between made it.
	policy.Discard(resp)
	*r = chatResult{status: resp.StatusCode, outcome: policy.StatusOutcome(resp.StatusCode)}
	if r.outcome == record.OutcomeOK {
		r.outcome, r.err = record.OutcomeProtocol, "response without a parsed body"
	} else {
		r.err = "HTTP " + strconv.Itoa(resp.StatusCode)
	}
}

// readJSONBody reads a whole response body into a pooled buffer and
// decodes it into v. On failure it records the outcome in r and returns
// false. The caller puts buf back when done: error texts quote it. The
// body's size is bounded by the httpx.CountingBody it comes through, and what
// it decodes into by arrayBound over arrays, for maxCalls.
func readJSONBody(ctx, actx context.Context, body io.Reader, v any, r *chatResult, maxCalls int, arrays []jsonPath) (buf *bytes.Buffer, ok bool) {
	buf = httpx.GetBuffer()
	if _, err := buf.ReadFrom(body); err != nil {
		r.outcome, r.err, r.broken = httpx.ClassifyBodyErr(ctx, actx, err), "reading response: "+bodyErrText(actx, err), true
		return buf, false
	}
	if e := arrayBound(buf.Bytes(), maxCalls, arrays); e != "" {
		r.outcome, r.err = record.OutcomeProtocol, e
		return buf, false
	}
	if err := json.Unmarshal(buf.Bytes(), v); err != nil {
		r.outcome, r.err = decodeOutcome(err), "decoding response: "+err.Error()+": "+httpx.Snippet(buf.Bytes())
		return buf, false
	}
	return buf, true
}

// readChatJSON parses a non-streamed completion of at most maxCalls tool
// calls.
func readChatJSON(ctx, actx context.Context, body io.Reader, r *chatResult, maxCalls int) {
	var resp chatResponse
	buf, ok := readJSONBody(ctx, actx, body, &resp, r, maxCalls, openAIArrays)
	defer httpx.PutBuffer(buf)
	if !ok {
		return
	}
	if len(resp.Choices) == 0 {
		r.outcome, r.err = record.OutcomeProtocol, "response has no choices: "+httpx.Snippet(buf.Bytes())
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
	sr := httpx.NewSSEReader(body)
	defer sr.Release()
	defer func() { r.broken = r.outcome != record.OutcomeOK }()
	var (
		content    []byte
		hasContent bool
		calls      []toolCallAcc
		done       bool
	)
	for !done {
		data, err := sr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.outcome, r.err = httpx.ClassifyBodyErr(ctx, actx, err), "reading stream: "+bodyErrText(actx, err)
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
			r.outcome, r.err = decodeOutcome(err), "decoding stream chunk: "+err.Error()+": "+httpx.Snippet(data)
			return
		}
		if ch.Error != nil {
			r.outcome, r.err = record.OutcomeProtocol, "error in stream: "+httpx.Truncate(ch.Error.Message, httpx.MaxErrorDetail)
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

// bodyErrText describes an error while reading a body: the stream timer
// that fired, if one did, says more than "context canceled".
func bodyErrText(attempt context.Context, err error) string {
	var tt *streamTimeout
	if errors.As(context.Cause(attempt), &tt) {
		return tt.Error()
	}
	return err.Error()
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
