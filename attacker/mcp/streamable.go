package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// MCP Streamable HTTP constants. ProtocolVersion is the newest version
// the official Go SDK (v1.8.0) still negotiates through the initialize
// handshake; 2026-07-28 replaces that handshake with server/discover and
// sessionless requests, which this client does not speak.
const (
	ProtocolVersion  = "2025-11-25"
	mcpClientName    = "mcpload"
	mcpClientVersion = "0.1.0"

	hdrSessionID       = "Mcp-Session-Id"       // canonical form of Mcp-Session-Id
	hdrProtocolVersion = "Mcp-Protocol-Version" // canonical form of MCP-Protocol-Version
)

// callTags is the attempt a request belongs to: its step, for the
// Mcpload-* headers, its timeout (0: the client's), and whether it is an
// operation on a tool, resource or prompt (see rpcOutcome).
type callTags struct {
	st      *policy.Step
	attempt int
	timeout time.Duration
	call    bool
}

var (
	hdrAcceptMCP = []string{"application/json, text/event-stream"}
	hdrJSON      = []string{"application/json"}
)

// Streamable speaks MCP Streamable HTTP to one server: a hand-written client
// so that every HTTP exchange is one counted, timed attempt, with no hidden
// reconnects or standalone GET streams.
type Streamable struct {
	http    *http.Client
	url     string
	server  string
	timeout time.Duration
	redact  Redactor
	// retry retries tools/calls (client.Retry), nil for none; seed drives
	// its jitter.
	Retry *policy.Retry
	Seed  uint64
	// maxBytes bounds a response body (client.limits.max_response_bytes;
	// 0 is the default).
	MaxBytes int64
	// redirects is client.follow_redirects: POSTs follow them hop by hop.
	Redirects httpx.Redirects

	// Attempt keys of the handshake and of session teardown. The
	// initialized notification is its own HTTP exchange, so it is its own
	// attempt, under its own Key: folding it into initialize would hide a
	// server that is slow to accept notifications.
	initKey, notifiedKey, deleteKey string

	nextID atomic.Int64
	// schemas caches the measure of each distinct tool list tools/list
	// returned, by a hash of its bytes: measuring translates every tool
	// into three APIs, which is worth doing once, not per call.
	schemas sync.Map // uint64 -> *record.ToolsSchema
}

func NewStreamable(hc *http.Client, server, url string, timeout time.Duration, rd Redactor) *Streamable {
	prefix := "mcp:" + server + "/"
	return &Streamable{
		http:        hc,
		url:         url,
		server:      server,
		timeout:     timeout,
		redact:      rd,
		initKey:     prefix + "initialize",
		notifiedKey: prefix + "initialized",
		deleteKey:   prefix + "delete",
	}
}

// httpSession is an initialized MCP session. It is safe for concurrent
// calls: the SDK's server serves concurrent requests on one session.
type httpSession struct {
	// id is the Mcp-Session-Id, "" when the server keeps no sessions.
	id      []string
	version []string
	// expired is set when the server answered 404 to the session, so that
	// its pool initializes a new one.
	expired atomic.Bool
}

// initialize opens a session: the initialize request, then the
// notifications/initialized notification. Both are recorded as attempts
// (kind session) in step step of conversation seq.
func (c *Streamable) initialize(ctx context.Context, seq uint64, step int, sink Sink) (*httpSession, Total) {
	var out Total
	id := c.nextID.Add(1)
	body := make([]byte, 0, 192)
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"initialize","params":{"protocolVersion":"`+ProtocolVersion+
		`","capabilities":{},"clientInfo":{"name":"`+mcpClientName+`","version":"`+mcpClientVersion+`"}}}`...)

	start := time.Now()
	var ex Exchange
	result, hdr := c.rpc(ctx, nil, callTags{}, id, body, start, &ex)
	sess := &httpSession{}
	if ex.Outcome == record.OutcomeOK {
		var ir struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if err := json.Unmarshal(result, &ir); err != nil || ir.ProtocolVersion == "" {
			ex.Outcome, ex.Err = record.OutcomeProtocol, "initialize: result has no protocolVersion: "+httpx.Snippet(result)
		} else {
			sess.version = []string{ir.ProtocolVersion}
			if sid := hdr.Get(hdrSessionID); sid != "" {
				sess.id = []string{sid}
			}
		}
	}
	c.record(sink, seq, step, record.KindSession, c.initKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return nil, out
	}

	start = time.Now()
	ex = Exchange{}
	c.post(ctx, sess, callTags{}, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), &ex, nil)
	c.record(sink, seq, step, record.KindSession, c.notifiedKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return nil, out
	}
	return sess, out
}

