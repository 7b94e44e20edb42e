package llm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// stepState is a step as the policies see it (policy.Step), plus what the
// attacker keeps per step: the sink its attempts go to, and the bytes they
// read. One allocation holds both; the policy.Step's event sink is the
// stepState itself, which is how an attempt RoundTripper finds it again
// from the request's context.
type stepState struct {
	policy.Step
	sink    Sink
	bytesIn atomic.Int64
	// msgs is the step's conversation, for a fallback that must write it
	// in another dialect.
	msgs []openaichat.Message
}

func newStepState(seq uint64, step int, key, provider string, seed uint64, sink Sink) *stepState {
	st := &stepState{sink: sink}
	st.Conversation, st.Index, st.Key, st.Provider, st.Seed = seq, step, key, provider, seed
	st.Step.Sink = st
	return st
}

// Event implements policy.EventSink.
func (s *stepState) Event(e *record.Event) { s.sink.Event(e) }

// stepStateFrom returns the stepState in ctx, or nil.
func stepStateFrom(ctx context.Context) *stepState {
	st := policy.StepFrom(ctx)
	if st == nil {
		return nil
	}
	ss, _ := st.Sink.(*stepState)
	return ss
}

// Attempt is the innermost RoundTripper of one provider: it sends one
// HTTP request, reads the whole answer (a stream to its [DONE], under the
// stream timers), classifies it and records it as an attempt of the step
// in the request's context. It returns the response, its body replaced by
// the parsed result (a *chatBody), when the attempt succeeded or failed
// with an HTTP status (429, 5xx, 4xx: the policies read its headers), and
// an *attemptError for everything else: a timeout, a connection failure, a
// malformed body, a cancellation.
//
// Because the whole body is read before RoundTrip returns, the policies
// above it act on failures that happen mid-stream too.
type Attempt struct {
	hc     *http.Client
	ep     *Endpoint
	redact Redactor
	opt    Options
}

// Options are an Attempt's limits, timers and redirects, from the
// scenario's client section.
type Options struct {
	// Timeout bounds one attempt (client.timeout).
	Timeout time.Duration
	// MaxBytes bounds a response's bytes, MaxCalls an answer's tool calls
	// (client.limits); 0 is the default.
	MaxBytes int64
	MaxCalls int
	// TTFT, Idle and Total are the stream timers (client.stream), for
	// streaming providers only; 0 is none.
	TTFT, Idle, Total time.Duration
	// Redirects are what the attempt follows, hop by hop
	// (client.follow_redirects).
	Redirects httpx.Redirects
	// Headers picks the request id and recorded headers out of each
	// answer (respheaders.go); nil records the request id only.
	Headers *HeaderRecorder
}

// NewAttempt returns the attempt RoundTripper of ep, sending with hc; rd
// redacts its errors and recorded headers.
func NewAttempt(hc *http.Client, ep *Endpoint, rd Redactor, o Options) *Attempt {
	return &Attempt{hc: hc, ep: ep, redact: rd, opt: o}
}

// Do sends msgs to the endpoint as the one attempt of step step of
// conversation seq, without policies, and records it to sink when sink is
// not nil: what an MCP server's sampling request costs.
func (a *Attempt) Do(ctx context.Context, seq uint64, step int, msgs []openaichat.Message, sink Sink) Result {
	st := policy.Step{Conversation: seq, Index: step}
	var r Result
	a.attempt(ctx, nil, a.ep.body(msgs), &st, sink, &r)
	return r
}

// RoundTrip implements http.RoundTripper.
func (a *Attempt) RoundTrip(req *http.Request) (*http.Response, error) {
	parent := req.Context()
	st := policy.StepFrom(parent)
	var sink Sink
	ss := stepStateFrom(parent)
	if ss != nil {
		sink = ss.sink
	}
	// The result is filled in place on the heap, where RoundTrip returns
	// it either way: a Result in this frame, and a copy in each frame
	// below, kept the stack of every conversation waiting on an answer at
	// 32 KiB instead of 16 KiB (docs/http2.md, what a conversation in
	// flight costs).
	b := new(chatBody)
	resp := a.attempt(parent, req, nil, st, sink, &b.res)
	if ss != nil {
		ss.bytesIn.Add(b.res.BytesIn)
	}
	if resp == nil {
		return nil, (*attemptError)(b)
	}
	resp.Body = b
	return resp, nil
}

