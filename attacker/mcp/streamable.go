package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// MCP constants. ProtocolVersion is the newest version the official Go SDK
// (v1.8.0) negotiates through the initialize handshake; ProtocolStateless
// replaces that handshake with an optional server/discover and sessionless
// requests that carry their version, client info and capabilities in
// _meta. ProtocolAuto negotiates as the SDK does: server/discover first,
// initialize when the server refuses it.
const (
	ProtocolVersion   = scenarios.MCPProtocolInitialize
	ProtocolStateless = scenarios.MCPProtocolStateless
	ProtocolAuto      = scenarios.MCPProtocolAuto

	mcpClientName    = "mcpload"
	mcpClientVersion = "0.1.0"

	hdrSessionID       = "Mcp-Session-Id"       // canonical form of Mcp-Session-Id
	hdrProtocolVersion = "Mcp-Protocol-Version" // canonical form of MCP-Protocol-Version
	// The routing headers of the 2026-07-28 lane (SEP-2243).
	hdrMethod = "Mcp-Method"
	hdrName   = "Mcp-Name"

	// rpcUnsupportedVersion is the SDK's refusal of a protocol version
	// (CodeUnsupportedProtocolVersion): a stateful server's answer to
	// server/discover.
	rpcUnsupportedVersion = -32022
)

// Mcp-Method values, shared so that a request allocates none.
var hdrMethods = map[string][]string{}

func init() {
	for _, m := range append(scenarios.MCPOps(), discoverRequest.Method) {
		hdrMethods[m] = []string{m}
	}
}

// callTags is the attempt a request belongs to: its step, for the
// Mcpload-* headers, its timeout (0: the client's), and whether it is an
// operation on a tool, resource or prompt (see rpcOutcome).
type callTags struct {
	st      *policy.Step
	attempt int
	timeout time.Duration
	call    bool
	// req routes a request of the stateless lane (Mcp-Method, Mcp-Name).
	req *Request
	// ref counts the server's requests on the response's stream.
	ref callRef
}

var (
	hdrAcceptMCP = []string{"application/json, text/event-stream"}
	hdrJSON      = []string{"application/json"}
)

// Streamable speaks MCP Streamable HTTP to one server: a hand-written client
// so that every HTTP exchange is one counted, timed attempt, with no hidden
// reconnects or standalone GET streams.
type Streamable struct {
	conn
	http *http.Client
	url  string
	// Redirects is client.follow_redirects: POSTs follow them hop by hop.
	Redirects httpx.Redirects
	// Lane is the protocol lane the client opens sessions in.
	Lane
	// Headers go with every request (POSTs and session DELETEs).
	Headers http.Header
	// listenRetry is the wait before the GET stream is opened again;
	// 0 is defaultListenRetry.
	listenRetry time.Duration
	// deleteKey is the attempt key of session teardown, discoverKey of
	// server/discover.
	deleteKey, discoverKey string
}

// statelessVersion is the MCP-Protocol-Version of the 2026-07-28 lane,
// which every request carries.
var statelessVersion = []string{ProtocolStateless}

// NewStreamable returns the client of MCP server server at url, over
// Streamable HTTP in the initialize lane.
func NewStreamable(hc *http.Client, server, url string, timeout time.Duration, rd Redactor) *Streamable {
	prefix := "mcp:" + server + "/"
	c := &Streamable{http: hc, url: url, deleteKey: prefix + "delete", discoverKey: prefix + "discover"}
	c.conn.init(c, server, timeout, rd)
	return c
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
	// stateless is the 2026-07-28 lane: _meta and routing headers on every
	// request, no session id.
	stateless bool
	// renewal is the session that replaced this one once it expired.
	renewal
	// listening cancels the standalone GET stream, when one is open.
	listening atomic.Pointer[context.CancelFunc]
}

