package fdbudget

import (
	"fmt"
	"math"
	"strings"

	"github.com/mcpload/mcpload/scenarios"
)

// H2StreamsPerConn is the exchanges the descriptor budget counts on one
// HTTP/2 connection carrying at once: the MaxConcurrentStreams most
// servers announce (100; Go's own server and the mock allow 250). Go's
// client opens another connection when a server's limit is reached, so
// a server that allows fewer costs more connections than counted here.
const H2StreamsPerConn = 100

// shareStreams turns n, counted as HTTP/1.1, into HTTP/2's count: the
// HTTP targets' exchanges share connections, H2StreamsPerConn each;
// stdio servers hold what they held.
func (n *Need) shareStreams(sc *scenarios.Scenario, mockInProcess bool) {
	n.Streams = H2StreamsPerConn
	for host, conns := range connsPerHost(sc) {
		switch {
		case host == scenarios.MockURL:
			n.Hosts++
			if mockInProcess {
				n.Hosts++ // the mock's side of the same connections
			}
		case strings.HasPrefix(host, "http://"), strings.HasPrefix(host, "https://"):
			n.Hosts++
		default:
			n.Stdio += conns
		}
	}
}

// h2Total is Total under HTTP/2: the stdio descriptors of every
// conversation, the HTTP exchanges in flight over Streams a connection,
// one part-filled connection a pool, and the reserve.
func (n Need) h2Total() uint64 {
	in, s := uint64(n.InFlight), uint64(n.Streams)
	shared := in * uint64(n.Client-n.Stdio+n.Mock)
	return in*uint64(n.Stdio) + (shared+s-1)/s + uint64(n.Hosts) + uint64(n.Reserve)
}

// h2Fit is FitInFlight under HTTP/2: limit, less the reserve and the
// pools' part-filled connections, over the descriptors one conversation
// costs (Stdio + its HTTP exchanges / Streams).
func (n Need) h2Fit(limit uint64) int {
	fixed := uint64(n.Reserve + n.Hosts)
	s := uint64(n.Streams)
	perS := uint64(n.Stdio)*s + uint64(n.Client-n.Stdio+n.Mock) // per conversation, x Streams
	if perS == 0 || limit <= fixed {
		return 0
	}
	return int(min((limit-fixed)*s/perS, math.MaxInt32))
}

// protoNote says, in LimitError, how the count treats connections.
func (n Need) protoNote() string {
	if n.Streams > 1 {
		return fmt.Sprintf("Over HTTP/2 (client.http: \"2\") each connection is counted as carrying %d exchanges at once; stdio servers share nothing. ", n.Streams)
	}
	return "Over HTTP/1.1 each exchange in flight holds a connection of its own; client.http: \"2\" shares one connection among up to 100 (docs/http2.md). "
}
