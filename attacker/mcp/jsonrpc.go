package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// rpcResponse is a JSON-RPC message from the server: the response we wait
// for, or a notification or request we ignore.
type rpcResponse struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
	// size is the message's bytes, on stdio.
	size int64
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// readResult reads the result of an ok response to req into call: the
// text for the model, isError, a tool list's measure. A result that is not
// what the method returns is a protocol failure.
func (c *conn) readResult(req *Request, result json.RawMessage, call *Result) {
	fail := func(format string, args ...any) {
		call.Outcome, call.Err = record.OutcomeProtocol, req.Method+": "+fmt.Sprintf(format, args...)
	}
	if req.onResult != nil {
		req.onResult(result)
	}
	switch req.Method {
	case scenarios.MCPOpToolsCall:
		var tr struct {
			Content           json.RawMessage `json:"content"`
			StructuredContent json.RawMessage `json:"structuredContent"`
			IsError           bool            `json:"isError"`
		}
		if err := json.Unmarshal(result, &tr); err != nil {
			fail("decoding result: %v", err)
			return
		}
		call.Text = contentText(tr.Content, tr.StructuredContent)
		if rs := c.outputs[req.Name]; rs != nil && !tr.IsError {
			call.OutputSchemaErr = checkOutput(rs, tr.StructuredContent)
		}
		if tr.IsError {
			call.Outcome = record.OutcomeToolError
			call.Err = req.What + " returned isError: " + httpx.Truncate(call.Text, httpx.MaxErrorDetail)
		}
	case scenarios.MCPOpToolsList:
		var lr struct {
			Tools json.RawMessage `json:"tools"`
		}
		if err := json.Unmarshal(result, &lr); err != nil {
			fail("decoding result: %v", err)
			return
		}
		schema, err := c.measureTools(lr.Tools)
		if err != nil {
			fail("%v", err)
			return
		}
		call.Schema = schema
	case scenarios.MCPOpResourcesRead:
		var rr struct {
			Contents []struct {
				URI  string `json:"uri"`
				Text string `json:"text"`
				Blob string `json:"blob"`
			} `json:"contents"`
		}
		if err := json.Unmarshal(result, &rr); err != nil || rr.Contents == nil {
			fail("result has no contents: %s", httpx.Snippet(result))
			return
		}
		var parts []string
		for _, ct := range rr.Contents {
			parts = append(parts, ct.Text)
		}
		call.Text = strings.Join(parts, "\n")
	case scenarios.MCPOpPromptsGet:
		var pr struct {
			Messages []struct {
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(result, &pr); err != nil || pr.Messages == nil {
			fail("result has no messages: %s", httpx.Snippet(result))
			return
		}
		var parts []string
		for _, m := range pr.Messages {
			var ct struct {
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Content, &ct) == nil && ct.Text != "" {
				parts = append(parts, ct.Text)
			}
		}
		call.Text = strings.Join(parts, "\n")
	}
}

// rpcOutcome classifies a JSON-RPC error by its code. A timeout (-32003)
// is a timeout and a rate limit (-32004) a 429, so that client.Retry and
// its budget treat them as they treat the HTTP kinds. On an operation on a
// tool, resource or prompt (call), the errors that say the call itself was
// refused or failed (tool not found -32001, execution failed -32002,
// invalid params -32602, which the MCP SDK answers for an unknown tool,
// resource or prompt and for invalid arguments) are tool errors, as
// isError is. Anything else, and any error to the handshake or a
// tools/list, is a protocol failure.
func rpcOutcome(code int, call bool) string {
	switch code {
	case record.RPCTimeout:
		return record.OutcomeTimeout
	case record.RPCRateLimited:
		return record.Outcome429
	case record.RPCToolNotFound, record.RPCExecutionFailed, record.RPCInvalidParams:
		if call {
			return record.OutcomeToolError
		}
	}
	return record.OutcomeProtocol
}

// contentText flattens MCP content blocks into what a model is given: the
// text blocks joined by newlines, else the structured content, else the
// raw blocks.
func contentText(content, structured json.RawMessage) string {
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(content, &blocks) == nil {
		var sb strings.Builder
		for _, b := range blocks {
			if b.Type != "text" {
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte('\n')
			}
			sb.WriteString(b.Text)
		}
		if sb.Len() > 0 {
			return sb.String()
		}
	}
	if len(structured) > 0 && string(structured) != "null" {
		return string(structured)
	}
	return string(content)
}

// readJSONResponse reads an application/json JSON-RPC response.
func readJSONResponse(r io.Reader, wantID []byte) (*rpcResponse, error) {
	buf := httpx.GetBuffer()
	defer httpx.PutBuffer(buf)
	if _, err := buf.ReadFrom(r); err != nil { // r is a httpx.CountingBody: bounded
		return nil, fmt.Errorf("reading response: %w", err)
	}
	var msg rpcResponse
	if err := json.Unmarshal(buf.Bytes(), &msg); err != nil {
		return nil, protocolError{fmt.Sprintf("decoding jsonrpc response: %v: %s", err, httpx.Snippet(buf.Bytes()))}
	}
	if !bytes.Equal(bytes.TrimSpace(msg.ID), wantID) {
		return nil, protocolError{fmt.Sprintf("jsonrpc response id %s, want %s", msg.ID, wantID)}
	}
	return &msg, nil
}

// readSSEResponse reads a text/event-stream until the event that carries
// the response with wantID; notifications and server requests on the
// stream are skipped, after calling onProgress for each
// notifications/progress.
func readSSEResponse(r io.Reader, wantID []byte, onProgress func()) (*rpcResponse, error) {
	sr := httpx.NewSSEReader(r)
	defer sr.Release()
	for {
		data, err := sr.Next()
		if err == io.EOF {
			return nil, protocolError{"event stream ended without the jsonrpc response"}
		}
		if err != nil {
			return nil, fmt.Errorf("reading event stream: %w", err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue // priming event, or a keep-alive
		}
		var msg rpcResponse
		if err := json.Unmarshal(data, &msg); err != nil {
			return nil, protocolError{fmt.Sprintf("decoding event: %v: %s", err, httpx.Snippet(data))}
		}
		if msg.Method == "notifications/progress" && onProgress != nil {
			onProgress()
		}
		if msg.Method != "" || !bytes.Equal(bytes.TrimSpace(msg.ID), wantID) {
			continue
		}
		return &msg, nil
	}
}

// protocolError is a malformed response. It is never a timeout, so
// httpx.ClassifyBodyErr files it as a protocol failure.
type protocolError struct{ msg string }

func (e protocolError) Error() string { return e.msg }
