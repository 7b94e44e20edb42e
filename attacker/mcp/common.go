package mcp

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
)

// conn is what every transport shares: the server's name, the
// per-attempt timeout, the retry policy, the request ids, the handshake's
// attempt keys, and the tool-list measures.
type conn struct {
	server  string
	timeout time.Duration
	redact  Redactor
	// Retry retries tools/calls (client.retry), nil for none; Seed drives
	// its jitter.
	Retry *policy.Retry
	Seed  uint64
	// MaxBytes bounds a response (client.limits.max_response_bytes; 0 is
	// the default): an HTTP body, or one line on stdio.
	MaxBytes int64

	// Attempt keys of the handshake. The initialized notification is its
	// own exchange, so it is its own attempt, under its own key: folding
	// it into initialize would hide a server that is slow to accept
	// notifications.
	initKey, notifiedKey string

	// transport makes one attempt of a request.
	transport attempter

	// caps is what the client declares and how it answers the server's
	// requests; meta the 2026-07-28 lane's _meta, which declares them.
	caps *Capabilities
	meta string
	// serverKeys are the attempt keys of the server's requests, by
	// method; serverOther keys the methods mcpload does not serve.
	serverKeys  map[string]string
	serverOther string

	nextID atomic.Int64
	// schemas caches the measure of each distinct tool list tools/list
	// returned, by a hash of its bytes: measuring translates every tool
	// into three APIs, which is worth doing once, not per call.
	schemas sync.Map // uint64 -> *record.ToolsSchema
	// outputs are the tools' outputSchemas to check results against
	// (outputschema.go); read-only once calls start.
	outputs OutputSchemas
}

// attempter makes one recorded attempt of a request on a session of its
// transport.
type attempter interface {
	attempt(ctx context.Context, sess Session, st *policy.Step, req *Request, sink Sink) Result
}

func (c *conn) init(t attempter, server string, timeout time.Duration, rd Redactor) {
	prefix := "mcp:" + server + "/"
	c.transport, c.server, c.timeout, c.redact = t, server, timeout, rd
	c.initKey, c.notifiedKey = prefix+"initialize", prefix+"initialized"
	c.caps, c.meta = noCapabilities, statelessMeta
	c.serverKeys = make(map[string]string, len(servedMethods))
	for _, m := range servedMethods {
		c.serverKeys[m] = prefix + m
	}
	c.serverOther = prefix + "unsupported"
}

// Server implements Client.
func (c *conn) Server() string { return c.server }

// Clip implements Client.
func (c *conn) Clip(s string) string { return c.redact.Clip(s) }

// Call implements Client.
func (c *conn) Call(ctx context.Context, sess Session, seq uint64, step int, req *Request, sink Sink) Result {
	return c.call(ctx, sess, seq, step, req, sink)
}

// call sends req on sess, as step step of conversation seq, retrying as
// client.Retry says (with the same per-attempt timeout as model requests,
// and no fallback, breaker or cache). Each attempt is recorded. A JSON-RPC
// error is classified by its code (see rpcOutcome), a tools/call result
// with isError is a tool_error.
func (c *conn) call(ctx context.Context, sess Session, seq uint64, step int, req *Request, sink Sink) Result {
	st := &policy.Step{Conversation: seq, Index: step, Key: req.Key, Seed: c.Seed, Sink: sink}
	ctx = policy.WithStep(ctx, st)
	var (
		call    Result
		bytesIn int64
	)
	attempt := func() policy.Try {
		call = c.transport.attempt(ctx, sess, st, req, sink)
		sess = c.retryExpired(ctx, sess, st, req, sink, &call)
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

// record sends one session exchange to sink, as attempt 1.
func (c *conn) record(sink Sink, seq uint64, step int, kind, key string, start time.Time, ex *Exchange) {
	c.recordAttempt(sink, seq, step, kind, key, 1, start, ex)
}

// recordAttempt sends exchange n of a step to sink.
func (c *conn) recordAttempt(sink Sink, seq uint64, step int, kind, key string, n int, start time.Time, ex *Exchange) {
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
	a.Proto = ex.Proto
	a.Outcome, a.Error, a.RPCCode = ex.Outcome, ex.Err, ex.RPCCode
	a.Progress, a.FirstProgressUS, a.ToolsSchema = ex.Progress, ex.FirstProgress.Microseconds(), ex.Schema
	if ex.OutputSchemaErr != "" {
		a.OutputSchemaError = c.redact.Clip(ex.OutputSchemaErr)
	}
	a.MCPProtocol = ex.Protocol
	sink.Attempt(&a)
}
