package mcp

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// FuzzMCPResponse feeds bodies to the MCP client's JSON-RPC readers, JSON
// and SSE, and the result of an accepted response to its reader for each
// operation: a response either is the one asked for, or is an error that
// classifies as a protocol failure.
func FuzzMCPResponse(f *testing.F) {
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[],"structuredContent":{"a":1},"isError":true}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"m","version":"1"}}}`,
	} {
		f.Add(false, int64(1), []byte(body))
		// The same response as an event stream, after a progress notification.
		f.Add(true, int64(1), []byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\n\nevent: message\ndata: "+body+"\n\n"))
	}
	f.Add(false, int64(1), []byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}`))
	f.Add(false, int64(2), []byte(`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"t","inputSchema":{"type":"object"}}]}}`))
	f.Add(false, int64(3), []byte(`{"jsonrpc":"2.0","id":3,"result":{"contents":[{"uri":"u","text":"x"}],"messages":[{"content":{"text":"y"}}]}}`))
	c := NewStreamable(http.DefaultClient, "tools", "http://127.0.0.1:1/mcp", time.Second, nopRedactor{})
	f.Fuzz(func(t *testing.T, sse bool, id int64, body []byte) {
		wantID := strconv.AppendInt(nil, id, 10)
		var (
			msg      *rpcResponse
			err      error
			progress int
		)
		if sse {
			msg, err = readSSEResponse(bytes.NewReader(body), wantID, func() { progress++ }, nil)
		} else {
			msg, err = readJSONResponse(bytes.NewReader(body), wantID)
		}
		if err != nil {
			var pe protocolError
			if msg != nil || !errors.As(err, &pe) && len(body) <= httpx.MaxSSELine {
				t.Fatalf("response %v with error %T %v", msg, err, err)
			}
			return
		}
		if !bytes.Equal(bytes.TrimSpace(msg.ID), wantID) || msg.Method != "" {
			t.Fatalf("accepted id %s method %q, want id %s", msg.ID, msg.Method, wantID)
		}
		if progress > bytes.Count(body, []byte("notifications/progress")) {
			t.Fatalf("%d progress notifications counted", progress)
		}
		for _, op := range scenarios.MCPOps() {
			var call Result
			c.readResult(&Request{Method: op, What: "tool t"}, msg.Result, &call)
			switch call.Outcome {
			case "", record.OutcomeProtocol, record.OutcomeToolError:
			default:
				t.Fatalf("%s: outcome %q", op, call.Outcome)
			}
			if call.Outcome != "" && call.Err == "" {
				t.Fatalf("%s: outcome %s without an error text", op, call.Outcome)
			}
		}
	})
}

// nopRedactor has no secret to remove.
type nopRedactor struct{}

func (nopRedactor) Clip(s string) string { return s }
