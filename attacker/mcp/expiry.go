package mcp

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/record"
)

// renewer is a transport whose server can forget a session (Streamable
// HTTP answers 404 to its Mcp-Session-Id): as the spec says, the client
// then opens a new session with initialize, and the request is sent again
// on it, once.
type renewer interface {
	// renew returns the session that replaces old, opening it (its
	// handshake recorded in step step of conversation seq) unless another
	// call on old already did; nil when the handshake failed.
	renew(ctx context.Context, old Session, seq uint64, step int, sink Sink) (Session, Total)
}

// renewal is what an expirable session keeps of its replacement: every
// call that found it expired shares one new session, as the pool does.
type renewal struct {
	mu   sync.Mutex
	next atomic.Pointer[httpSession]
}

// successor is the newest live session that replaced s, or nil.
func (s *httpSession) successor() Session {
	var live Session
	for n := s.next.Load(); n != nil; n = n.next.Load() {
		if !n.Expired() {
			live = n
		}
	}
	return live
}

// renew implements renewer.
func (c *Streamable) renew(ctx context.Context, old Session, seq uint64, step int, sink Sink) (Session, Total) {
	hs := old.(*httpSession)
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if n := hs.next.Load(); n != nil && !n.Expired() {
		return n, Total{Outcome: record.OutcomeOK}
	}
	s, out := c.Handshake(ctx, seq, step, sink)
	if s != nil {
		hs.next.Store(s.(*httpSession))
	}
	return s, out
}

// retryExpired sends req again on a new session when call found sess
// expired, once: the first attempt is left recorded as session_expired,
// and the outcome is the second's. It returns the session the call ended
// on.
func (c *conn) retryExpired(ctx context.Context, sess Session, st *policy.Step, req *Request, sink Sink, call *Result) Session {
	rn, ok := c.transport.(renewer)
	if !ok || call.Outcome != record.OutcomeSessionExpired {
		return sess
	}
	first := call.BytesIn
	next, hs := rn.renew(ctx, sess, st.Conversation, st.Index, sink)
	if next == nil {
		call.Err += "; a new session failed: " + hs.Outcome + " " + hs.Err
		return sess
	}
	*call = c.transport.attempt(ctx, next, st, req, sink)
	call.BytesIn += first
	return next
}
