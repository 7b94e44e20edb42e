package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// mux matches a transport's incoming JSON-RPC messages to the requests
// waiting for them, by id: the multiplexing of the transports whose
// responses do not come back on the request's own exchange (stdio, the
// legacy HTTP+SSE stream). It counts progress notifications, and answers
// the server's requests as the client's capabilities say, or refuses
// them, never leaving them waiting.
type mux struct {
	// c serves the server's requests.
	c *conn
	// answering bounds the answers in progress (MaxPendingServerRequests).
	answering chan struct{}
	// send writes one message to the server; stop ends the transport
	// after a failure.
	send    func([]byte) error
	stop    func()
	timeout time.Duration

	mu      sync.Mutex
	pending map[int64]*muxCall
	// failure, once set, is why the transport can take no more requests
	// (the process exited, the stream ended, a message was not JSON-RPC).
	failure string
	done    chan struct{} // closed when the reader stops
	// ended is set once the transport is being shut down.
	ended atomic.Bool
}

// Expired implements Session: a transport that ended, or failed, is
// replaced by its pool.
func (m *mux) Expired() bool {
	select {
	case <-m.done:
		return true
	default:
		return m.ended.Load()
	}
}

func newMux(c *conn, send func([]byte) error, stop func()) mux {
	return mux{c: c, send: send, stop: stop, timeout: c.timeout, pending: map[int64]*muxCall{}, done: make(chan struct{}),
		answering: make(chan struct{}, MaxPendingServerRequests)}
}

// muxCall is a request waiting for its response.
type muxCall struct {
	reply chan *rpcResponse // buffered: the reader never blocks
	start time.Time
	// ref is the call the server's requests are counted against while
	// this one waits.
	ref callRef
	// progress and firstProgress are written by the reader only, and
	// read after reply.
	progress      atomic.Int32
	firstProgress atomic.Int64 // ns after start
}

// roundTrip writes the request id (body, one line) and waits for its
// response within timeout. It returns the response when it is a result;
// anything else is classified into ex.
func (m *mux) roundTrip(ctx context.Context, id int64, body []byte, timeout time.Duration, ex *Exchange, call bool, ref callRef) *rpcResponse {
	if timeout <= 0 {
		timeout = m.timeout
	}
	pc := &muxCall{reply: make(chan *rpcResponse, 1), start: time.Now(), ref: ref}
	m.mu.Lock()
	if m.failure != "" {
		why := m.failure
		m.mu.Unlock()
		ex.Outcome, ex.Err = record.OutcomeConnection, why
		return nil
	}
	m.pending[id] = pc
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.pending, id)
		m.mu.Unlock()
	}()
	body = compactLine(body)
	if err := m.send(body); err != nil {
		ex.Outcome, ex.Err = record.OutcomeConnection, "sending the request: "+err.Error()
		var pe interface{ status() int }
		if errors.As(err, &pe) { // an HTTP POST the server refused
			ex.Status = pe.status()
			ex.Outcome = httpx.ClassifyStatus(ex.Status)
		}
		return nil
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var msg *rpcResponse
	select {
	case msg = <-pc.reply:
	case <-m.done:
		select {
		case msg = <-pc.reply: // it came just before the end
		default:
			m.mu.Lock()
			ex.Outcome, ex.Err = record.OutcomeProtocol, m.failure
			m.mu.Unlock()
			return nil
		}
	case <-timer.C:
		ex.Outcome, ex.Err = record.OutcomeTimeout, "no response within "+timeout.String()
		return nil
	case <-ctx.Done():
		ex.Outcome, ex.Err = policy.StopOutcome(ctx), "run stopped"
		if ex.Outcome == record.OutcomeTimeout {
			ex.Err = context.Cause(ctx).Error()
		}
		return nil
	}
	ex.Progress = int(pc.progress.Load())
	ex.FirstProgress = time.Duration(pc.firstProgress.Load())
	ex.BytesIn = msg.size
	if msg.Error != nil {
		ex.RPCCode = msg.Error.Code
		ex.Outcome = rpcOutcome(msg.Error.Code, call)
		ex.Err = "jsonrpc " + strconv.Itoa(msg.Error.Code) + ": " + httpx.Truncate(msg.Error.Message, httpx.MaxErrorDetail)
		return nil
	}
	if len(msg.Result) == 0 {
		ex.Outcome, ex.Err = record.OutcomeProtocol, "jsonrpc response has neither result nor error"
		return nil
	}
	ex.Outcome = record.OutcomeOK
	return msg
}

