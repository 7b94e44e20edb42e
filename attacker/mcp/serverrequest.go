package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
)

// The requests a server may send the client, which mcpload serves.
const (
	methodPing   = "ping"
	methodRoots  = "roots/list"
	methodSample = "sampling/createMessage"
	methodElicit = "elicitation/create"
)

// servedMethods key their answers' attempts (mcp:NAME/METHOD); any other
// method a server sends is refused, under mcp:NAME/unsupported, so that a
// server cannot make up attempt keys.
var servedMethods = []string{methodPing, methodRoots, methodSample, methodElicit}

// Bounds of the server's requests, which a server controls.
const (
	// MaxServerRequestsPerCall caps the requests one call's event stream
	// (or one input_required round) may carry: past it the call fails as
	// a protocol error.
	MaxServerRequestsPerCall = 100
	// MaxPendingServerRequests caps the answers in progress on one stdio
	// or HTTP+SSE session; a request past it is refused at once.
	MaxPendingServerRequests = 16
	// maxInputRounds caps the input_required rounds of one request in the
	// 2026-07-28 lane, as the go-sdk client does.
	maxInputRounds = 10
	// rpcInternalError is JSON-RPC's internal error, the answer to a
	// sample a provider failed to give, or to a request past the bound.
	rpcInternalError = -32603
)

var emptyResult = []byte("{}")

// serve answers one request of the server: its result, or a JSON-RPC
// error code and message. A capability the scenario does not declare is
// refused with -32601, as an unknown method is.
func (c *conn) serve(ctx context.Context, ref callRef, method string, params json.RawMessage) ([]byte, int, string) {
	caps := c.caps
	switch method {
	case methodPing:
		return emptyResult, 0, ""
	case methodRoots:
		if caps.roots != nil {
			return caps.roots, 0, ""
		}
	case methodSample:
		if caps.sampler != nil {
			r, err := caps.sampler.Sample(ctx, params, ref.seq, ref.step, ref.sink)
			if err != nil {
				return nil, rpcInternalError, "sampling failed: " + c.redact.Clip(err.Error())
			}
			return r, 0, ""
		}
		if caps.sample != nil {
			return caps.sample, 0, ""
		}
	case methodElicit:
		if caps.elicit != nil {
			return caps.elicit, 0, ""
		}
	}
	return nil, record.RPCMethodNotFound, "mcpload does not serve " + httpx.Truncate(method, 64) +
		" (declare it in mcp_servers." + c.server + ".client)"
}

// serverKey is the attempt key of the answer to method.
func (c *conn) serverKey(method string) string {
	if k, ok := c.serverKeys[method]; ok {
		return k
	}
	return c.serverOther
}