// call sends req on sess, as step step of conversation seq, retrying as
// client.Retry says (with the same per-attempt timeout as model requests,
// and no fallback, breaker or cache). Each attempt is recorded. A JSON-RPC
// error is classified by its code (see rpcOutcome), a tools/call result
// with isError is a tool_error, a 404 an expired session.
func (c *Streamable) call(ctx context.Context, sess *httpSession, seq uint64, step int, req *Request, sink Sink) Result {
	st := &policy.Step{Conversation: seq, Index: step, Key: req.Key, Seed: c.Seed, Sink: sink}
	ctx = policy.WithStep(ctx, st)
	var (
		call    Result
		bytesIn int64
	)
	attempt := func() policy.Try {
		call = c.callOnce(ctx, sess, st, req, sink)
		bytesIn += call.BytesIn
		return policy.Try{Outcome: call.Outcome, Header: call.Header}
	}
	if c.Retry == nil {
		attempt()
	} else if err := c.Retry.Do(ctx, attempt); err != nil {
		call.Outcome, call.Err = policy.OutcomeOf(nil, err), c.redact.Clip(err.Error())
	}
	call.BytesIn = bytesIn
	return call
}

// callOnce makes one attempt of req, and records it.
func (c *Streamable) callOnce(ctx context.Context, sess *httpSession, st *policy.Step, req *Request, sink Sink) Result {
	id := c.nextID.Add(1)
	body := make([]byte, 0, 96+len(req.Params))
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"`...)
	body = append(body, req.Method...)
	body = append(body, `","params":{`...)
	if req.Progress {
		body = append(body, `"_meta":{"progressToken":`...)
		body = strconv.AppendInt(body, id, 10)
		body = append(body, '}')
		if len(req.Params) > 0 {
			body = append(body, ',')
		}
	}
	body = append(body, req.Params...)
	body = append(body, "}}"...)

	n := st.NextAttempt()
	start := time.Now()
	var call Result
	tags := callTags{st: st, attempt: n, timeout: st.AttemptTimeout(c.timeout), call: req.Method != scenarios.MCPOpToolsList}
	result, hdr := c.rpc(ctx, sess, tags, id, body, start, &call.Exchange)
	call.Header = hdr
	switch {
	case call.Outcome == record.OutcomeOK:
		c.readResult(req, result, &call)
	case call.RPCCode != 0:
		// The model is told what the server said, as for isError.
		call.Text = call.Err
	}
	c.recordAttempt(sink, st.Conversation, st.Index, req.Kind, req.Key, n, start, &call.Exchange)
	return call
}

// close ends sess with a DELETE, best effort. With a sink the exchange is
// recorded as an attempt; without one (teardown after the run) it is not.
func (c *Streamable) close(ctx context.Context, sess *httpSession, seq uint64, step int, sink Sink) Exchange {
	var ex Exchange
	if sess == nil || sess.id == nil {
		ex.Outcome = record.OutcomeOK
		return ex // nothing to end: the server keeps no session
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodDelete, c.url, nil)
	if err != nil {
		ex.Outcome, ex.Err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
	} else {
		req.Header[hdrSessionID] = sess.id
		req.Header[hdrProtocolVersion] = sess.version
		resp, err := c.http.Do(req)
		if err != nil {
			ex.Outcome, ex.Err = httpx.ClassifyTransportErr(ctx, actx, err), err.Error()
		} else {
			cb := &httpx.CountingBody{R: resp.Body}
			ex.Status = resp.StatusCode
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode <= 299,
				resp.StatusCode == http.StatusMethodNotAllowed: // the spec lets a server refuse DELETE
				ex.Outcome = record.OutcomeOK
			default:
				ex.Outcome = httpx.ClassifyStatus(resp.StatusCode)
				ex.Err = "DELETE session: " + httpx.ErrorText(resp.StatusCode, cb)
			}
			ex.BytesIn = cb.DrainClose(true)
		}
	}
	ex.Err = c.redact.Clip(ex.Err)
	if sink != nil {
		c.record(sink, seq, step, record.KindSession, c.deleteKey, start, &ex)
	}
	return ex
}

