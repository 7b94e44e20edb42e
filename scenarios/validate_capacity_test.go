package scenarios

import "testing"

func TestMockCapacityValidation(t *testing.T) {
	provider := func(extra string) []string {
		return []string{"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n" + extra}
	}
	server := func(extra string) []string {
		return []string{"  s:\n    url: mock\n", "  s:\n    url: mock\n    mock:\n" + extra}
	}
	cases := []struct {
		name  string
		edits []string
		want  []want
	}{
		{"provider concurrency negative", provider("      concurrency: -1\n"),
			[]want{{"9:20", "providers.p.mock.concurrency", "must be from 0 (no limit) to 1048576, got -1"}}},
		{"provider concurrency too large", provider("      concurrency: 2000000\n"),
			[]want{{"9:20", "providers.p.mock.concurrency", "got 2000000"}}},
		{"provider latency_per_in_flight too large", provider("      latency_per_in_flight: 2s\n"),
			[]want{{"9:30", "providers.p.mock.latency_per_in_flight", "must be at most 1s, got 2s"}}},
		{"provider latency_per_in_flight negative", provider("      latency_per_in_flight: -1ms\n"),
			[]want{{"9:30", "providers.p.mock.latency_per_in_flight", "a duration must not be negative"}}},
		{"server concurrency negative", server("      concurrency: -3\n"),
			[]want{{"13:20", "mcp_servers.s.mock.concurrency", "got -3"}}},
		{"server latency_per_in_flight too large", server("      latency_per_in_flight: 1m\n"),
			[]want{{"13:30", "mcp_servers.s.mock.latency_per_in_flight", "got 1m0s"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, edit(t, tc.edits...)), tc.want...)
		})
	}
}

func TestMockCapacityAccepted(t *testing.T) {
	s := mustParse(t, edit(t,
		"      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n", "      latency: {dist: lognormal, p50: 60ms, p99: 250ms}\n      concurrency: 50\n      latency_per_in_flight: 2ms\n",
		"  s:\n    url: mock\n", "  s:\n    url: mock\n    mock: {concurrency: 8}\n"))
	if c := s.Providers["p"].Mock; c.Concurrency != 50 || c.LatencyPerInFlight.D().Milliseconds() != 2 {
		t.Errorf("provider mock = %+v, want concurrency 50, latency_per_in_flight 2ms", c)
	}
	if c := s.MCPServers["s"].Mock.Concurrency; c != 8 {
		t.Errorf("mcp server concurrency = %d, want 8", c)
	}
}
