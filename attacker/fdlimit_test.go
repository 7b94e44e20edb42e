package attacker

import (
	"strings"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// fdScenario is a conversation against real-looking loopback targets: a
// model, a fallback on a host of its own, and an MCP server whose tools
// one answer calls twice at once.
const fdScenario = `
name: fds
seed: 1
providers:
  main: {base_url: "http://127.0.0.1:9001/v1", model: m}
  spare: {base_url: "http://127.0.0.1:9003/v1", model: m}
mcp_servers:
  tools: {url: "http://127.0.0.1:9002/mcp"}
tools:
  - name: a
    inputSchema: {type: object}
  - name: b
    inputSchema: {type: object}
conversation:
  provider: main
  turns:
    - user: hi
      model:
        - tool_calls: [{name: a}, {name: b}]
        - tool_calls: [{name: a}]
        - content: done
load:
  stages: [{rate: 0, duration: 10s}]
  max_in_flight: 300
client:
  hedge: {delay: 100ms, max_hedges: 2}
  fallback: [{provider: spare}]
`

func TestNeedFDs(t *testing.T) {
	quickstart, err := scenarios.Load("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	real, err := scenarios.Parse("fds.yaml", []byte(fdScenario))
	if err != nil {
		t.Fatal(err)
	}
	poisson, _ := scenarios.Load("quickstart")
	poisson.Load.Arrival = scenarios.ArrivalPoisson
	poisson.Load.MaxInFlight = 10000
	for _, tc := range []struct {
		name  string
		sc    *scenarios.Scenario
		mock  bool
		want  FDNeed
		total uint64
	}{
		// 20/s ramped up over 2 s, then 8 s at 20/s: 180 arrivals (+1),
		// under max_in_flight 200. The model and the three parallel tool
		// calls share the mock's one host, so at most 3 connections, and
		// the mock holds the other end of each.
		{"quickstart in process", quickstart, true, FDNeed{InFlight: 181, MaxInFlight: 200, Client: 3, Mock: 3, Reserve: FDReserve}, 181*6 + FDReserve},
		{"quickstart, mock elsewhere", quickstart, false, FDNeed{InFlight: 181, MaxInFlight: 200, Client: 3, Reserve: FDReserve}, 181*3 + FDReserve},
		// Rate 0 has no planned count: max_in_flight bounds it. Per
		// conversation: 1+2 hedged model attempts on each provider's host,
		// and 2 tool calls at once on the MCP host.
		{"distinct hosts, hedges, fallback", real, true, FDNeed{InFlight: 300, MaxInFlight: 300, Client: 3 + 3 + 2, Reserve: FDReserve}, 300*8 + FDReserve},
		// Poisson arrivals: 181 planned plus six standard deviations, sqrt(181) each, plus one.
		{"poisson", poisson, true, FDNeed{InFlight: 263, MaxInFlight: 10000, Client: 3, Mock: 3, Reserve: FDReserve}, 263*6 + FDReserve},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NeedFDs(tc.sc, tc.mock)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || got.Total() != tc.total {
				t.Errorf("NeedFDs = %+v (total %d), want %+v (total %d)", got, got.Total(), tc.want, tc.total)
			}
		})
	}
}

// TestNeedFDsTenThousand is issue 10's case: 10,000 conversations in
// flight against the in-process mock, one model call and one tool call
// each, cannot fit in 20,000 descriptors.
func TestNeedFDsTenThousand(t *testing.T) {
	n := FDNeed{InFlight: 10000, MaxInFlight: 10000, Client: 1, Mock: 1, Reserve: FDReserve}
	if n.Total() != 20064 {
		t.Errorf("total %d, want 20064", n.Total())
	}
	if got := n.FitInFlight(20000); got != 9968 {
		t.Errorf("FitInFlight(20000) = %d, want 9968", got)
	}
	msg := (&FDLimitError{Need: n, Soft: 20000, Hard: 20000}).Error()
	for _, want := range []string{"10000 conversations in flight (load.max_in_flight) may hold 20064 descriptors",
		"1 connection + 1 socket of the in-process mock", "soft 20000, hard 20000",
		"Lower load.max_in_flight to 9968", "at least 20064", "ulimit -Hn", "HTTP/1.1", "--fd-check=false"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestFitInFlight(t *testing.T) {
	n := FDNeed{Client: 1, Mock: 1, Reserve: FDReserve}
	for _, tc := range []struct {
		limit uint64
		want  int
	}{{256, 96}, {FDReserve, 0}, {FDReserve + 1, 0}, {FDReserve + 2, 1}, {0, 0}} {
		if got := n.FitInFlight(tc.limit); got != tc.want {
			t.Errorf("FitInFlight(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
	msg := (&FDLimitError{Need: FDNeed{InFlight: 5, MaxInFlight: 5, Client: 1, Reserve: FDReserve}, Soft: 10, Hard: 10}).Error()
	if strings.Contains(msg, "Lower") || !strings.Contains(msg, "Raise the hard limit to at least 69") {
		t.Errorf("when not one conversation fits, the message must only say to raise the limit:\n%s", msg)
	}
}
