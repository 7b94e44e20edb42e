//go:build unix

package fdbudget

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/mcpload/mcpload/attacker/internal/fixture"
)

func TestEnsureRaisesSoftLimit(t *testing.T) {
	orig := fixture.SetSoftLimit(t, 128)
	if orig.Max < 1024 {
		t.Skipf("hard limit %d: too low to see a raise", orig.Max)
	}
	need := Need{InFlight: 200, MaxInFlight: 200, Client: 1, Mock: 1, Reserve: Reserve}
	if err := Ensure(need); err != nil {
		t.Fatal(err)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur < need.Total() {
		t.Errorf("soft limit %d after Ensure, need %d", now.Cur, need.Total())
	}
}

func TestEnsureRefusesPastHardLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max > 1<<30 {
		t.Skipf("hard limit %d: nothing to exceed", lim.Max)
	}
	need := Need{InFlight: int(lim.Max), MaxInFlight: int(lim.Max), Client: 1, Mock: 1, Reserve: Reserve}
	err := Ensure(need)
	var le *LimitError
	if !errors.As(err, &le) {
		t.Fatalf("Ensure = %v, want a LimitError", err)
	}
	if le.Hard != lim.Max || le.Soft > lim.Max {
		t.Errorf("limits soft %d, hard %d; the hard limit is %d", le.Soft, le.Hard, lim.Max)
	}
	if !strings.Contains(err.Error(), "Lower load.max_in_flight to") {
		t.Errorf("message does not say what to lower: %v", err)
	}
}
