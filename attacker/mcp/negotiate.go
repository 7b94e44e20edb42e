package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
)

// Lane is how a client opens its sessions: the protocol revision it asks
// for and whether server/discover opens them. Streamable HTTP and stdio
// share it; HTTP+SSE speaks 2024-11-05 only.
type Lane struct {
	// Protocol is "" or a revision up to ProtocolVersion for the
	// initialize handshake, ProtocolStateless, or ProtocolAuto.
	Protocol string
	// Discover sends server/discover as the handshake of each session in
	// the stateless lane (under auto it always is).
	Discover bool
}

// handshake says how a session of the lane opens: skip (the stateless
// lane without discover: nothing to send) or discover (server/discover,
// with initialize after a refusal when fallback).
func (l Lane) handshake() (skip, discover, fallback bool) {
	switch l.Protocol {
	case ProtocolStateless:
		return !l.Discover, l.Discover, false
	case ProtocolAuto:
		return false, true, true
	}
	return false, false, false
}

// discoverVerdict judges the exchange of a server/discover whose result
// (when ok) is result. refused is set when the server answered but does
// not speak the stateless lane (an unsupported-version error, an unknown
// method, HTTP 4xx other than auth): under auto the exchange is then
// recorded as ok, a negotiation that went as it should, with its code;
// otherwise as a protocol error. On success ex.Protocol is the lane.
func discoverVerdict(ex *Exchange, result json.RawMessage, auto bool) (refused bool) {
	switch {
	case ex.Outcome == record.OutcomeOK:
		var dr struct {
			SupportedVersions []string `json:"supportedVersions"`
		}
		if err := json.Unmarshal(result, &dr); err != nil || dr.SupportedVersions == nil {
			ex.Outcome, ex.Err = record.OutcomeProtocol, "server/discover: result has no supportedVersions: "+httpx.Snippet(result)
		} else if !slices.Contains(dr.SupportedVersions, ProtocolStateless) {
			refused = true
			ex.Err = "server/discover: the server supports " + strings.Join(dr.SupportedVersions, ", ")
		}
	case ex.RPCCode == rpcUnsupportedVersion || ex.RPCCode == record.RPCMethodNotFound ||
		ex.Outcome == record.Outcome4xx && ex.Status != http.StatusUnauthorized && ex.Status != http.StatusForbidden:
		refused = true
	}
	switch {
	case refused && auto:
		ex.Outcome = record.OutcomeOK // negotiated: the initialize lane follows
	case refused:
		ex.Outcome = record.OutcomeProtocol
		if ex.Err == "" {
			ex.Err = "server/discover refused: the server does not speak " + ProtocolStateless
		}
	case ex.Outcome == record.OutcomeOK:
		ex.Protocol = ProtocolStateless
	}
	return refused
}

// discoverOver sends server/discover over m (attempt key
// mcp:NAME/discover, kind session) and adds it to out. ok is set when the
// server speaks the stateless lane; refused as discoverVerdict says.
func (c *conn) discoverOver(ctx context.Context, m *mux, key string, auto bool, seq uint64, step int, sink Sink, out *Total) (ok, refused bool) {
	id := c.nextID.Add(1)
	body := appendRequest(make([]byte, 0, 64+len(statelessMeta)), id, discoverRequest, true)
	start := time.Now()
	var (
		ex     Exchange
		result json.RawMessage
	)
	if msg := m.roundTrip(ctx, id, body, c.timeout, &ex, false); msg != nil {
		result = msg.Result
	}
	refused = discoverVerdict(&ex, result, auto)
	c.record(sink, seq, step, record.KindSession, key, start, &ex)
	out.add(&ex)
	return !refused && ex.Outcome == record.OutcomeOK, refused
}
