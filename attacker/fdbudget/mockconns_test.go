package fdbudget

import (
	"context"
	"net"
	"testing"

	"github.com/mcpload/mcpload/attacker/policy"
)

// TestMockConnsCap dials a real listener through the cap: past it a dial
// fails as local, and a closed connection gives its place back. Dials
// elsewhere are not counted.
func TestMockConnsCap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// Room for two connections: 2 × 2 descriptors over the reserve.
	m := NewMockConns("http://"+ln.Addr().String(), Reserve+4)
	dial := m.Dial((&net.Dialer{}).DialContext)
	ctx := context.Background()
	var conns []net.Conn
	for range 2 {
		c, err := dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if _, err := dial(ctx, "tcp", ln.Addr().String()); !policy.IsLocal(err) || policy.OutcomeOf(nil, err) != "local" {
		t.Fatalf("third dial: %v, want a local error", err)
	}
	c, err := dial(ctx, "tcp", other.Addr().String())
	if err != nil {
		t.Fatalf("a dial elsewhere counted against the mock's cap: %v", err)
	}
	c.Close()
	conns[0].Close()
	conns[0].Close() // twice: gives one place back, not two
	c, err = dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial after a close: %v", err)
	}
	conns[0] = c
	if _, err := dial(ctx, "tcp", ln.Addr().String()); !policy.IsLocal(err) {
		t.Fatalf("dial past the cap after a double close: %v, want local", err)
	}
	for _, c := range conns {
		c.Close()
	}
	if n := m.open.Load(); n != 0 {
		t.Errorf("%d connections still counted open", n)
	}
	if NewMockConns("", 1024) != nil || NewMockConns("http://127.0.0.1:1", 0) != nil {
		t.Error("a cap without a mock or a known limit")
	}
}

// TestMockConnsReclaimsIdle: at the cap, the client's idle connections are
// closed before a dial is refused.
func TestMockConnsReclaimsIdle(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := NewMockConns("http://"+ln.Addr().String(), Reserve+2) // room for one
	dial := m.Dial((&net.Dialer{}).DialContext)
	idle, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	closed := 0
	m.ReclaimWith(func() { closed++; idle.Close() })
	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil || closed != 1 {
		t.Fatalf("dial at the cap with an idle connection: %v (%d reclaims)", err, closed)
	}
	c.Close()
}
