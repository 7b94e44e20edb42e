package scenarios

import "time"

// MaxMockConcurrency bounds a mock's concurrency: each queued request is
// a goroutine, and no loopback test needs more slots than this.
const MaxMockConcurrency = 1 << 20

// maxLatencyPerInFlight bounds mock.latency_per_in_flight: with a few
// thousand requests in service, more would make answers take hours.
const maxLatencyPerInFlight = time.Second

// mockCapacity checks the capacity fields of a mock: section at mp
// (providers.NAME.mock or mcp_servers.NAME.mock).
func (v *validator) mockCapacity(mp string, concurrency int, perInFlight Duration) {
	if concurrency < 0 || concurrency > MaxMockConcurrency {
		v.errorf(field(mp, "concurrency"), "must be from 0 (no limit) to %d, got %d", MaxMockConcurrency, concurrency)
	}
	// A negative duration is refused by the decoder already.
	if d := perInFlight.D(); d > maxLatencyPerInFlight {
		v.errorf(field(mp, "latency_per_in_flight"), "must be at most %s, got %s", maxLatencyPerInFlight, d)
	}
}