// record sends one session exchange to sink, as attempt 1.
func (c *Streamable) record(sink Sink, seq uint64, step int, kind, key string, start time.Time, ex *Exchange) {
	c.recordAttempt(sink, seq, step, kind, key, 1, start, ex)
}

// recordAttempt sends exchange n of a step to sink.
func (c *Streamable) recordAttempt(sink Sink, seq uint64, step int, kind, key string, n int, start time.Time, ex *Exchange) {
	ex.Err = c.redact.Clip(ex.Err)
	base := record.Attempt{Conversation: seq, Step: step, Kind: kind, Key: key, Attempt: n}
	for _, h := range ex.hops {
		hop := base
		hop.Start, hop.LatencyUS, hop.Status, hop.BytesIn = h.start, h.latency.Microseconds(), h.Status, h.BytesIn
		hop.Outcome, hop.Error = record.OutcomeRedirect, "HTTP "+strconv.Itoa(h.Status)+" redirect followed"
		sink.Attempt(&hop)
		start = h.start.Add(h.latency)
	}
	a := base
	a.Start, a.LatencyUS, a.Status, a.BytesIn = start, time.Since(start).Microseconds(), ex.Status, ex.BytesIn
	a.Outcome, a.Error, a.RPCCode = ex.Outcome, ex.Err, ex.RPCCode
	a.Progress, a.FirstProgressUS, a.ToolsSchema = ex.Progress, ex.FirstProgress.Microseconds(), ex.Schema
	sink.Attempt(&a)
}

// rpc POSTs a JSON-RPC request sent at start and returns the result of
// the response with id, and the response headers. Failures are classified
// into ex, and progress notifications on an event stream counted there.
func (c *Streamable) rpc(ctx context.Context, sess *httpSession, tags callTags, id int64, body []byte, start time.Time, ex *Exchange) (json.RawMessage, http.Header) {
	var result json.RawMessage
	hdr := c.post(ctx, sess, tags, body, ex, func(ctx, actx context.Context, resp *http.Response, r io.Reader) {
		want := strconv.AppendInt(nil, id, 10)
		var msg *rpcResponse
		var err error
		if httpx.IsEventStream(resp.Header.Get("Content-Type")) {
			msg, err = readSSEResponse(r, want, func() {
				if ex.Progress++; ex.Progress == 1 {
					ex.FirstProgress = time.Since(start)
				}
			})
		} else {
			msg, err = readJSONResponse(r, want)
		}
		switch {
		case err != nil:
			ex.Outcome, ex.Err, ex.broken = httpx.ClassifyBodyErr(ctx, actx, err), err.Error(), true
		case msg.Error != nil:
			ex.RPCCode = msg.Error.Code
			ex.Outcome = rpcOutcome(msg.Error.Code, tags.call)
			ex.Err = "jsonrpc " + strconv.Itoa(msg.Error.Code) + ": " + httpx.Truncate(msg.Error.Message, httpx.MaxErrorDetail)
		case len(msg.Result) == 0:
			ex.Outcome, ex.Err = record.OutcomeProtocol, "jsonrpc response has neither result nor error"
		default:
			ex.Outcome, result = record.OutcomeOK, msg.Result
		}
	})
	return result, hdr
}

