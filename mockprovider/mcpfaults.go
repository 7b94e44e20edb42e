package mockprovider

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpload/mcpload/scenarios"
)

// headerToolFault carries the timeline's decision from the fault
// middleware to the tool handler, for the faults that the SDK answers
// (tool_error, jsonrpc_error): the handler sees the POST's headers, not
// its context. The middleware deletes any value a client sent.
const headerToolFault = "Mcpload-Mock-Fault"

// toolFault is the value of headerToolFault.
type toolFault struct {
	Kind    string `json:"kind"`
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// rpcPeek is the part of a JSON-RPC message the fault middleware reads.
type rpcPeek struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params struct {
		Name string `json:"name"`
	} `json:"params"`
}

// toolFaults runs the timeline for an MCP POST, in front of the SDK's
// handler. It reads the body (and puts it back) to find a tools/call and
// its tool. Faults at the HTTP level are answered here; tool_error and
// jsonrpc_error are passed to the tool handler in headerToolFault. It
// reports whether it answered.
func (s *Server) toolFaults(w http.ResponseWriter, r *http.Request, tl *timeline, ep *mcpEndpoint) bool {
	msg, answered := peekRPC(w, r)
	return answered || s.rpcFaults(w, r, tl, msg, ep.sse)
}

// peekRPC reads the body of an MCP POST, puts it back, and returns the
// message's method, id and tool name (zero for a batch or what is not
// JSON). It reports whether it answered: a body it could not read.
func peekRPC(w http.ResponseWriter, r *http.Request) (msg rpcPeek, answered bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	r.Body.Close()
	if err != nil {
		status := http.StatusBadRequest
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, "reading the request body: "+err.Error(), status)
		return msg, true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if json.Unmarshal(body, &msg) != nil {
		msg = rpcPeek{}
	}
	return msg, false
}

// rpcFaults runs the timeline for msg, an MCP POST's message: see
// toolFaults. sse is the framing of a malformed answer.
func (s *Server) rpcFaults(w http.ResponseWriter, r *http.Request, tl *timeline, msg rpcPeek, sse bool) bool {
	// A batch, a notification or another method: no tool, no fault.
	if msg.Method != "tools/call" {
		return false
	}
	name := msg.Params.Name
	d := s.rng.newDrawer(r.Header, endpointKey("tool", name), 0)
	var rng *rand.Rand
	lazyRNG := func() *rand.Rand {
		if rng == nil {
			rng = d.rng()
		}
		return rng
	}
	match := func(f *fault) bool { return f.target == targetTool && f.name == name }
	dec := tl.decide(s.elapsed(), match, &d, lazyRNG)
	if dec.f == nil && dec.delay == 0 {
		return false
	}
	wt := waiter{ctx: r.Context(), done: s.done, waiting: &s.waiting}
	defer wt.stop()
	if err := wt.wait(dec.delay); err != nil {
		s.abort(w, err)
		return true
	}
	f := dec.f
	if f == nil {
		return false
	}
	switch f.spec.Kind {
	case scenarios.FaultHang:
		s.abort(w, wt.hang())
	case scenarios.FaultHTTPError:
		writeHTTPError(w, f)
	case scenarios.FaultRateLimit:
		s.writeRateLimitFault(w, f, nil, 0, "tool "+name)
	case scenarios.FaultOverloaded:
		writeOverloaded(w, f)
	case scenarios.FaultReset:
		resetConn(w)
	case scenarios.FaultSlowHeaders:
		if err := wt.wait(Sample(f.spec.Latency, lazyRNG())); err != nil {
			s.abort(w, err)
			return true
		}
		return false
	case scenarios.FaultMalformed:
		malformedRPC(w, r, msg.ID, sse)
	case scenarios.FaultToolError, scenarios.FaultJSONRPCError:
		v, _ := json.Marshal(toolFault{Kind: f.spec.Kind, Code: f.spec.Code, Message: f.spec.Message}) // plain fields: cannot fail
		r.Header[headerToolFault] = []string{string(v)}
		return false
	default:
		return false // stream faults do not apply to tools
	}
	return true
}

// malformedRPC answers a 200 whose JSON-RPC response is cut short, in the
// framing the endpoint uses (JSON, or one SSE event when sse).
func malformedRPC(w http.ResponseWriter, r *http.Request, id json.RawMessage, sse bool) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	body := `{"jsonrpc":"2.0","id":` + string(id) + `,"result":{"content":[{"type":"text","text":"`
	h := w.Header()
	if sse {
		body = "event: message\ndata: " + body + "\n\n"
		h["Content-Type"] = sseContentType
	} else {
		h["Content-Type"] = jsonContentType
	}
	if sid := r.Header.Get("Mcp-Session-Id"); sid != "" {
		h.Set("Mcp-Session-Id", sid)
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, body)
}

// toolFaultResult is what a tool handler answers for the fault in v, the
// value of headerToolFault.
func toolFaultResult(tool, v string) (*mcp.CallToolResult, error) {
	var tf toolFault
	if err := json.Unmarshal([]byte(v), &tf); err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "mcpload mock: bad fault header: " + err.Error()}
	}
	switch tf.Kind {
	case scenarios.FaultToolError:
		msg := tf.Message
		if msg == "" {
			msg = defaultToolErrorMsg + " (" + tool + ")"
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: msg}}, IsError: true}, nil
	default:
		code, msg := tf.Code, tf.Message
		if code == 0 {
			code = defaultJSONRPCCode
		}
		if msg == "" {
			msg = defaultJSONRPCMsg
		}
		// The SDK sends a *jsonrpc.Error from a handler as the response's
		// error, as is; any other error would become an internal error.
		return nil, &jsonrpc.Error{Code: int64(code), Message: msg}
	}
}