// initialize opens a session: the initialize request, then the
// notifications/initialized notification. Both are recorded as attempts
// (kind session) in step step of conversation seq.
func (c *Streamable) initialize(ctx context.Context, seq uint64, step int, sink Sink) (*httpSession, Total) {
	var out Total
	id := c.nextID.Add(1)
	body := appendInitialize(make([]byte, 0, 192+len(c.caps.declared)), id, c.Protocol, c.caps.declared)

	start := time.Now()
	var ex Exchange
	result, hdr := c.rpc(ctx, nil, callTags{ref: callRef{seq, step, sink}}, id, body, start, &ex)
	sess := &httpSession{}
	if ex.Outcome == record.OutcomeOK {
		if v, err := initializeVersion(result); err != "" {
			ex.Outcome, ex.Err = record.OutcomeProtocol, err
		} else {
			sess.version = []string{v}
			if sid := hdr.Get(hdrSessionID); sid != "" {
				sess.id = []string{sid}
			}
		}
	}
	if sess.version != nil {
		ex.Protocol = sess.version[0]
	}
	c.record(sink, seq, step, record.KindSession, c.initKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return nil, out
	}

	start = time.Now()
	ex = Exchange{Protocol: sess.version[0]}
	c.post(ctx, sess, callTags{}, notifiedBody, &ex, nil)
	c.record(sink, seq, step, record.KindSession, c.notifiedKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return nil, out
	}
	c.listen(sess, callRef{seq, step, sink})
	return sess, out
}

