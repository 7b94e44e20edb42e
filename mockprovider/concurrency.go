package mockprovider

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mcpload/mcpload/scenarios"
)

// capacity is a mock server's capacity (mock.concurrency,
// mock.latency_per_in_flight): at most n requests in service at once, the
// others queued first come first served, and optionally a latency that
// rises with the requests in service. It makes the mock's latency grow with
// load as a real server's does, so that a capacity search has a known
// answer: with n slots and a service time S, the mock serves n/S per
// second. A nil *capacity serves everything at once.
type capacity struct {
	// slots holds a token per request in service; nil is no limit. A send
	// on a full channel queues, and Go wakes blocked senders in the order
	// they came, so the queue is FIFO.
	slots chan struct{}
	// perInFlight is the latency added per other request in service.
	perInFlight time.Duration
	inService   atomic.Int64
}

// newCapacity is the capacity of a mock with concurrency n and per
// perInFlight, or nil when both are 0.
func newCapacity(n int, perInFlight scenarios.Duration) *capacity {
	if n <= 0 && perInFlight <= 0 {
		return nil
	}
	c := &capacity{perInFlight: perInFlight.D()}
	if n > 0 {
		c.slots = make(chan struct{}, n)
	}
	return c
}

// acquire waits for a slot, in arrival order, until the request's context
// ends or the server closes; the wait is part of the request's latency, as
// a real server's queue is. On success it returns the latency the load adds
// and the caller must release.
func (c *capacity) acquire(ctx context.Context, done <-chan struct{}) (time.Duration, error) {
	if c == nil {
		return 0, nil
	}
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-done:
			return 0, errClosed
		}
	}
	others := c.inService.Add(1) - 1
	return time.Duration(others) * c.perInFlight, nil
}

// release frees the slot acquire took.
func (c *capacity) release() {
	if c == nil {
		return
	}
	c.inService.Add(-1)
	if c.slots != nil {
		<-c.slots
	}
}