// dispatch handles one message line; false ends the session.
func (m *mux) dispatch(line []byte) bool {
	var msg muxMessage
	if err := json.Unmarshal(line, &msg); err != nil || msg.JSONRPC != "2.0" {
		m.fail("server sent a message that is not JSON-RPC: " + httpx.Snippet(line))
		return false
	}
	switch {
	case msg.Method != "" && len(msg.ID) > 0:
		m.answer(&msg, line)
	case msg.Method == "notifications/progress":
		m.progress(&msg)
	case msg.Method != "":
		// Another notification (a log message, a list change): nothing to do.
	default:
		id, err := strconv.ParseInt(string(bytes.TrimSpace(msg.ID)), 10, 64)
		if err != nil {
			return true // not an id we sent
		}
		m.mu.Lock()
		pc := m.pending[id]
		m.mu.Unlock()
		if pc != nil { // else a late answer to a call that timed out
			msg.rpcResponse.size = int64(len(line) + 1)
			select {
			case pc.reply <- &msg.rpcResponse:
			default:
			}
		}
	}
	return true
}

// muxMessage is any message from the server.
type muxMessage struct {
	JSONRPC string `json:"jsonrpc"`
	rpcResponse
	Params struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	} `json:"params"`
}

// answer answers a request from the server as the client's capabilities
// say (a provider's sample takes a while, so answers are made beside the
// reader), counted against the oldest call waiting. Past
// MaxPendingServerRequests answers in progress, a request is refused at
// once: never left waiting.
func (m *mux) answer(msg *muxMessage, line []byte) {
	start := time.Now()
	id, method := msg.ID, msg.Method // copies: the reader reuses line
	params := requestParams(line)
	ref := m.oldestRef()
	select {
	case m.answering <- struct{}{}:
	default:
		why := "mcpload has " + strconv.Itoa(MaxPendingServerRequests) + " answers to the server's requests in progress"
		ex := Exchange{Outcome: record.OutcomeOK}
		if err := m.send(appendReply(nil, id, nil, rpcInternalError, why)); err != nil {
			ex.Outcome, ex.Err = record.OutcomeConnection, err.Error()
		}
		answered(&ex, method, rpcInternalError, why)
		m.c.recordServer(ref, method, start, &ex)
		return
	}
	go func() {
		defer func() { <-m.answering }()
		ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
		defer cancel()
		result, code, why := m.c.serve(ctx, ref, method, params)
		ex := Exchange{Outcome: record.OutcomeOK}
		if err := m.send(appendReply(make([]byte, 0, 96+len(result)+len(why)), id, result, code, why)); err != nil {
			ex.Outcome, ex.Err = record.OutcomeConnection, err.Error()
		}
		answered(&ex, method, code, why)
		if !m.Expired() { // else the run may be over, its sink closed
			m.c.recordServer(ref, method, start, &ex)
		}
	}()
}

// oldestRef is the call the server's request is counted against: the
// oldest waiting, the only one on a session of one slot. With none
// waiting, the request is answered but not recorded.
func (m *mux) oldestRef() callRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	var oldest *muxCall
	for _, pc := range m.pending {
		if oldest == nil || pc.start.Before(oldest.start) {
			oldest = pc
		}
	}
	if oldest == nil {
		return callRef{}
	}
	return oldest.ref
}

// progress counts a progress notification against the call whose id is
// its token (the client sends its request id as the token).
func (m *mux) progress(msg *muxMessage) {
	id, err := strconv.ParseInt(string(bytes.TrimSpace(msg.Params.ProgressToken)), 10, 64)
	if err != nil {
		return
	}
	m.mu.Lock()
	pc := m.pending[id]
	m.mu.Unlock()
	if pc != nil && pc.progress.Add(1) == 1 {
		pc.firstProgress.Store(int64(time.Since(pc.start)))
	}
}

// fail ends the session for why: the calls waiting see why, the process
// is killed.
func (m *mux) fail(why string) {
	m.mu.Lock()
	if m.failure == "" {
		m.failure = why
	}
	m.mu.Unlock()
	m.stop()
}

