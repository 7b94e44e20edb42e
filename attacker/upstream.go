package attacker

import (
	"fmt"

	"github.com/mcpload/mcpload/attacker/httpx"
)

// checkUpstream refuses the upstream of a proxied target (the mock's fault
// proxy forwards to it) as it refuses a target: off loopback only with
// allowRemote. "" is no upstream.
func checkUpstream(upstream string, allowRemote bool) error {
	if upstream == "" {
		return nil
	}
	if err := httpx.CheckTarget(upstream, allowRemote); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	return nil
}
