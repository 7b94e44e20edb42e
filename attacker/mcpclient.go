package attacker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// MCP Streamable HTTP constants. mcpProtocolVersion is the newest version
// the official Go SDK (v1.8.0) still negotiates through the initialize
// handshake; 2026-07-28 replaces that handshake with server/discover and
// sessionless requests, which this client does not speak.
const (
	mcpProtocolVersion = "2025-11-25"
	mcpClientName      = "mcpload"
	mcpClientVersion   = "0.1.0"

	hdrSessionID       = "Mcp-Session-Id"       // canonical form of Mcp-Session-Id
	hdrProtocolVersion = "Mcp-Protocol-Version" // canonical form of MCP-Protocol-Version

	// hdrSeq, hdrStep and hdrAttempt tag model requests and tools/calls
	// with their conversation, step and attempt (see attemptTags).
	hdrSeq     = "Mcpload-Seq"
	hdrStep    = "Mcpload-Step"
	hdrAttempt = "Mcpload-Attempt"
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

var hdrAcceptMCP = []string{"application/json, text/event-stream"}

// mcpClient speaks MCP Streamable HTTP to one server: a hand-written client
// so that every HTTP exchange is one counted, timed attempt, with no hidden
// reconnects or standalone GET streams.
type mcpClient struct {
	http    *http.Client
	url     string
	server  string
	timeout time.Duration
	redact  *redactor
	// retry retries tools/calls (client.retry), nil for none; seed drives
	// its jitter.
	retry *policy.Retry
	seed  uint64
	// maxBytes bounds a response body (client.limits.max_response_bytes;
	// 0 is the default).
	maxBytes int64
	// redirects is client.follow_redirects: POSTs follow them hop by hop.
	redirects redirects

	// Attempt keys of the handshake and of session teardown. The
	// initialized notification is its own HTTP exchange, so it is its own
	// attempt, under its own key: folding it into initialize would hide a
	// server that is slow to accept notifications.
	initKey, notifiedKey, deleteKey string

	nextID atomic.Int64
	// schemas caches the measure of each distinct tool list tools/list
	// returned, by a hash of its bytes: measuring translates every tool
	// into three APIs, which is worth doing once, not per call.
	schemas sync.Map // uint64 -> *record.ToolsSchema
}

func newMCPClient(hc *http.Client, server, url string, timeout time.Duration, rd *redactor) *mcpClient {
	prefix := "mcp:" + server + "/"
	return &mcpClient{
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

// mcpSession is an initialized MCP session. It is safe for concurrent
// calls: the SDK's server serves concurrent requests on one session.
type mcpSession struct {
	// id is the Mcp-Session-Id, "" when the server keeps no sessions.
	id      []string
	version []string
	// expired is set when the server answered 404 to the session, so that
	// its pool initializes a new one.
	expired atomic.Bool
}

// mcpExchange is the outcome of one HTTP exchange with the server.
type mcpExchange struct {
	status  int
	bytesIn int64
	outcome string
	err     string
	// broken is set when the body failed part-way, so that it is not
	// drained (see chatResult.broken).
	broken bool
	// rpcCode is the code of a JSON-RPC error response, else 0.
	rpcCode int
	// progress counts the notifications/progress read before the
	// response, the first of them firstProgress after the request was
	// sent.
	progress      int
	firstProgress time.Duration
	// schema measures the tool list of an ok tools/list.
	schema *record.ToolsSchema
	// hops are the redirects followed before the answer (see
	// client.follow_redirects), each recorded as an attempt of its own.
	hops []mcpHop
}

// mcpHop is one redirect an MCP request followed.
type mcpHop struct {
	start   time.Time
	latency time.Duration
	status  int
	bytesIn int64
}

// mcpOutcome sums what a sequence of exchanges (a handshake, a handshake
// and a call) produced for the job's result.
type mcpOutcome struct {
	status  int // of the last exchange
	bytesIn int64
	outcome string
	err     string
}

func (o *mcpOutcome) add(ex *mcpExchange) {
	o.status = ex.status
	o.bytesIn += ex.bytesIn
	o.outcome = ex.outcome
	o.err = ex.err
}

// rpcResponse is a JSON-RPC message from the server: the response we wait
// for, or a notification or request we ignore.
type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// initialize opens a session: the initialize request, then the
// notifications/initialized notification. Both are recorded as attempts
// (kind session) in step step of conversation seq.
func (c *mcpClient) initialize(ctx context.Context, seq uint64, step int, sink Sink) (*mcpSession, mcpOutcome) {
	var out mcpOutcome
	id := c.nextID.Add(1)
	body := make([]byte, 0, 192)
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"initialize","params":{"protocolVersion":"`+mcpProtocolVersion+
		`","capabilities":{},"clientInfo":{"name":"`+mcpClientName+`","version":"`+mcpClientVersion+`"}}}`...)

	start := time.Now()
	var ex mcpExchange
	result, hdr := c.rpc(ctx, nil, callTags{}, id, body, start, &ex)
	sess := &mcpSession{}
	if ex.outcome == record.OutcomeOK {
		var ir struct {
			ProtocolVersion string `json:"protocolVersion"`
		}
		if err := json.Unmarshal(result, &ir); err != nil || ir.ProtocolVersion == "" {
			ex.outcome, ex.err = record.OutcomeProtocol, "initialize: result has no protocolVersion: "+snippet(result)
		} else {
			sess.version = []string{ir.ProtocolVersion}
			if sid := hdr.Get(hdrSessionID); sid != "" {
				sess.id = []string{sid}
			}
		}
	}
	c.record(sink, seq, step, record.KindSession, c.initKey, start, &ex)
	out.add(&ex)
	if ex.outcome != record.OutcomeOK {
		return nil, out
	}

	start = time.Now()
	ex = mcpExchange{}
	c.post(ctx, sess, callTags{}, []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`), &ex, nil)
	c.record(sink, seq, step, record.KindSession, c.notifiedKey, start, &ex)
	out.add(&ex)
	if ex.outcome != record.OutcomeOK {
		return nil, out
	}
	return sess, out
}

// mcpCall is the outcome of an MCP request.
type mcpCall struct {
	mcpExchange
	// text is the result for the model: the text of the content blocks, or
	// the raw content when there is no text. For a tool error, its message.
	text string
	// header is the response's, for the retry policy's server hints.
	header http.Header
}

// mcpRequest is one MCP request of a step: its method and params, the key
// its attempts are recorded under, and whether to ask for progress.
type mcpRequest struct {
	method string
	key    string
	// kind is the attempts' kind: record.StepTool for tools/call,
	// record.StepMCP for the other operations.
	kind string
	// params is the inside of the params object, without its braces; ""
	// for none.
	params []byte
	// progress sends a progressToken (the request's id) in params._meta.
	progress bool
	// what names the request's target in error text, as "tool x".
	what string
}

// toolCallRequest is a tools/call of tool name with args (a JSON object).
func toolCallRequest(name string, args []byte, progress bool) *mcpRequest {
	if len(args) == 0 {
		args = []byte("{}")
	}
	params := make([]byte, 0, 24+len(name)+len(args))
	params = append(params, `"name":`...)
	params = appendJSONString(params, name)
	params = append(params, `,"arguments":`...)
	params = append(params, args...)
	return &mcpRequest{method: scenarios.MCPOpToolsCall, key: record.ToolKey(name), kind: record.StepTool, params: params, progress: progress, what: "tool " + name}
}

// callTool calls tool name with args (a JSON object) on sess, as step step
// of conversation seq (see call).
func (c *mcpClient) callTool(ctx context.Context, sess *mcpSession, seq uint64, step int, name string, args []byte, sink Sink) mcpCall {
	return c.call(ctx, sess, seq, step, toolCallRequest(name, args, false), sink)
}

// call sends req on sess, as step step of conversation seq, retrying as
// client.retry says (with the same per-attempt timeout as model requests,
// and no fallback, breaker or cache). Each attempt is recorded. A JSON-RPC
// error is classified by its code (see rpcOutcome), a tools/call result
// with isError is a tool_error, a 404 an expired session.
func (c *mcpClient) call(ctx context.Context, sess *mcpSession, seq uint64, step int, req *mcpRequest, sink Sink) mcpCall {
	st := newStepState(seq, step, req.key, "", c.seed, sink)
	ctx = policy.WithStep(ctx, &st.Step)
	var (
		call    mcpCall
		bytesIn int64
	)
	attempt := func() policy.Try {
		call = c.callOnce(ctx, sess, &st.Step, req, sink)
		bytesIn += call.bytesIn
		return policy.Try{Outcome: call.outcome, Header: call.header}
	}
	if c.retry == nil {
		attempt()
	} else if err := c.retry.Do(ctx, attempt); err != nil {
		call.outcome, call.err = policy.OutcomeOf(nil, err), c.redact.clip(err.Error())
	}
	call.bytesIn = bytesIn
	return call
}

// callOnce makes one attempt of req, and records it.
func (c *mcpClient) callOnce(ctx context.Context, sess *mcpSession, st *policy.Step, req *mcpRequest, sink Sink) mcpCall {
	id := c.nextID.Add(1)
	body := make([]byte, 0, 96+len(req.params))
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"`...)
	body = append(body, req.method...)
	body = append(body, `","params":{`...)
	if req.progress {
		body = append(body, `"_meta":{"progressToken":`...)
		body = strconv.AppendInt(body, id, 10)
		body = append(body, '}')
		if len(req.params) > 0 {
			body = append(body, ',')
		}
	}
	body = append(body, req.params...)
	body = append(body, "}}"...)

	n := st.NextAttempt()
	start := time.Now()
	var call mcpCall
	tags := callTags{st: st, attempt: n, timeout: st.AttemptTimeout(c.timeout), call: req.method != scenarios.MCPOpToolsList}
	result, hdr := c.rpc(ctx, sess, tags, id, body, start, &call.mcpExchange)
	call.header = hdr
	switch {
	case call.outcome == record.OutcomeOK:
		c.readResult(req, result, &call)
	case call.rpcCode != 0:
		// The model is told what the server said, as for isError.
		call.text = call.err
	}
	c.recordAttempt(sink, st.Conversation, st.Index, req.kind, req.key, n, start, &call.mcpExchange)
	return call
}

// readResult reads the result of an ok response to req into call: the
// text for the model, isError, a tool list's measure. A result that is not
// what the method returns is a protocol failure.
func (c *mcpClient) readResult(req *mcpRequest, result json.RawMessage, call *mcpCall) {
	fail := func(format string, args ...any) {
		call.outcome, call.err = record.OutcomeProtocol, req.method+": "+fmt.Sprintf(format, args...)
	}
	switch req.method {
	case scenarios.MCPOpToolsCall:
		var tr struct {
			Content           json.RawMessage `json:"content"`
			StructuredContent json.RawMessage `json:"structuredContent"`
			IsError           bool            `json:"isError"`
		}
		if err := json.Unmarshal(result, &tr); err != nil {
			fail("decoding result: %v", err)
			return
		}
		call.text = contentText(tr.Content, tr.StructuredContent)
		if tr.IsError {
			call.outcome = record.OutcomeToolError
			call.err = req.what + " returned isError: " + truncate(call.text, maxErrorDetail)
		}
	case scenarios.MCPOpToolsList:
		var lr struct {
			Tools json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(result, &lr); err != nil {
			fail("decoding result: %v", err)
			return
		}
		schema, err := c.measureTools(lr.Tools)
		if err != nil {
			fail("%v", err)
			return
		}
		call.schema = schema
	case scenarios.MCPOpResourcesRead:
		var rr struct {
			Contents []struct {
				URI  string `json:"uri"`
				Text string `json:"text"`
				Blob string `json:"blob"`
			} `json:"contents"`
		}
		if err := json.Unmarshal(result, &rr); err != nil || rr.Contents == nil {
			fail("result has no contents: %s", snippet(result))
			return
		}
		var parts []string
		for _, ct := range rr.Contents {
			parts = append(parts, ct.Text)
		}
		call.text = strings.Join(parts, "\n")
	case scenarios.MCPOpPromptsGet:
		var pr struct {
			Messages []struct {
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(result, &pr); err != nil || pr.Messages == nil {
			fail("result has no messages: %s", snippet(result))
			return
		}
		var parts []string
		for _, m := range pr.Messages {
			var ct struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Content, &ct) == nil && ct.Text != "" {
				parts = append(parts, ct.Text)
			}
		}
		call.text = strings.Join(parts, "\n")
	}
}

// rpcOutcome classifies a JSON-RPC error by its code. A timeout (-32003)
// is a timeout and a rate limit (-32004) a 429, so that client.retry and
// its budget treat them as they treat the HTTP kinds. On an operation on a
// tool, resource or prompt (call), the errors that say the call itself was
// refused or failed (tool not found -32001, execution failed -32002,
// invalid params -32602, which the MCP SDK answers for an unknown tool,
// resource or prompt and for invalid arguments) are tool errors, as
// isError is. Anything else, and any error to the handshake or a
// tools/list, is a protocol failure.
func rpcOutcome(code int, call bool) string {
	switch code {
	case record.RPCTimeout:
		return record.OutcomeTimeout
	case record.RPCRateLimited:
		return record.Outcome429
	case record.RPCToolNotFound, record.RPCExecutionFailed, record.RPCInvalidParams:
		if call {
			return record.OutcomeToolError
		}
	}
	return record.OutcomeProtocol
}

// contentText flattens MCP content blocks into what a model is given: the
// text blocks joined by newlines, else the structured content, else the
// raw blocks.
func contentText(content, structured json.RawMessage) string {
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(content, &blocks) == nil {
		var sb strings.Builder
		for _, b := range blocks {
			if b.Type != "text" {
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(b.Text)
		}
		if sb.Len() > 0 {
			return sb.String()
		}
	}
	if len(structured) > 0 && string(structured) != "null" {
		return string(structured)
	}
	return string(content)
}

// close ends sess with a DELETE, best effort. With a sink the exchange is
// recorded as an attempt; without one (teardown after the run) it is not.
func (c *mcpClient) close(ctx context.Context, sess *mcpSession, seq uint64, step int, sink Sink) mcpExchange {
	var ex mcpExchange
	if sess == nil || sess.id == nil {
		ex.outcome = record.OutcomeOK
		return ex // nothing to end: the server keeps no session
	}
	start := time.Now()
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodDelete, c.url, nil)
	if err != nil {
		ex.outcome, ex.err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
	} else {
		req.Header[hdrSessionID] = sess.id
		req.Header[hdrProtocolVersion] = sess.version
		resp, err := c.http.Do(req)
		if err != nil {
			ex.outcome, ex.err = classifyTransportErr(ctx, actx, err), err.Error()
		} else {
			cb := &countingBody{r: resp.Body}
			ex.status = resp.StatusCode
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode <= 299,
				resp.StatusCode == http.StatusMethodNotAllowed: // the spec lets a server refuse DELETE
				ex.outcome = record.OutcomeOK
			default:
				ex.outcome = classifyStatus(resp.StatusCode)
				ex.err = "DELETE session: " + httpErrorText(resp.StatusCode, cb)
			}
			ex.bytesIn = cb.drainClose(true)
		}
	}
	ex.err = c.redact.clip(ex.err)
	if sink != nil {
		c.record(sink, seq, step, record.KindSession, c.deleteKey, start, &ex)
	}
	return ex
}

// record sends one session exchange to sink, as attempt 1.
func (c *mcpClient) record(sink Sink, seq uint64, step int, kind, key string, start time.Time, ex *mcpExchange) {
	c.recordAttempt(sink, seq, step, kind, key, 1, start, ex)
}

// recordAttempt sends exchange n of a step to sink.
func (c *mcpClient) recordAttempt(sink Sink, seq uint64, step int, kind, key string, n int, start time.Time, ex *mcpExchange) {
	ex.err = c.redact.clip(ex.err)
	base := record.Attempt{Conversation: seq, Step: step, Kind: kind, Key: key, Attempt: n}
	for _, h := range ex.hops {
		hop := base
		hop.Start, hop.LatencyUS, hop.Status, hop.BytesIn = h.start, h.latency.Microseconds(), h.status, h.bytesIn
		hop.Outcome, hop.Error = record.OutcomeRedirect, "HTTP "+strconv.Itoa(h.status)+" redirect followed"
		sink.Attempt(&hop)
		start = h.start.Add(h.latency)
	}
	a := base
	a.Start, a.LatencyUS, a.Status, a.BytesIn = start, time.Since(start).Microseconds(), ex.status, ex.bytesIn
	a.Outcome, a.Error, a.RPCCode = ex.outcome, ex.err, ex.rpcCode
	a.Progress, a.FirstProgressUS, a.ToolsSchema = ex.progress, ex.firstProgress.Microseconds(), ex.schema
	sink.Attempt(&a)
}

// rpc POSTs a JSON-RPC request sent at start and returns the result of
// the response with id, and the response headers. Failures are classified
// into ex, and progress notifications on an event stream counted there.
func (c *mcpClient) rpc(ctx context.Context, sess *mcpSession, tags callTags, id int64, body []byte, start time.Time, ex *mcpExchange) (json.RawMessage, http.Header) {
	var result json.RawMessage
	hdr := c.post(ctx, sess, tags, body, ex, func(ctx, actx context.Context, resp *http.Response, r io.Reader) {
		want := strconv.AppendInt(nil, id, 10)
		var msg *rpcResponse
		var err error
		if isEventStream(resp.Header.Get("Content-Type")) {
			msg, err = readSSEResponse(r, want, func() {
				if ex.progress++; ex.progress == 1 {
					ex.firstProgress = time.Since(start)
				}
			})
		} else {
			msg, err = readJSONResponse(r, want)
		}
		switch {
		case err != nil:
			ex.outcome, ex.err, ex.broken = classifyBodyErr(ctx, actx, err), err.Error(), true
		case msg.Error != nil:
			ex.rpcCode = msg.Error.Code
			ex.outcome = rpcOutcome(msg.Error.Code, tags.call)
			ex.err = "jsonrpc " + strconv.Itoa(msg.Error.Code) + ": " + truncate(msg.Error.Message, maxErrorDetail)
		case len(msg.Result) == 0:
			ex.outcome, ex.err = record.OutcomeProtocol, "jsonrpc response has neither result nor error"
		default:
			ex.outcome, result = record.OutcomeOK, msg.Result
		}
	})
	return result, hdr
}

// post sends one POST to the server and, on a 2xx response, hands the body
// to read (when read is nil, any 2xx is success). It sets ex's status,
// bytes, and the outcome of anything but the body's content.
func (c *mcpClient) post(ctx context.Context, sess *mcpSession, tags callTags, body []byte, ex *mcpExchange,
	read func(ctx, actx context.Context, resp *http.Response, body io.Reader)) http.Header {
	timeout := tags.timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var (
		hop    *redirectHop
		resp   *http.Response
		notHop error
	)
	for {
		hopStart := time.Now()
		req, err := http.NewRequestWithContext(actx, http.MethodPost, c.url, bytes.NewReader(body))
		if err != nil {
			ex.outcome, ex.err = record.OutcomeProtocol, fmt.Sprintf("building request: %v", err)
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
		attemptTags(req.Header, tags.st, tags.attempt)
		if hop != nil {
			hop.apply(req)
		}
		if resp, err = c.http.Do(req); err != nil {
			ex.outcome, ex.err = classifyTransportErr(ctx, actx, err), err.Error()
			return nil
		}
		if resp.StatusCode < 300 || resp.StatusCode > 399 {
			break
		}
		next, why := c.redirects.next(resp, hop)
		if why != nil {
			notHop = why
			break
		}
		n := (&countingBody{r: resp.Body}).drainClose(true)
		ex.hops = append(ex.hops, mcpHop{start: hopStart, latency: time.Since(hopStart), status: resp.StatusCode, bytesIn: n})
		hop = next
	}
	cb := &countingBody{r: resp.Body, limit: c.maxBytes}
	defer func() { ex.bytesIn = cb.drainClose(!ex.broken) }()
	ex.status = resp.StatusCode
	switch {
	case notHop != nil:
		ex.outcome = record.OutcomeRedirect
		ex.err = "HTTP " + strconv.Itoa(resp.StatusCode) + " redirect " + notHop.Error()
	case resp.StatusCode == http.StatusNotFound && sess != nil && sess.id != nil:
		// The server forgot the session (restart, idle timeout): this
		// call is lost, and the next one must start a new session.
		sess.expired.Store(true)
		ex.outcome = record.OutcomeProtocol
		ex.err = "session expired: " + httpErrorText(resp.StatusCode, cb)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		ex.outcome = classifyStatus(resp.StatusCode)
		ex.err = httpErrorText(resp.StatusCode, cb)
	case read == nil:
		ex.outcome = record.OutcomeOK
	default:
		read(ctx, actx, resp, cb)
	}
	return resp.Header
}

// readJSONResponse reads an application/json JSON-RPC response.
func readJSONResponse(r io.Reader, wantID []byte) (*rpcResponse, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r); err != nil { // r is a countingBody: bounded
		return nil, fmt.Errorf("reading response: %w", err)
	}
	var msg rpcResponse
	if err := json.Unmarshal(buf.Bytes(), &msg); err != nil {
		return nil, protocolError{fmt.Sprintf("decoding jsonrpc response: %v: %s", err, snippet(buf.Bytes()))}
	}
	if !bytes.Equal(bytes.TrimSpace(msg.ID), wantID) {
		return nil, protocolError{fmt.Sprintf("jsonrpc response id %s, want %s", msg.ID, wantID)}
	}
	return &msg, nil
}

// readSSEResponse reads a text/event-stream until the event that carries
// the response with wantID; notifications and server requests on the
// stream are skipped, after calling onProgress for each
// notifications/progress.
func readSSEResponse(r io.Reader, wantID []byte, onProgress func()) (*rpcResponse, error) {
	sr := newSSEReader(r)
	defer sr.release()
	for {
		data, err := sr.next()
		if err == io.EOF {
			return nil, protocolError{"event stream ended without the jsonrpc response"}
		}
		if err != nil {
			return nil, fmt.Errorf("reading event stream: %w", err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue // priming event, or a keep-alive
		}
		var msg rpcResponse
		if err := json.Unmarshal(data, &msg); err != nil {
			return nil, protocolError{fmt.Sprintf("decoding event: %v: %s", err, snippet(data))}
		}
		if msg.Method == "notifications/progress" && onProgress != nil {
			onProgress()
		}
		if msg.Method != "" || !bytes.Equal(bytes.TrimSpace(msg.ID), wantID) {
			continue
		}
		return &msg, nil
	}
}

// protocolError is a malformed response. It is never a timeout, so
// classifyBodyErr files it as a protocol failure.
type protocolError struct{ msg string }

func (e protocolError) Error() string { return e.msg }

// sessionPool keeps one initialized session per slot, initialized on first
// use: one slot plays one agent process, which opens its session once and
// keeps it, rather than paying the handshake for every conversation.
type sessionPool struct {
	c     *mcpClient
	slots sync.Map // int -> *poolSlot
}

type poolSlot struct {
	mu   sync.Mutex
	sess *mcpSession
}

func newSessionPool(c *mcpClient) *sessionPool { return &sessionPool{c: c} }

// get returns the session of slot, initializing it first when it is new or
// expired. Concurrent callers on one slot (parallel tool calls) wait for a
// single handshake. The handshake's attempts are recorded in step step.
func (p *sessionPool) get(ctx context.Context, slot int, seq uint64, step int, sink Sink) (*mcpSession, mcpOutcome) {
	v, ok := p.slots.Load(slot)
	if !ok {
		v, _ = p.slots.LoadOrStore(slot, &poolSlot{})
	}
	ps := v.(*poolSlot)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.sess != nil && !ps.sess.expired.Load() {
		return ps.sess, mcpOutcome{outcome: record.OutcomeOK}
	}
	ps.sess = nil
	sess, out := p.c.initialize(ctx, seq, step, sink)
	if sess != nil {
		ps.sess = sess
	}
	return sess, out
}

// release ends the session of slot, whose worker retired, best effort
// and unrecorded as closeAll's are.
func (p *sessionPool) release(ctx context.Context, slot int) {
	v, ok := p.slots.LoadAndDelete(slot)
	if !ok {
		return
	}
	if sess := v.(*poolSlot).take(); sess != nil {
		p.c.close(ctx, sess, 0, 0, nil)
	}
}

// take empties the slot and returns its session when it is live.
func (ps *poolSlot) take() *mcpSession {
	ps.mu.Lock()
	sess := ps.sess
	ps.sess = nil
	ps.mu.Unlock()
	if sess == nil || sess.expired.Load() {
		return nil
	}
	return sess
}

// closeAll ends every live session, best effort and unrecorded.
func (p *sessionPool) closeAll(ctx context.Context) {
	var wg sync.WaitGroup
	p.slots.Range(func(k, v any) bool {
		if sess := v.(*poolSlot).take(); sess != nil {
			wg.Go(func() { p.c.close(ctx, sess, 0, 0, nil) })
		}
		return true
	})
	wg.Wait()
}