// attempt makes one attempt of step st, records it to sink (when not nil),
// fills r with its result and returns its response as exchange does. The request
// is tmpl, with this attempt's context, headers and body; or, when tmpl is
// nil, a POST of body to the endpoint: the path of a client without
// policies, which needs no template.
//
// A redirect the client follows (client.follow_redirects) is one recorded
// attempt per hop, each with outcome redirect and the attempt's number.
func (a *Attempt) attempt(parent context.Context, tmpl *http.Request, body []byte, st *policy.Step, sink Sink, r *Result) *http.Response {
	n := st.NextAttempt()
	var hop *httpx.Hop
	var hopBytes int64
	for {
		*r = Result{Start: time.Now()}
		resp := a.exchange(parent, tmpl, body, st, n, hop, r)
		r.Latency = time.Since(r.Start)
		var next *httpx.Hop
		if r.Outcome == record.OutcomeRedirect {
			var why error
			if next, why = a.opt.Redirects.Next(resp, hop); why != nil {
				r.Err = "HTTP " + strconv.Itoa(r.Status) + " redirect " + why.Error()
			} else {
				r.Err = "HTTP " + strconv.Itoa(r.Status) + " redirect followed"
			}
		}
		r.Err = a.redact.Clip(r.Err)
		a.record(r, n, st, sink)
		if next == nil {
			r.BytesIn += hopBytes
			return resp
		}
		hopBytes += r.BytesIn
		hop = next
	}
}

// record sends attempt n's result to sink, when there is one.
func (a *Attempt) record(r *Result, n int, st *policy.Step, sink Sink) {
	if sink != nil {
		var seq uint64
		var step int
		if st != nil {
			seq, step = st.Conversation, st.Index
		}
		rec := &record.Attempt{
			Conversation:     seq,
			Step:             step,
			Kind:             record.StepModel,
			Key:              a.ep.key,
			Attempt:          n,
			Start:            r.Start,
			LatencyUS:        r.Latency.Microseconds(),
			TTFTUS:           r.TTFT.Microseconds(),
			Status:           r.Status,
			Proto:            r.Proto,
			Outcome:          r.Outcome,
			Error:            r.Err,
			BytesIn:          r.BytesIn,
			PromptTokens:     r.Usage.PromptTokens,
			CompletionTokens: r.Usage.CompletionTokens,
			CachedTokens:     r.Usage.Cached(),
			RequestID:        clipHeader(a.redact, r.reqID),
			Headers:          clipHeaders(a.redact, r.headers),
		}
		r.stream.fill(rec)
		sink.Attempt(rec)
	}
	// The sink has recorded the gaps; a copy of r must not hold them.
	r.stream.release()
}

// exchange does the HTTP work of an attempt, filling r. It returns the
// response (its body drained and closed) when r's outcome is ok or the
// class of its HTTP status, else nil.
func (a *Attempt) exchange(parent context.Context, tmpl *http.Request, body []byte, st *policy.Step, n int, hop *httpx.Hop, r *Result) *http.Response {
	actx, cancel := context.WithTimeout(parent, st.AttemptTimeout(a.opt.Timeout))
	defer cancel()
	var w *streamWatch
	if a.ep.stream && (a.opt.TTFT > 0 || a.opt.Idle > 0 || a.opt.Total > 0) {
		var cancelCause context.CancelCauseFunc
		actx, cancelCause = context.WithCancelCause(actx)
		w = watchStream(cancelCause, a.opt.TTFT, a.opt.Idle, a.opt.Total)
		defer w.stop()
		defer cancelCause(nil)
	}

	out, err := a.request(actx, tmpl, body, st, n, hop)
	if err != nil {
		r.Outcome, r.Err = record.OutcomeProtocol, err.Error()
		return nil
	}
	resp, err := a.hc.Do(out)
	if err != nil {
		r.Outcome, r.Err = httpx.ClassifyTransportErr(parent, actx, err), httpx.H2Note(err)+bodyErrText(actx, err)
		return nil
	}
	cb := &httpx.CountingBody{R: resp.Body, Limit: a.opt.MaxBytes}
	defer func() {
		r.BytesIn = cb.DrainClose(!r.broken)
	}()
	r.Status, r.Proto = resp.StatusCode, resp.Proto
	r.reqID, r.headers = a.opt.Headers.read(resp.Header)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Outcome = httpx.ClassifyStatus(resp.StatusCode)
		r.Err = a.ep.dialect.errorText(resp, cb)
		if r.Outcome == record.OutcomeProtocol {
			return nil // a 1xx left over: no answer to act on
		}
		return resp
	}
	if !a.readAnswer(parent, actx, resp, cb, w, r) {
		return nil
	}
	return resp
}