// appendReply appends the JSON-RPC response to the request id: result,
// or the error code and message when code is not 0.
func appendReply(b []byte, id json.RawMessage, result []byte, code int, msg string) []byte {
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, bytes.TrimSpace(id)...)
	if code == 0 {
		b = append(b, `,"result":`...)
		b = append(b, result...)
		return append(b, '}')
	}
	b = append(b, `,"error":{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = httpx.AppendJSONString(b, msg)
	return append(b, "}}"...)
}

// answered classifies the answer to a server request into ex: a refusal
// is a protocol failure of the server (it asked for what the client did
// not declare), a delivered answer ok; ex already holds the delivery's
// outcome.
func answered(ex *Exchange, method string, code int, msg string) {
	if ex.Outcome != record.OutcomeOK {
		ex.Err = "answering " + httpx.Truncate(method, 64) + ": " + ex.Err
		return
	}
	if code != 0 {
		ex.Outcome = record.OutcomeProtocol
		ex.Err = "refused with " + strconv.Itoa(code) + ": " + msg
	}
}

// callRef is the call a server request is counted against: its
// conversation, step and sink. A nil sink records nothing.
type callRef struct {
	seq  uint64
	step int
	sink Sink
}

// recordServer records the answer to a server request.
func (c *conn) recordServer(ref callRef, method string, start time.Time, ex *Exchange) {
	if ref.sink == nil {
		return
	}
	c.record(ref.sink, ref.seq, ref.step, record.KindServerRequest, c.serverKey(method), start, ex)
}

// requestParams returns the params of a server request, decoded apart
// from the message so that responses and notifications never copy theirs.
func requestParams(data []byte) json.RawMessage {
	var p struct {
		Params json.RawMessage `json:"params"`
	}
	_ = json.Unmarshal(data, &p) // the message decoded already
	return p.Params
}

// inputRequiredMarker is in every result that asks for input in the
// 2026-07-28 lane; a result without it is not decoded twice.
var inputRequiredMarker = []byte(`"input_required"`)

// inputRequired is a 2026-07-28 result that asks the client for input
// before the server can answer (multi round-trip requests, SEP-2322): the
// client fulfils each input request and sends the request again, with
// the responses and the state echoed.
type inputRequired struct {
	ResultType    string `json:"resultType"`
	InputRequests map[string]struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	} `json:"inputRequests"`
	RequestState *string `json:"requestState"`
}

// fulfil answers the input requests of result, each recorded as a server
// request, and returns req with their responses and the request state,
// to send again. It returns nil when result asks for nothing; why is set
// when it asks for what mcpload cannot give.
func (c *conn) fulfil(ctx context.Context, ref callRef, req *Request, result json.RawMessage) (next *Request, why string) {
	if !bytes.Contains(result, inputRequiredMarker) {
		return nil, ""
	}
	var ir inputRequired
	if json.Unmarshal(result, &ir) != nil || ir.ResultType != "input_required" {
		return nil, ""
	}
	if len(ir.InputRequests) > MaxServerRequestsPerCall {
		return nil, "input_required result asks for " + strconv.Itoa(len(ir.InputRequests)) + " inputs, over " + strconv.Itoa(MaxServerRequestsPerCall)
	}
	if len(ir.InputRequests) == 0 {
		return nil, "input_required result asks for no input (the server sheds load)"
	}
	params := slices.Clone(req.Params)
	if len(params) > 0 {
		params = append(params, ',')
	}
	params = append(params, `"inputResponses":{`...)
	for i, k := range slices.Sorted(maps.Keys(ir.InputRequests)) {
		in := ir.InputRequests[k]
		start := time.Now()
		res, code, msg := c.serve(ctx, ref, in.Method, in.Params)
		ex := Exchange{Outcome: record.OutcomeOK}
		answered(&ex, in.Method, code, msg)
		c.recordServer(ref, in.Method, start, &ex)
		if code != 0 {
			return nil, "input request " + httpx.Truncate(k, 64) + ": " + ex.Err
		}
		if i > 0 {
			params = append(params, ',')
		}
		params = httpx.AppendJSONString(params, k)
		params = append(params, ':')
		params = append(params, res...)
	}
	params = append(params, '}')
	if ir.RequestState != nil {
		params = append(params, `,"requestState":`...)
		params = httpx.AppendJSONString(params, *ir.RequestState)
	}
	next = new(Request)
	*next = *req
	next.Params = params
	return next, ""
}

// answerOnStream answers a request the server sent on a POST's event
// stream: the answer is POSTed back on the session, within the call's
// attempt (ctx), before the stream is read on. Answers are sent one at a
// time, so a call holds at most one pending.
func (c *Streamable) answerOnStream(ctx, actx context.Context, sess *httpSession, ref callRef, msg *rpcResponse, data []byte) {
	start := time.Now()
	result, code, why := c.serve(actx, ref, msg.Method, requestParams(data))
	body := appendReply(make([]byte, 0, 96+len(result)+len(why)), msg.ID, result, code, why)
	var ex Exchange
	// The answer has what is left of the call's attempt: running out of
	// it is a timeout, the run's end a cancel.
	var tags callTags
	if dl, ok := actx.Deadline(); ok {
		tags.timeout = max(time.Until(dl), time.Millisecond)
	}
	c.post(ctx, sess, tags, body, &ex, nil)
	answered(&ex, msg.Method, code, why)
	c.recordServer(ref, msg.Method, start, &ex)
}

// inputRounds fulfils the input_required results of a request in the
// 2026-07-28 lane and sends it again with the responses, up to
// maxInputRounds times; it returns the final result. The rounds are one
// attempt: its latency runs until the final result.
func (c *Streamable) inputRounds(ctx context.Context, sess *httpSession, tags callTags, req *Request, result json.RawMessage, hdr http.Header, start time.Time, ex *Exchange) (json.RawMessage, http.Header) {
	bytesIn := ex.BytesIn
	for round := 0; ex.Outcome == record.OutcomeOK; round++ {
		next, why := c.fulfil(ctx, tags.ref, req, result)
		if why != "" {
			ex.Outcome, ex.Err = record.OutcomeProtocol, req.Method+": "+why
			return nil, hdr
		}
		if next == nil {
			break
		}
		if round == maxInputRounds {
			ex.Outcome, ex.Err = record.OutcomeProtocol, req.Method+": still input_required after "+strconv.Itoa(maxInputRounds)+" rounds"
			return nil, hdr
		}
		req = next
		id := c.nextID.Add(1)
		body := appendRequestMeta(make([]byte, 0, 96+len(req.Params)+len(c.meta)), id, req, c.meta)
		*ex = Exchange{hops: ex.hops}
		result, hdr = c.rpc(ctx, sess, tags, id, body, start, ex)
		bytesIn += ex.BytesIn
	}
	ex.BytesIn = bytesIn
	return result, hdr
}

// listen opens the standalone GET event stream of sess, on which a server
// sends the requests that belong to no call of the client (server-
// everything asks for roots there after initialize), and answers each as
// it comes, counted against ref, the handshake. It runs only when the
// client declares a capability, until the session ends or expires. A
// stream the server ends is opened again after listenRetry, as the spec
// lets a client, at most maxListenReopens times; a server that offers no
// stream (405, an error, not an event stream) is not asked again. Each
// event is bounded by client.limits.max_response_bytes.
func (c *Streamable) listen(sess *httpSession, ref callRef) {
	if !c.caps.declares() || sess.id == nil || sess.stateless {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sess.listening.Store(&cancel)
	retry := c.listenRetry
	if retry <= 0 {
		retry = defaultListenRetry
	}
	go func() {
		defer cancel()
		for opened := 0; opened <= maxListenReopens && c.listenOnce(ctx, sess, ref); opened++ {
			t := time.NewTimer(retry)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if sess.Expired() {
				return
			}
		}
	}()
}

// Bounds of the standalone GET stream's reopening.
const (
	defaultListenRetry = time.Second
	maxListenReopens   = 100
)

// listenOnce opens the GET stream once and answers its requests until it
// ends. It reports whether the server served a stream, so that one that
// does not is not asked again.
func (c *Streamable) listenOnce(ctx context.Context, sess *httpSession, ref callRef) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return false
	}
	req.Header["Accept"] = hdrAcceptSSE
	req.Header[hdrSessionID] = sess.id
	req.Header[hdrProtocolVersion] = sess.version
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	cb := &httpx.CountingBody{R: resp.Body, Limit: c.MaxBytes}
	defer cb.DrainClose(false)
	if resp.StatusCode != http.StatusOK || !httpx.IsEventStream(resp.Header.Get("Content-Type")) {
		return false
	}
	sr := httpx.NewSSEReader(cb)
	defer sr.Release()
	for {
		data, err := sr.Next()
		if err != nil {
			return ctx.Err() == nil
		}
		cb.N = 0 // the bound is per event: the stream lives as long as the session
		var msg rpcResponse
		if json.Unmarshal(data, &msg) != nil || msg.Method == "" || len(msg.ID) == 0 {
			continue // a notification, or what is not JSON-RPC: nothing to answer
		}
		c.answerOnStream(ctx, ctx, sess, ref, &msg, data)
	}
}

// stopListening ends sess's GET stream, if it has one.
func (s *httpSession) stopListening() {
	if cancel := s.listening.Swap(nil); cancel != nil {
		(*cancel)()
	}
}
