package fdbudget

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
)

// DialFunc is net.Dialer.DialContext's signature, as http.Transport takes it.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// MockConns caps the connections to the in-process mock at what the
// descriptor table holds. Each holds two descriptors, one here and one in
// the mock. Without the cap, connections dialled at once can take every
// descriptor before the mock accepts them: the kernel completes the
// handshake, the mock cannot accept, and the exchange times out as if
// the target were slow. With it, the connection over the cap fails at
// once, as local.
type MockConns struct {
	addr string // host:port of the mock
	max  int64
	open atomic.Int64
	// closeIdle closes the client's idle connections (nil: none to close).
	closeIdle func()
}

// ReclaimWith has the cap close the client's idle connections before it
// refuses a dial. A dial the client raced against a connection that came
// free lands in the idle pool: under a burst the pool can hold many more
// connections than exchanges are in flight, each with two descriptors.
func (m *MockConns) ReclaimWith(closeIdle func()) {
	if m != nil {
		m.closeIdle = closeIdle
	}
}

// take counts a new connection, if the cap has room for it.
func (m *MockConns) take() bool {
	if m.open.Add(1) <= m.max {
		return true
	}
	m.open.Add(-1)
	return false
}

// NewMockConns returns the cap for the mock at mockURL, given the soft
// RLIMIT_NOFILE limit; nil (no cap) without a mock or a known limit.
func NewMockConns(mockURL string, limit uint64) *MockConns {
	if mockURL == "" || limit == 0 {
		return nil
	}
	u, err := url.Parse(mockURL)
	if err != nil || u.Host == "" {
		return nil
	}
	return &MockConns{addr: u.Host, max: int64(max(limit, Reserve)-Reserve) / 2}
}

// Dial wraps next: a dial to the mock past the cap fails with EMFILE, the
// error the kernel would have given when the mock accepted, had it been
// first to ask.
func (m *MockConns) Dial(next DialFunc) DialFunc {
	if m == nil {
		return next
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != m.addr {
			return next(ctx, network, addr)
		}
		ok := m.take()
		if !ok && m.closeIdle != nil {
			m.closeIdle()
			ok = m.take()
		}
		if !ok {
			return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf(
				"%d connections to the in-process mock fill the descriptor table (RLIMIT_NOFILE): %w", m.max, syscall.EMFILE)}
		}
		c, err := next(ctx, network, addr)
		if err != nil {
			m.open.Add(-1)
			return nil, err
		}
		return &mockConn{Conn: c, m: m}, nil
	}
}

// mockConn gives its place under the cap back when it closes.
type mockConn struct {
	net.Conn
	m    *MockConns
	once sync.Once
}

func (c *mockConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.m.open.Add(-1) })
	return err
}
