package fdbudget

import (
	"math"
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

// TestCount: without a bound on arrivals, load.max_in_flight bounds the
// conversations in flight. Per conversation: 1+2 hedged model attempts on
// each provider's host, and 2 tool calls at once on the MCP host.
func TestCount(t *testing.T) {
	real, err := scenarios.Parse("fds.yaml", []byte(fdScenario))
	if err != nil {
		t.Fatal(err)
	}
	want := Need{InFlight: 300, MaxInFlight: 300, Client: 3 + 3 + 2, Reserve: Reserve}
	if got := Count(real, true, math.Inf(1)); got != want || got.Total() != 300*8+Reserve {
		t.Errorf("Count = %+v (total %d), want %+v (total %d)", got, got.Total(), want, 300*8+Reserve)
	}
	// A schedule that starts fewer bounds them instead.
	want.InFlight = 41
	if got := Count(real, true, 40.5); got != want {
		t.Errorf("Count with 40.5 arrivals = %+v, want %+v", got, want)
	}
}

// TestCountTenThousand is issue 10's case: 10,000 conversations in
// flight against the in-process mock, one model call and one tool call
// each, cannot fit in 20,000 descriptors.
func TestCountTenThousand(t *testing.T) {
	n := Need{InFlight: 10000, MaxInFlight: 10000, Client: 1, Mock: 1, Reserve: Reserve}
	if n.Total() != 20064 {
		t.Errorf("total %d, want 20064", n.Total())
	}
	if got := n.FitInFlight(20000); got != 9968 {
		t.Errorf("FitInFlight(20000) = %d, want 9968", got)
	}
	msg := (&LimitError{Need: n, Soft: 20000, Hard: 20000}).Error()
	for _, want := range []string{"10000 conversations in flight (load.max_in_flight) may hold 20064 descriptors",
		"1 connection + 1 socket of the in-process mock", "soft 20000, hard 20000",
		"Lower load.max_in_flight to 9968", "at least 20064", "ulimit -Hn", "HTTP/1.1", "--fd-check=false"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestFitInFlight(t *testing.T) {
	n := Need{Client: 1, Mock: 1, Reserve: Reserve}
	for _, tc := range []struct {
		limit uint64
		want  int
	}{{256, 96}, {Reserve, 0}, {Reserve + 1, 0}, {Reserve + 2, 1}, {0, 0}} {
		if got := n.FitInFlight(tc.limit); got != tc.want {
			t.Errorf("FitInFlight(%d) = %d, want %d", tc.limit, got, tc.want)
		}
	}
	msg := (&LimitError{Need: Need{InFlight: 5, MaxInFlight: 5, Client: 1, Reserve: Reserve}, Soft: 10, Hard: 10}).Error()
	if strings.Contains(msg, "Lower") || !strings.Contains(msg, "Raise the hard limit to at least 69") {
		t.Errorf("when not one conversation fits, the message must only say to raise the limit:\n%s", msg)
	}
}
