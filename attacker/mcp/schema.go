package mcp

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// measureTools measures the tools array of a tools/list result: how many
// tools, its bytes, and the bytes of the same tools in a model request of
// each API, which is what shipping the server's schema to a model costs in
// input on every call. Lists are measured once each and cached by a hash
// of their bytes; the record is shared and must not be changed.
func (c *conn) measureTools(raw json.RawMessage) (*record.ToolsSchema, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("result has no tools")
	}
	h := fnv.New64a()
	h.Write(raw)
	key := h.Sum64()
	if v, ok := c.schemas.Load(key); ok {
		return v.(*record.ToolsSchema), nil
	}
	var listed []struct {
		Name        string         `json:"name"`
		Description string         `json:"description"`
		InputSchema map[string]any `json:"inputSchema"`
	}
	if err := json.Unmarshal(raw, &listed); err != nil {
		return nil, fmt.Errorf("decoding tools: %v: %s", err, httpx.Snippet(raw))
	}
	tools := make([]*scenarios.Tool, len(listed))
	for i, t := range listed {
		tools[i] = &scenarios.Tool{Name: t.Name, Description: t.Description, InputSchema: t.InputSchema}
	}
	dialects, err := scenarios.ToolsBytes(tools)
	if err != nil {
		return nil, fmt.Errorf("measuring tools: %w", err)
	}
	ts := &record.ToolsSchema{Tools: len(listed), Bytes: len(raw), DialectBytes: dialects}
	v, _ := c.schemas.LoadOrStore(key, ts)
	return v.(*record.ToolsSchema), nil
}
