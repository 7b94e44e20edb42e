package mockprovider

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// errClosed ends waits when the Server is closing.
var errClosed = errors.New("mockprovider: server closed")

// waiter sleeps out mock latencies. A wait ends early, with an error, when
// the request's context is done (the client went away) or the server closes.
// One waiter reuses one timer across the waits of a request.
type waiter struct {
	ctx  context.Context
	done <-chan struct{}
	t    *time.Timer
	// waiting, when set, counts waits in progress (tests watch it).
	waiting *atomic.Int64
	// held is the capacity whose slot the request holds, released by stop.
	held *capacity
}

// hold takes a slot of c for the request, queueing for it (see
// capacity.acquire); stop frees it. It returns the latency the load adds.
func (w *waiter) hold(c *capacity) (time.Duration, error) {
	extra, err := c.acquire(w.ctx, w.done)
	if err == nil {
		w.held = c
	}
	return extra, err
}

// wait sleeps for d, or until the request or the server ends.
func (w *waiter) wait(d time.Duration) error {
	if d <= 0 {
		select {
		case <-w.done:
			return errClosed
		default:
			return w.ctx.Err()
		}
	}
	if w.waiting != nil {
		w.waiting.Add(1)
		defer w.waiting.Add(-1)
	}
	if w.t == nil {
		w.t = time.NewTimer(d)
	} else {
		w.t.Reset(d)
	}
	select {
	case <-w.t.C:
		return nil
	case <-w.ctx.Done():
		w.t.Stop()
		return w.ctx.Err()
	case <-w.done:
		w.t.Stop()
		return errClosed
	}
}

// stop releases the timer and the slot the request held.
func (w *waiter) stop() {
	if w.t != nil {
		w.t.Stop()
	}
	if w.held != nil {
		w.held.release()
		w.held = nil
	}
}

// hang waits until the request or the server ends: a response that never
// comes.
func (w *waiter) hang() error {
	if w.waiting != nil {
		w.waiting.Add(1)
		defer w.waiting.Add(-1)
	}
	select {
	case <-w.ctx.Done():
		return w.ctx.Err()
	case <-w.done:
		return errClosed
	}
}
