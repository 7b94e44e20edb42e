package mcp

import (
	"context"
	"sync"

	"github.com/mcpload/mcpload/record"
)

// Pool keeps one initialized session per slot, initialized on first
// use: one slot plays one agent process, which opens its session once and
// keeps it, rather than paying the handshake for every conversation.
type Pool struct {
	c     Client
	slots sync.Map // int -> *poolSlot
}

type poolSlot struct {
	mu   sync.Mutex
	sess Session
}

// NewPool returns an empty pool of c's sessions.
func NewPool(c Client) *Pool { return &Pool{c: c} }

// Get returns the session of slot, initializing it first when it is new or
// expired. Concurrent callers on one slot (parallel tool calls) wait for a
// single handshake. The handshake's attempts are recorded in step step.
func (p *Pool) Get(ctx context.Context, slot int, seq uint64, step int, sink Sink) (Session, Total) {
	v, ok := p.slots.Load(slot)
	if !ok {
		v, _ = p.slots.LoadOrStore(slot, &poolSlot{})
	}
	ps := v.(*poolSlot)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.sess != nil && !ps.sess.Expired() {
		return ps.sess, Total{Outcome: record.OutcomeOK}
	}
	if r, ok := ps.sess.(interface{ successor() Session }); ok {
		// A call found the session expired and opened its successor.
		if next := r.successor(); next != nil {
			ps.sess = next
			return next, Total{Outcome: record.OutcomeOK}
		}
	}
	ps.sess = nil
	sess, out := p.c.Handshake(ctx, seq, step, sink)
	if sess != nil {
		ps.sess = sess
	}
	return sess, out
}

// Release ends the session of slot, whose worker retired, best effort
// and unrecorded as CloseAll's are.
func (p *Pool) Release(ctx context.Context, slot int) {
	v, ok := p.slots.LoadAndDelete(slot)
	if !ok {
		return
	}
	if sess := v.(*poolSlot).take(); sess != nil {
		p.c.End(ctx, sess, 0, 0, nil)
	}
}

// take empties the slot and returns its session when it is live.
func (ps *poolSlot) take() Session {
	ps.mu.Lock()
	sess := ps.sess
	ps.sess = nil
	ps.mu.Unlock()
	if sess == nil || sess.Expired() {
		return nil
	}
	return sess
}

// CloseAll ends every live session, best effort and unrecorded.
func (p *Pool) CloseAll(ctx context.Context) {
	var wg sync.WaitGroup
	p.slots.Range(func(k, v any) bool {
		if sess := v.(*poolSlot).take(); sess != nil {
			wg.Go(func() { p.c.End(ctx, sess, 0, 0, nil) })
		}
		return true
	})
	wg.Wait()
}

// Close ends every live session, then closes the client (see
// Client.Close).
func (p *Pool) Close(ctx context.Context) error {
	p.CloseAll(ctx)
	return p.c.Close()
}
