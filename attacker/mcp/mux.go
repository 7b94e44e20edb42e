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
// the server's requests (ping) or refuses them, never leaving them
// waiting.
type mux struct {
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

func newMux(send func([]byte) error, stop func(), timeout time.Duration) mux {
	return mux{send: send, stop: stop, timeout: timeout, pending: map[int64]*muxCall{}, done: make(chan struct{})}
}

// muxCall is a request waiting for its response.
type muxCall struct {
	reply chan *rpcResponse // buffered: the reader never blocks
	start time.Time
	// progress and firstProgress are written by the reader only, and
	// read after reply.
	progress      atomic.Int32
	firstProgress atomic.Int64 // ns after start
}

// roundTrip writes the request id (body, one line) and waits for its
// response within timeout. It returns the response when it is a result;
// anything else is classified into ex.
func (m *mux) roundTrip(ctx context.Context, id int64, body []byte, timeout time.Duration, ex *Exchange, call bool) *rpcResponse {
	if timeout <= 0 {
		timeout = m.timeout
	}
	pc := &muxCall{reply: make(chan *rpcResponse, 1), start: time.Now()}
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
		m.answer(&msg)
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

// answer answers a request from the server: a ping is answered, anything
// else refused as a method mcpload does not serve, never left waiting.
func (m *mux) answer(msg *muxMessage) {
	b := make([]byte, 0, 128)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, msg.ID...)
	if msg.Method == "ping" {
		b = append(b, `,"result":{}}`...)
	} else {
		b = append(b, `,"error":{"code":-32601,"message":`...)
		b = httpx.AppendJSONString(b, "mcpload does not serve "+msg.Method)
		b = append(b, "}}"...)
	}
	_ = m.send(b)
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
	if msg := m.roundTrip(ctx, id, appendInitialize(make([]byte, 0, 192), id, version), c.timeout, &ex, false); msg != nil {
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
	size := 96 + len(req.Params)
	if stateless {
		size += len(statelessMeta)
	}
	body := appendRequest(make([]byte, 0, size), id, req, stateless)
	n := st.NextAttempt()
	start := time.Now()
	var call Result
	call.Protocol = version
	msg := m.roundTrip(ctx, id, body, st.AttemptTimeout(c.timeout), &call.Exchange, req.Method != scenarios.MCPOpToolsList)
	switch {
	case msg != nil:
		c.readResult(req, msg.Result, &call)
	case call.RPCCode != 0:
		call.Text = call.Err // the model is told what the server said
	}
	c.recordAttempt(sink, st.Conversation, st.Index, req.Kind, req.Key, n, start, &call.Exchange)
	return call
}
