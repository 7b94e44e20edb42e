package mcp

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// Request is one MCP request of a step: its method and params, the key
// its attempts are recorded under, and whether to ask for progress.
type Request struct {
	Method string
	Key    string
	// kind is the attempts' Kind: record.StepTool for tools/call,
	// record.StepMCP for the other operations.
	Kind string
	// params is the inside of the params object, without its braces; ""
	// for none.
	Params []byte
	// progress sends a progressToken (the request's id) in params._meta.
	Progress bool
	// Name is what the request acts on (a tool, a resource's URI, a
	// prompt), the Mcp-Name header of the 2026-07-28 lane; "" for none.
	Name string
	// what names the request's target in error text, as "tool x".
	What string
	// onResult, when set, is given the result of an ok response, valid
	// only during the call (discovery keeps what it lists).
	onResult func(json.RawMessage)
}

// ToolCall is a tools/call of tool name with args (a JSON object).
func ToolCall(name string, args []byte, progress bool) *Request {
	if len(args) == 0 {
		args = []byte("{}")
	}
	params := make([]byte, 0, 24+len(name)+len(args))
	params = append(params, `"name":`...)
	params = httpx.AppendJSONString(params, name)
	params = append(params, `,"arguments":`...)
	params = append(params, args...)
	return &Request{Method: scenarios.MCPOpToolsCall, Key: record.ToolKey(name), Kind: record.StepTool, Params: params, Progress: progress, Name: name, What: "tool " + name}
}

// OpRequest builds the request of op, an mcp_direct mix entry, on server.
func OpRequest(op *scenarios.MCPOp, server string) (*Request, error) {
	var args []byte
	if op.Arguments != nil {
		b, err := json.Marshal(op.Arguments)
		if err != nil {
			return nil, fmt.Errorf("%s: marshalling arguments: %w", op.OpName(), err)
		}
		args = b
	}
	switch op.OpName() {
	case scenarios.MCPOpToolsCall:
		// ApplyDefaults sets progress for the tools whose mock sends it.
		return ToolCall(op.Tool, args, op.Progress != nil && *op.Progress), nil
	case scenarios.MCPOpToolsList:
		return &Request{Method: scenarios.MCPOpToolsList, Key: record.ToolsListKey(server), Kind: record.StepMCP, What: "tools/list"}, nil
	case scenarios.MCPOpResourcesRead:
		params := httpx.AppendJSONString([]byte(`"uri":`), op.URI)
		return &Request{Method: scenarios.MCPOpResourcesRead, Key: record.ResourceKey(op.URI), Kind: record.StepMCP, Params: params, Name: op.URI, What: "resource " + op.URI}, nil
	case scenarios.MCPOpPromptsGet:
		params := httpx.AppendJSONString([]byte(`"name":`), op.Prompt)
		if args != nil {
			params = append(append(params, `,"arguments":`...), args...)
		}
		return &Request{Method: scenarios.MCPOpPromptsGet, Key: record.PromptKey(op.Prompt), Kind: record.StepMCP, Params: params, Name: op.Prompt, What: "prompt " + op.Prompt}, nil
	}
	return nil, fmt.Errorf("unknown op %q (want one of %v)", op.Op, scenarios.MCPOps())
}

// appendRequest appends the JSON-RPC request id of req, on one line.
// With stateless, params._meta carries what the 2026-07-28 lane sends on
// every request (SEP-2575): the protocol version, the client's info and
// its capabilities.
func appendRequest(body []byte, id int64, req *Request, stateless bool) []byte {
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"`...)
	body = append(body, req.Method...)
	body = append(body, `","params":{`...)
	if req.Progress || stateless {
		body = append(body, `"_meta":{`...)
		if stateless {
			body = append(body, statelessMeta...)
		}
		if req.Progress {
			if stateless {
				body = append(body, ',')
			}
			body = append(body, `"progressToken":`...)
			body = strconv.AppendInt(body, id, 10)
		}
		body = append(body, '}')
		if len(req.Params) > 0 {
			body = append(body, ',')
		}
	}
	body = append(body, req.Params...)
	return append(body, "}}"...)
}

// statelessMeta is the inside of the _meta object of every request in the
// 2026-07-28 lane.
const statelessMeta = `"io.modelcontextprotocol/protocolVersion":"` + ProtocolStateless +
	`","io.modelcontextprotocol/clientInfo":{"name":"` + mcpClientName + `","version":"` + mcpClientVersion +
	`"},"io.modelcontextprotocol/clientCapabilities":{}`

// discoverRequest is server/discover, the optional handshake of the
// 2026-07-28 lane.
var discoverRequest = &Request{Method: "server/discover", What: "server/discover"}

// appendInitialize appends the initialize request with id, asking for
// version ("" for ProtocolVersion), on one line.
func appendInitialize(body []byte, id int64, version string) []byte {
	if version == "" || version == ProtocolAuto || version == ProtocolStateless {
		version = ProtocolVersion
	}
	body = append(body, `{"jsonrpc":"2.0","id":`...)
	body = strconv.AppendInt(body, id, 10)
	body = append(body, `,"method":"initialize","params":{"protocolVersion":"`...)
	body = append(body, version...)
	return append(body, `","capabilities":{},"clientInfo":{"name":"`+mcpClientName+`","version":"`+mcpClientVersion+`"}}}`...)
}

// notifiedBody is the notifications/initialized notification.
var notifiedBody = []byte(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)

// initializeVersion returns the protocol version of an initialize
// result, or why there is none.
func initializeVersion(result json.RawMessage) (string, string) {
	var ir struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	if err := json.Unmarshal(result, &ir); err != nil || ir.ProtocolVersion == "" {
		return "", "initialize: result has no protocolVersion: " + httpx.Snippet(result)
	}
	return ir.ProtocolVersion, ""
}