// readAnswer reads the 2xx answer resp into r and reports whether it is
// ok. It is exchange's second half, apart so that the decoded answer it
// holds is not in exchange's frame while the request waits.
func (a *Attempt) readAnswer(parent, actx context.Context, resp *http.Response, cb *httpx.CountingBody, w *streamWatch, r *Result) bool {
	var got Result
	if a.ep.stream && httpx.IsEventStream(resp.Header.Get("Content-Type")) {
		got = a.ep.dialect.readStream(parent, actx, cb, r.Start, w, a.callLimit())
	} else {
		w.firstDelta() // a whole answer at once: no first token to wait for
		got = a.ep.dialect.readJSON(parent, actx, cb, a.callLimit())
	}
	r.Msg, r.Finish, r.Usage = got.Msg, got.Finish, got.Usage
	r.stream, r.TTFT = got.stream, got.stream.ttft()
	r.Outcome, r.Err, r.broken = got.Outcome, got.Err, got.broken
	if r.reqID == "" {
		r.reqID = got.reqID // Gemini's responseId
	}
	if r.Outcome == record.OutcomeOK {
		checkUsage(r)
	}
	return r.Outcome == record.OutcomeOK
}

// callLimit is client.limits.max_tool_calls, or its default for an
// attempt built without it.
func (a *Attempt) callLimit() int {
	if a.opt.MaxCalls > 0 {
		return a.opt.MaxCalls
	}
	return scenarios.DefaultMaxToolCalls
}

// request builds the HTTP request of attempt n (see attempt).
func (a *Attempt) request(actx context.Context, tmpl *http.Request, body []byte, st *policy.Step, n int, hop *httpx.Hop) (*http.Request, error) {
	if tmpl == nil {
		out, err := http.NewRequestWithContext(actx, http.MethodPost, a.ep.url, bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("building request: %w", err)
		}
		out.Header["Content-Type"] = hdrJSON
		out.Header["Accept"] = a.ep.accept()
		a.ep.setHeaders(out.Header)
		httpx.AttemptTags(out.Header, st, n)
		if hop != nil {
			hop.Apply(out)
		}
		return out, nil
	}
	out := tmpl.WithContext(actx)
	out.Header = make(http.Header, len(tmpl.Header)+3)
	for k, v := range tmpl.Header {
		out.Header[k] = v
	}
	httpx.AttemptTags(out.Header, st, n)
	if tmpl.GetBody != nil {
		b, err := tmpl.GetBody()
		if err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
		out.Body = b
	}
	if hop != nil {
		hop.Apply(out)
	}
	return out, nil
}

// chatBody is the body of a response the chat attempt returns: the parsed
// result, not bytes (Read returns io.EOF at once), so that the chat client
// does not parse twice. The cache keeps it through Replay.
type chatBody struct{ res Result }

func (*chatBody) Read([]byte) (int, error) { return 0, io.EOF }
func (*chatBody) Close() error             { return nil }

// Replay implements policy.ReplayableBody: a copy whose tool calls the
// conversation may change (it fills in missing IDs).
func (b *chatBody) Replay() io.ReadCloser {
	c := &chatBody{res: b.res}
	c.res.Msg.ToolCalls = slices.Clone(b.res.Msg.ToolCalls)
	return c
}

// attemptError is the error of an attempt without a usable response. It
// carries the attempt's result and implements policy.OutcomeError.
type attemptError struct{ res Result }

func (e *attemptError) Error() string   { return e.res.Outcome + ": " + e.res.Err }
func (e *attemptError) Outcome() string { return e.res.Outcome }
