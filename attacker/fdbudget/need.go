package fdbudget

import (
	"fmt"
	"math"
	"net/url"

	"github.com/mcpload/mcpload/scenarios"
)

// Reserve is the descriptors a run keeps for itself beside its
// connections: the three standard streams, the Go runtime's poller, the
// mock's listener, the run folder's open files and a temporary run.json,
// the recorder's spare descriptors (SpareFDs), and headroom for the report
// and whatever the process inherited.
const Reserve = 64

// Need is how many descriptors a run may hold at once, and why. Over
// HTTP/1.1 each exchange in flight holds a connection of its own, and a
// connection kept alive stays open after it; over HTTP/2 (client.http
// "2") one connection carries Streams exchanges at once (h2.go).
type Need struct {
	// InFlight is the conversations (operations) that may be in flight at
	// once: load.max_in_flight, or fewer when the whole schedule starts
	// fewer.
	InFlight int
	// MaxInFlight is load.max_in_flight, for the message.
	MaxInFlight int
	// Client is the connections one conversation may hold at once, over
	// its targets: the model's (one, plus hedges) and the MCP servers'
	// (the most tool calls of one scripted answer: they run in parallel).
	// Targets on one host share connections.
	Client int
	// Mock is the in-process mock's server-side sockets per conversation:
	// one for each client connection to it.
	Mock int
	// Reserve is the constant Reserve.
	Reserve int
	// Streams is the exchanges one HTTP connection carries at once: 0 or 1
	// under HTTP/1.1, H2StreamsPerConn under HTTP/2. Stdio is the part of
	// Client that is no HTTP connection (stdio servers), which HTTP/2 does
	// not share, and Hosts the HTTP pools, each of which may hold one
	// connection less than full.
	Streams, Stdio, Hosts int
}

// Total is the descriptors the run may need.
func (n Need) Total() uint64 {
	if n.Streams > 1 {
		return n.h2Total()
	}
	return uint64(n.InFlight)*uint64(n.Client+n.Mock) + uint64(n.Reserve)
}

// FitInFlight is the most conversations in flight that fit in limit
// descriptors; 0 when not even one does.
func (n Need) FitInFlight(limit uint64) int {
	if n.Streams > 1 {
		return n.h2Fit(limit)
	}
	per := uint64(n.Client + n.Mock)
	if per == 0 || limit <= uint64(n.Reserve) {
		return 0
	}
	return int(min((limit-uint64(n.Reserve))/per, math.MaxInt32))
}

// Count computes the descriptors sc's run may hold at once. mockInProcess
// says the built-in mock runs in this process (mcpload run), so that its
// server-side sockets count too. arrivals bounds the conversations sc's
// schedule starts; math.Inf(1) when it has no bound. It is pure: it reads
// sc only.
func Count(sc *scenarios.Scenario, mockInProcess bool, arrivals float64) Need {
	n := Need{MaxInFlight: sc.Load.MaxInFlight, Reserve: Reserve}
	n.InFlight = n.MaxInFlight
	if n.InFlight <= 0 {
		n.InFlight = scenarios.DefaultMaxInFlight
	}
	if arrivals < float64(n.InFlight) {
		n.InFlight = int(math.Ceil(arrivals))
	}
	for host, conns := range connsPerHost(sc) {
		n.Client += conns
		if host == scenarios.MockURL && mockInProcess {
			n.Mock += conns
		}
	}
	if sc.Client.HTTPVersion() == scenarios.HTTP2 {
		n.shareStreams(sc, mockInProcess)
	}
	return n
}

// connsPerHost returns, per target host, the connections one conversation
// may hold to it at once. Model steps and tool calls come one after the
// other, so a host that serves both needs the larger of the two; distinct
// hosts keep pools of their own, and add up. A scripted answer's tool
// calls count up to client.limits.max_mcp_in_flight_per_conversation.
func connsPerHost(sc *scenarios.Scenario) map[string]int {
	peak := map[string]int{}
	need := func(host string, conns int) { peak[host] = max(peak[host], conns) }
	server := func(name string) string {
		if m := sc.MCPServers[name]; m != nil {
			return hostOf(m.URL)
		}
		return name
	}
	switch {
	case sc.Conversation != nil:
		model := 1
		if h := sc.Client.Hedge; h != nil {
			model += max(h.MaxHedges, 0)
		}
		providers := []string{sc.Conversation.Provider}
		for _, f := range sc.Client.Fallback {
			providers = append(providers, f.Provider)
		}
		for _, name := range providers {
			if p := sc.Providers[name]; p != nil {
				need(hostOf(p.BaseURL), model)
			}
		}
		toolServer := map[string]string{}
		for _, t := range sc.Tools {
			toolServer[t.Name] = server(t.Server)
		}
		for _, turn := range sc.Conversation.Turns {
			for _, reply := range turn.Model {
				calls := map[string]int{}
				for _, c := range reply.ToolCalls {
					calls[toolServer[c.Name]]++
				}
				for host, k := range calls {
					// The calls past the conversation's MCP bound wait
					// for a slot rather than open a connection.
					if b := sc.Client.Limits.MaxMCPInFlightPerConversation; b > 0 {
						k = min(k, b)
					}
					need(host, k)
				}
			}
		}
	case sc.MCPDirect != nil:
		need(server(sc.MCPDirect.Server), 1)
	}
	return peak
}

// hostOf keys a target URL by the connection pool it uses: scheme and
// host. The mock keeps its name, "mock".
func hostOf(raw string) string {
	if raw == scenarios.MockURL {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// LimitError says a run may need more descriptors than the process may
// open, and what to change.
type LimitError struct {
	Need Need
	// Soft and Hard are RLIMIT_NOFILE after mcpload tried to raise it.
	Soft, Hard uint64
}

func (e *LimitError) Error() string {
	n := e.Need
	what := plural(n.InFlight, "conversation") + " in flight (load.max_in_flight)"
	if n.InFlight < n.MaxInFlight {
		what = "the " + plural(n.InFlight, "conversation") + " this schedule starts"
	}
	per := plural(n.Client, "connection")
	if n.Mock > 0 {
		per += " + " + plural(n.Mock, "socket") + " of the in-process mock"
	}
	fix := "Raise"
	if fit := n.FitInFlight(e.Soft); fit > 0 {
		fix = fmt.Sprintf("Lower load.max_in_flight to %d, or raise", fit)
	}
	return fmt.Sprintf("descriptors: %s may hold %d descriptors, %d × (%s) + %d for the run itself, "+
		"but this process may open %d (RLIMIT_NOFILE soft %d, hard %d). "+
		"%s the hard limit to at least %d (ulimit -Hn; LimitNOFILE= for a systemd service). "+
		"%s"+
		"--fd-check=false starts anyway; exchanges that find no descriptor then end as outcome local (docs/descriptors.md)",
		what, n.Total(), n.InFlight, per, n.Reserve, e.Soft, e.Soft, e.Hard, fix, n.Total(), n.protoNote())
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
