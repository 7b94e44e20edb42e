package mcp

import (
	"net/http"
	"time"

	"github.com/mcpload/mcpload/record"
)

// Exchange is the outcome of one HTTP exchange with the server.
type Exchange struct {
	Status int
	// Proto is the response's HTTP version (record.Attempt.Proto).
	Proto   string
	BytesIn int64
	Outcome string
	Err     string
	// broken is set when the body failed part-way, so that it is not
	// drained (see llm.Result's broken).
	broken bool
	// rpcCode is the code of a JSON-RPC error response, else 0.
	RPCCode int
	// progress counts the notifications/progress read before the
	// response, the first of them firstProgress after the request was
	// sent.
	Progress      int
	FirstProgress time.Duration
	// schema measures the tool list of an ok tools/list.
	Schema *record.ToolsSchema
	// OutputSchemaErr says how a tools/call result failed its tool's
	// outputSchema; "" when it matched or was not checked.
	OutputSchemaErr string
	// Protocol is the MCP revision the exchange spoke (record.Attempt's
	// MCPProtocol).
	Protocol string
	// hops are the redirects followed before the answer (see
	// client.follow_redirects), each recorded as an attempt of its own.
	hops []redirectHop
}

// redirectHop is one redirect an MCP request followed.
type redirectHop struct {
	start   time.Time
	latency time.Duration
	Status  int
	BytesIn int64
}

// Total sums what a sequence of exchanges (a handshake, a handshake
// and a call) produced for the job's result.
type Total struct {
	Status  int // of the last exchange
	BytesIn int64
	Outcome string
	Err     string
}

func (o *Total) add(ex *Exchange) {
	o.Status = ex.Status
	o.BytesIn += ex.BytesIn
	o.Outcome = ex.Outcome
	o.Err = ex.Err
}

// Result is the outcome of an MCP request.
type Result struct {
	Exchange
	// text is the result for the model: the text of the content blocks, or
	// the raw content when there is no text. For a tool error, its message.
	Text string
	// header is the response's, for the retry policy's server hints.
	Header http.Header
}
