package mcp

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpload/mcpload/scenarios"
)

// OutputSchemas are the compiled outputSchemas of a server's tools, by
// tool name. A tools/call result of such a tool is checked against its
// schema; the mismatch is counted, and does not change the call's outcome.
type OutputSchemas map[string]*jsonschema.Resolved

// CompileOutputSchemas compiles, once, the outputSchema of each tool of
// server among tools; a tool without one is not checked.
func CompileOutputSchemas(tools []*scenarios.Tool, server string) (OutputSchemas, error) {
	var out OutputSchemas
	for _, t := range tools {
		if t == nil || t.Server != server || t.OutputSchema == nil {
			continue
		}
		rs, err := scenarios.CompileSchema(t.OutputSchema)
		if err != nil {
			return nil, fmt.Errorf("tool %q: outputSchema: %w", t.Name, err)
		}
		if out == nil {
			out = OutputSchemas{}
		}
		out[t.Name] = rs
	}
	return out, nil
}

// SetOutputSchemas has the client check the structuredContent of every
// tools/call result of the tools in m. It is set before the client's
// first call.
func (c *conn) SetOutputSchemas(m OutputSchemas) { c.outputs = m }

// checkOutput says how a tool's structuredContent fails its outputSchema,
// or returns "". A result without structuredContent fails too: the spec
// says a server MUST return structured results that conform, and the
// TypeScript SDK's client refuses such a result.
func checkOutput(rs *jsonschema.Resolved, structured json.RawMessage) (msg string) {
	defer func() {
		// A third-party validator fed a target's data: a panic is a
		// mismatch, not a crash.
		if r := recover(); r != nil {
			msg = fmt.Sprintf("the schema validator failed: %v", r)
		}
	}()
	if len(structured) == 0 || bytes.Equal(structured, []byte("null")) {
		return "no structuredContent, though the tool has an outputSchema"
	}
	var v any
	if err := json.Unmarshal(structured, &v); err != nil {
		return "structuredContent: " + err.Error()
	}
	if err := rs.Validate(v); err != nil {
		return "structuredContent does not match the outputSchema: " + err.Error()
	}
	return ""
}
