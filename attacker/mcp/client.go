// Package mcp is mcpload's MCP client: one file per transport and lane,
// each exchange a counted, timed attempt. The conversation and mcp_direct
// jobs use it through Client and Pool.
package mcp

import (
	"context"

	"github.com/mcpload/mcpload/record"
)

// Client speaks MCP to one server over one transport, in one lane. It is
// safe for concurrent use.
type Client interface {
	// Server is the server's name in mcp_servers.
	Server() string
	// Target is where requests go, for results.bin.
	Target() string
	// Handshake opens a session, its exchanges recorded as attempts (kind
	// session) in step step of conversation seq. It returns a nil Session
	// when it failed.
	Handshake(ctx context.Context, seq uint64, step int, sink Sink) (Session, Total)
	// Call sends req on sess as step step of conversation seq, with the
	// client's retry policy, each attempt recorded.
	Call(ctx context.Context, sess Session, seq uint64, step int, req *Request, sink Sink) Result
	// End closes sess, best effort. With a sink the exchange is recorded;
	// without one (teardown after the run) it is not.
	End(ctx context.Context, sess Session, seq uint64, step int, sink Sink) Exchange
	// Clip redacts and cuts text a target controls.
	Clip(s string) string
	// Close releases what the client holds outside its sessions' pools:
	// a stdio client kills every process it started and still runs.
	Close() error
}

// Session is an open MCP session, safe for concurrent calls.
type Session interface {
	// Expired reports that the server forgot the session, so that its
	// pool opens a new one.
	Expired() bool
	// Version is the protocol revision the session speaks.
	Version() string
}

// Sink receives the attempts and policy events of MCP exchanges; the
// attacker's Sink implements it.
type Sink interface {
	Attempt(a *record.Attempt)
	Event(e *record.Event)
}

// Redactor removes secrets from text a target controls and cuts it to
// its final length.
type Redactor interface {
	Clip(s string) string
}