// post sends one POST to the server and, on a 2xx response, hands the body
// to read (when read is nil, any 2xx is success). It sets ex's status,
// bytes, and the outcome of anything but the body's content.
func (c *Streamable) post(ctx context.Context, sess *httpSession, tags callTags, body []byte, ex *Exchange,
	read func(ctx, actx context.Context, resp *http.Response, body io.Reader)) http.Header {
	timeout := tags.timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		hop    *httpx.Hop
		resp   *http.Response
		notHop error
	)
	for {
		hopStart := time.Now()
		req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
		if err != nil {
			ex.Outcome, ex.Err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
			return nil
		}
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = hdrAcceptMCP
		if sess != nil {
			if sess.id != nil {
				req.Header[hdrSessionID] = sess.id
			}
			req.Header[hdrProtocolVersion] = sess.version
		}
		httpx.AttemptTags(req.Header, tags.st, tags.attempt)
		if hop != nil {
			hop.Apply(req)
		}
		if resp, err = c.http.Do(req); err != nil {
			ex.Outcome, ex.Err = httpx.ClassifyTransportErr(ctx, actx, err), err.Error()
			return nil
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			break
		}
		next, why := c.Redirects.Next(resp, hop)
		if why != nil {
			notHop = why
			break
		}
		n := (&httpx.CountingBody{R: resp.Body}).DrainClose(true)
		ex.hops = append(ex.hops, redirectHop{start: hopStart, latency: time.Since(hopStart), Status: resp.StatusCode, BytesIn: n})
		hop = next
	}
	cb := &httpx.CountingBody{R: resp.Body, Limit: c.MaxBytes}
	defer func() { ex.BytesIn = cb.DrainClose(!ex.broken) }()
	ex.Status = resp.StatusCode
	switch {
	case notHop != nil:
		ex.Outcome = record.OutcomeRedirect
		ex.Err = "HTTP " + strconv.Itoa(resp.StatusCode) + " redirect " + notHop.Error()
	case resp.StatusCode == http.StatusNotFound && sess != nil && sess.id != nil:
		// The server forgot the session (restart, idle timeout): this
		// call is lost, and the next one must start a new session.
		sess.expired.Store(true)
		ex.Outcome = record.OutcomeProtocol
		ex.Err = "session expired: " + httpx.ErrorText(resp.StatusCode, cb)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		ex.Outcome = httpx.ClassifyStatus(resp.StatusCode)
		ex.Err = httpx.ErrorText(resp.StatusCode, cb)
	case read == nil:
		ex.Outcome = record.OutcomeOK
	default:
		read(ctx, actx, resp, cb)
	}
	return resp.Header
}

// Expired implements Session.
func (s *httpSession) Expired() bool { return s.expired.Load() }

// Server implements Client.
func (c *Streamable) Server() string { return c.server }

// Target implements Client.
func (c *Streamable) Target() string { return c.url }

// Clip implements Client.
func (c *Streamable) Clip(s string) string { return c.redact.Clip(s) }

// Handshake implements Client: the initialize request, then the
// notifications/initialized notification.
func (c *Streamable) Handshake(ctx context.Context, seq uint64, step int, sink Sink) (Session, Total) {
	sess, out := c.initialize(ctx, seq, step, sink)
	if sess == nil {
		return nil, out // no typed nil in the interface
	}
	return sess, out
}

// Call implements Client.
func (c *Streamable) Call(ctx context.Context, sess Session, seq uint64, step int, req *Request, sink Sink) Result {
	return c.call(ctx, sess.(*httpSession), seq, step, req, sink)
}

// End implements Client: a DELETE of the session.
func (c *Streamable) End(ctx context.Context, sess Session, seq uint64, step int, sink Sink) Exchange {
	hs, _ := sess.(*httpSession)
	return c.close(ctx, hs, seq, step, sink)
}

// Version implements Session: the negotiated protocol revision.
func (s *httpSession) Version() string { return s.version[0] }

// ID is the session's Mcp-Session-Id, "" when the server keeps none.
func (s *httpSession) ID() string {
	if s.id == nil {
		return ""
	}
	return s.id[0]
}