// initializeOver runs initialize (asking for version; "" for
// ProtocolVersion) and notifications/initialized over m, each recorded as
// an attempt and added to out. It returns the negotiated version, "" when
// the handshake failed.
func (c *conn) initializeOver(ctx context.Context, m *mux, version string, seq uint64, step int, sink Sink, out *Total) string {
	start := time.Now()
	var ex Exchange
	id := c.nextID.Add(1)
	negotiated := ""
	body := appendInitialize(make([]byte, 0, 192+len(c.caps.declared)), id, version, c.caps.declared)
	if msg := m.roundTrip(ctx, id, body, c.timeout, &ex, false, callRef{seq, step, sink}); msg != nil {
		v, why := initializeVersion(msg.Result)
		if why != "" {
			ex.Outcome, ex.Err = record.OutcomeProtocol, why
		}
		negotiated = v
	}
	ex.Protocol = negotiated
	c.record(sink, seq, step, record.KindSession, c.initKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return ""
	}
	start = time.Now()
	ex = Exchange{Outcome: record.OutcomeOK, Protocol: negotiated}
	if err := m.send(notifiedBody); err != nil {
		ex.Outcome, ex.Err = record.OutcomeConnection, "notifications/initialized: "+err.Error()
	}
	c.record(sink, seq, step, record.KindSession, c.notifiedKey, start, &ex)
	out.add(&ex)
	if ex.Outcome != record.OutcomeOK {
		return ""
	}
	return negotiated
}

// attemptOver makes one attempt of req over m, in the lane of version
// (stateless: the 2026-07-28 lane's _meta on the request), and records it.
func (c *conn) attemptOver(ctx context.Context, m *mux, version string, stateless bool, st *policy.Step, req *Request, sink Sink) Result {
	id := c.nextID.Add(1)
	meta := ""
	if stateless {
		meta = c.meta // with the declared capabilities
	}
	body := appendRequestMeta(make([]byte, 0, 96+len(req.Params)+len(meta)), id, req, meta)
	n := st.NextAttempt()
	start := time.Now()
	var call Result
	call.Protocol = version
	isCall, ref, timeout := req.Method != scenarios.MCPOpToolsList, callRef{st.Conversation, st.Index, sink}, st.AttemptTimeout(c.timeout)
	msg := m.roundTrip(ctx, id, body, timeout, &call.Exchange, isCall, ref)
	if msg != nil && stateless {
		msg = c.inputRoundsOver(ctx, m, ref, req, msg, timeout, &call.Exchange, isCall)
	}
	switch {
	case msg != nil:
		c.readResult(req, msg.Result, &call)
	case call.RPCCode != 0:
		call.Text = call.Err // the model is told what the server said
	}
	c.recordAttempt(sink, st.Conversation, st.Index, req.Kind, req.Key, n, start, &call.Exchange)
	return call
}

// inputRoundsOver answers the input_required results of the stateless
// lane over m, as Streamable's inputRounds does over HTTP: each round's
// requests are fulfilled and the request sent again with the answers,
// up to maxInputRounds, all one attempt. It returns the final response,
// or nil with ex saying why.
func (c *conn) inputRoundsOver(ctx context.Context, m *mux, ref callRef, req *Request, msg *rpcResponse, timeout time.Duration, ex *Exchange, isCall bool) *rpcResponse {
	bytesIn := ex.BytesIn
	for round := 0; ; round++ {
		next, why := c.fulfil(ctx, ref, req, msg.Result)
		switch {
		case why != "":
			ex.Outcome, ex.Err = record.OutcomeProtocol, req.Method+": "+why
			msg = nil
		case next != nil && round == maxInputRounds:
			ex.Outcome, ex.Err = record.OutcomeProtocol, req.Method+": still input_required after "+strconv.Itoa(maxInputRounds)+" rounds"
			msg = nil
		case next != nil:
			req = next
			id := c.nextID.Add(1)
			body := appendRequestMeta(make([]byte, 0, 96+len(req.Params)+len(c.meta)), id, req, c.meta)
			*ex = Exchange{Protocol: ex.Protocol}
			if msg = m.roundTrip(ctx, id, body, timeout, ex, isCall, ref); msg != nil {
				bytesIn += ex.BytesIn
				continue
			}
		}
		ex.BytesIn = max(ex.BytesIn, bytesIn)
		return msg
	}
}
