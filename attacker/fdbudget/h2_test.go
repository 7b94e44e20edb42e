package fdbudget

import (
	"math"
	"strings"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// incidentAtScale is the embedded incident with 50,000 conversations in
// flight against the in-process mock, under client.http version.
func incidentAtScale(t *testing.T, version string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("incident-replay")
	if err != nil {
		t.Fatal(err)
	}
	sc = sc.ForPolicy(&sc.Policies[0])
	sc.Load.MaxInFlight = 50000
	sc.Load.Stages = []scenarios.Stage{{Rate: 0, Duration: scenarios.Duration(60e9)}}
	sc.Load.Arrival = scenarios.ArrivalConstant
	sc.Client.HTTP = version
	return sc
}

// TestCountHTTP2 is issue 13's case: the incident at full scale, 50,000
// conversations in flight, one model call or two parallel tool calls each
// on the in-process mock. Over HTTP/1.1 that is 200,000 descriptors, far
// past a 20,000 limit; over HTTP/2 the exchanges share connections, 100
// a connection, and it fits.
func TestCountHTTP2(t *testing.T) {
	const limit = 20000
	h1 := Count(incidentAtScale(t, scenarios.HTTP1), true, math.Inf(1))
	if h1.Total() != 50000*4+Reserve {
		t.Errorf("HTTP/1.1: total %d, want %d", h1.Total(), 50000*4+Reserve)
	}
	if h1.Total() <= limit {
		t.Fatalf("HTTP/1.1 fits in %d descriptors: %+v", limit, h1)
	}
	h2 := Count(incidentAtScale(t, scenarios.HTTP2), true, math.Inf(1))
	// 50,000 x (2 client + 2 mock) exchanges / 100 a connection, one
	// part-filled connection on each side of the mock's pool, the reserve.
	if want := uint64(2000 + 2 + Reserve); h2.Total() != want {
		t.Errorf("HTTP/2: total %d, want %d (%+v)", h2.Total(), want, h2)
	}
	if fit := h2.FitInFlight(limit); fit < 50000 {
		t.Errorf("HTTP/2: FitInFlight(%d) = %d, want at least 50000", limit, fit)
	}
	// auto is HTTP/1.1 in plaintext: counted as such.
	auto := Count(incidentAtScale(t, ""), true, math.Inf(1))
	if auto.Total() != h1.Total() {
		t.Errorf("auto: total %d, want HTTP/1.1's %d", auto.Total(), h1.Total())
	}
	msg := (&LimitError{Need: h1, Soft: limit, Hard: limit}).Error()
	if !strings.Contains(msg, `client.http: "2"`) {
		t.Errorf("the HTTP/1.1 refusal does not point at client.http \"2\":\n%s", msg)
	}
}

// TestCountHTTP2Stdio: stdio servers hold their descriptors per
// conversation whatever the HTTP version; only HTTP pools share.
func TestCountHTTP2Stdio(t *testing.T) {
	sc, err := scenarios.Parse("fds.yaml", []byte(fdScenario))
	if err != nil {
		t.Fatal(err)
	}
	sc.MCPServers["tools"] = &scenarios.MCPServer{Command: []string{"server"}}
	sc.Client.HTTP = scenarios.HTTP2
	n := Count(sc, true, math.Inf(1))
	// 300 in flight: 2 stdio exchanges each; 6 hedged model exchanges
	// each over two hosts, 18 connections.
	if n.Stdio != 2 || n.Hosts != 2 || n.Total() != 300*2+18+2+Reserve {
		t.Errorf("Count = %+v (total %d), want stdio 2, hosts 2, total %d", n, n.Total(), 300*2+18+2+Reserve)
	}
	if fit := n.FitInFlight(n.Total()); fit < 300 {
		t.Errorf("FitInFlight(Total) = %d, want at least 300", fit)
	}
}
