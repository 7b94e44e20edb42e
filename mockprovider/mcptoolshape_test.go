package mockprovider

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mcpload/mcpload/scenarios"
)

// TestMCPToolShapeListed: tools/list shows every field of the MCP Tool
// shape the scenario declares (title, annotations, outputSchema, icons,
// _meta), as a real server lists them.
func TestMCPToolShapeListed(t *testing.T) {
	sc, err := scenarios.Parse("t.yaml", []byte(`version: 1
name: t
mcp_servers:
  s: {url: mock}
tools:
  - name: lookup
    title: Look up
    description: Find a record.
    inputSchema: {type: object, properties: {id: {type: string}}}
    outputSchema: {type: object, properties: {found: {type: boolean}}, required: [found]}
    annotations: {title: Lookup, readOnlyHint: true, openWorldHint: false}
    icons: [{src: "https://example.com/i.png", mimeType: image/png, sizes: [48x48], theme: dark}]
    _meta: {vendor/tier: gold}
    mock: {result: {found: true}}
mcp_direct:
  mix: [{tool: lookup, arguments: {id: a}}]
load:
  stages: [{rate: 1, duration: 1s}]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, base := startMock(t, sc)
	cs := connectMCP(t, base+"/mcp/s")
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil || len(list.Tools) != 1 {
		t.Fatalf("list: %v %+v", err, list)
	}
	got, _ := json.Marshal(list.Tools[0])
	var m map[string]any
	_ = json.Unmarshal(got, &m)
	out, _ := json.Marshal(m["outputSchema"])
	ann, _ := m["annotations"].(map[string]any)
	icons, _ := m["icons"].([]any)
	meta, _ := m["_meta"].(map[string]any)
	switch {
	case m["title"] != "Look up":
		t.Errorf("title: %s", got)
	case string(out) != `{"properties":{"found":{"type":"boolean"}},"required":["found"],"type":"object"}`:
		t.Errorf("outputSchema: %s", out)
	case ann["readOnlyHint"] != true || ann["openWorldHint"] != false || ann["title"] != "Lookup":
		t.Errorf("annotations: %s", got)
	case len(icons) != 1 || icons[0].(map[string]any)["theme"] != "dark":
		t.Errorf("icons: %s", got)
	case meta["vendor/tier"] != "gold":
		t.Errorf("_meta: %s", got)
	}
}