// attempt makes one attempt of req on sess, and records it. A 404 marks
// the session expired.
func (c *Streamable) attempt(ctx context.Context, s Session, st *policy.Step, req *Request, sink Sink) Result {
	sess := s.(*httpSession)
	id := c.nextID.Add(1)
	meta := ""
	if sess.stateless {
		meta = c.meta
	}
	body := appendRequestMeta(make([]byte, 0, 96+len(req.Params)+len(meta)), id, req, meta)

	n := st.NextAttempt()
	start := time.Now()
	var call Result
	call.Protocol = sess.version[0]
	tags := callTags{st: st, attempt: n, timeout: st.AttemptTimeout(c.timeout), call: req.Method != scenarios.MCPOpToolsList, req: req,
		ref: callRef{st.Conversation, st.Index, sink}}
	result, hdr := c.rpc(ctx, sess, tags, id, body, start, &call.Exchange)
	if call.Outcome == record.OutcomeOK && sess.stateless {
		result, hdr = c.inputRounds(ctx, sess, tags, req, result, hdr, start, &call.Exchange)
	}
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
	ex.Protocol = sess.version[0]
	sess.stopListening()
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodDelete, c.url, nil)
	if err != nil {
		ex.Outcome, ex.Err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
	} else {
		setHeaders(req.Header, c.Headers)
		req.Header[hdrSessionID] = sess.id
		req.Header[hdrProtocolVersion] = sess.version
		resp, err := c.http.Do(req)
		if err != nil {
			ex.Outcome, ex.Err = httpx.ClassifyTransportErr(ctx, actx, err), httpx.H2Note(err)+err.Error()
		} else {
			cb := &httpx.CountingBody{R: resp.Body}
			ex.Status, ex.Proto = resp.StatusCode, resp.Proto
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
			requests := 0
			msg, err = readSSEResponse(r, want, func() {
				if ex.Progress++; ex.Progress == 1 {
					ex.FirstProgress = time.Since(start)
				}
			}, func(req *rpcResponse, data []byte) error {
				if requests++; requests > MaxServerRequestsPerCall {
					return protocolError{"the server sent over " + strconv.Itoa(MaxServerRequestsPerCall) + " requests on one call's stream"}
				}
				c.answerOnStream(ctx, actx, sess, tags.ref, req, data)
				return nil
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
		setHeaders(req.Header, c.Headers)
		req.Header["Content-Type"] = hdrJSON
		req.Header["Accept"] = hdrAcceptMCP
		if sess != nil {
			if sess.id != nil {
				req.Header[hdrSessionID] = sess.id
			}
			req.Header[hdrProtocolVersion] = sess.version
			if sess.stateless && tags.req != nil {
				req.Header[hdrMethod] = hdrMethods[tags.req.Method]
				if tags.req.Name != "" {
					req.Header[hdrName] = []string{tags.req.Name}
				}
			}
		}
		httpx.AttemptTags(req.Header, tags.st, tags.attempt)
		if hop != nil {
			hop.Apply(req)
		}
		if resp, err = c.http.Do(req); err != nil {
			ex.Outcome, ex.Err = httpx.ClassifyTransportErr(ctx, actx, err), httpx.H2Note(err)+err.Error()
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
	ex.Status, ex.Proto = resp.StatusCode, resp.Proto
	switch {
	case notHop != nil:
		ex.Outcome = record.OutcomeRedirect
		ex.Err = "HTTP " + strconv.Itoa(resp.StatusCode) + " redirect " + notHop.Error()
	case resp.StatusCode == http.StatusNotFound && sess != nil && sess.id != nil:
		// The server forgot the session (restart, idle timeout): this
		// call is lost, and the next one must start a new session.
		sess.expired.Store(true)
		sess.stopListening()
		ex.Outcome = record.OutcomeSessionExpired
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

// Target implements Client.
func (c *Streamable) Target() string { return c.url }

// Handshake implements Client: the initialize request, then the
// notifications/initialized notification.
func (c *Streamable) Handshake(ctx context.Context, seq uint64, step int, sink Sink) (Session, Total) {
	skip, discover, fallback := c.handshake()
	if skip {
		return &httpSession{version: statelessVersion, stateless: true}, Total{Outcome: record.OutcomeOK}
	}
	if discover {
		sess, out, refused := c.discover(ctx, seq, step, sink)
		if sess != nil || !refused || !fallback {
			return sessionOrNil(sess), out
		}
		// An older server: the initialize handshake, as the SDKs fall
		// back to it.
	}
	sess, out := c.initialize(ctx, seq, step, sink)
	if sess == nil && out.Outcome == record.Outcome4xx && c.isLegacySSE(ctx) {
		out.Err += "; the server answers GET with an event stream: a legacy HTTP+SSE (2024-11-05) server, set transport: sse"
	}
	if sess == nil {
		return nil, out // no typed nil in the interface
	}
	return sess, out
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

// Close implements Client: HTTP sessions are ended through their pool.
func (c *Streamable) Close() error { return nil }

// sessionOrNil keeps a nil *httpSession out of the Session interface.
func sessionOrNil(s *httpSession) Session {
	if s == nil {
		return nil
	}
	return s
}

// discover sends server/discover (attempt key mcp:NAME/discover, kind
// session). The session is stateless when the server supports
// 2026-07-28. refused is set when the server answered but does not speak
// that lane (an unsupported-version error, an unknown method, HTTP 4xx):
// the exchange is then recorded as ok, a negotiation that went as it
// should, with its code.
func (c *Streamable) discover(ctx context.Context, seq uint64, step int, sink Sink) (*httpSession, Total, bool) {
	var out Total
	id := c.nextID.Add(1)
	body := appendRequestMeta(make([]byte, 0, 64+len(c.meta)), id, discoverRequest, c.meta)
	sess := &httpSession{version: statelessVersion, stateless: true}
	start := time.Now()
	var ex Exchange
	result, _ := c.rpc(ctx, sess, callTags{req: discoverRequest}, id, body, start, &ex)
	refused := discoverVerdict(&ex, result, c.Protocol == ProtocolAuto)
	c.record(sink, seq, step, record.KindSession, c.discoverKey, start, &ex)
	out.add(&ex)
	if refused || ex.Outcome != record.OutcomeOK {
		return nil, out, refused
	}
	return sess, out, false
}

// isLegacySSE reports whether the server answers a GET with an event
// stream whose first event is not JSON: the endpoint event of the
// 2024-11-05 HTTP+SSE transport. It runs only after a failed handshake.
func (c *Streamable) isLegacySSE(ctx context.Context) bool {
	probe := NewLegacySSE(c.http, c.server, c.url, c.timeout, c.redact)
	var ex Exchange
	s := probe.connect(ctx, &ex)
	if s == nil {
		return false
	}
	s.end()
	return true
}
