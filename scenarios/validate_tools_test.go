package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// toolsBase declares one tool with every field of MCP's Tool, pasted as
// a tools/list answer gives it (JSON is YAML). Line numbers are in the
// comments of the tests.
const toolsBase = `version: 1
name: t
mcp_servers:
  s: {url: mock}
tools:
  - {"name": "weather", "title": "Weather", "description": "now",
     "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
     "outputSchema": {"type": "object", "properties": {"temp": {"type": "number"}}},
     "annotations": {"title": "W", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
     "execution": {"taskSupport": "optional"},
     "icons": [{"src": "https://example.com/w.png", "mimeType": "image/png", "sizes": ["48x48"], "theme": "dark"}],
     "_meta": {"com.example/team": "core"}}
mcp_direct:
  mix:
    - {tool: weather, arguments: {city: Paris}}
load:
  stages:
    - {rate: 10, duration: 1s}
`

// TestToolShapePasted: a tool with every MCP field loads, and reads back
// the same from the resolved scenario.
func TestToolShapePasted(t *testing.T) {
	s := mustParse(t, toolsBase)
	w := s.Tools[0]
	if w.Title != "Weather" || w.Annotations == nil || *w.Annotations.ReadOnlyHint != true || *w.Annotations.DestructiveHint != false ||
		w.Execution.TaskSupport != TaskSupportOptional || len(w.Icons) != 1 || w.Icons[0].Sizes[0] != "48x48" ||
		w.Meta["com.example/team"] != "core" || w.OutputSchema["type"] != "object" {
		t.Fatalf("tool decoded as %+v", w)
	}
	// tools/list carries the whole shape: its size counts every field.
	bare := &Tool{Name: w.Name, Description: w.Description, InputSchema: w.InputSchema}
	full, err1 := MCPToolsBytes([]*Tool{w})
	less, err2 := MCPToolsBytes([]*Tool{bare})
	if err1 != nil || err2 != nil || full-less < len(`"outputSchema":{"properties":{"temp":{"type":"number"}},"type":"object"}`) {
		t.Fatalf("MCPToolsBytes: %d with every field, %d without (%v, %v)", full, less, err1, err2)
	}
	b, err := s.Resolved()
	if err != nil {
		t.Fatal(err)
	}
	again := mustParse(t, string(b))
	if !reflect.DeepEqual(again.Tools, s.Tools) {
		t.Fatalf("resolved tools read back as %+v, want %+v", again.Tools[0], s.Tools[0])
	}
}

// TestToolShapeErrors: each MCP Tool field's bad value, at its line and
// column.
func TestToolShapeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		w              want
	}{
		{"title", `"title": "Weather"`, `"title": ["W"]`, want{"6:34", "tools[0].title", "expected a string"}},
		{"hint type", `"readOnlyHint": true`, `"readOnlyHint": "yes"`, want{"9:52", "tools[0].annotations.readOnlyHint", "expected true or false"}},
		{"hint name", `"readOnlyHint": true`, `"readonlyHint": true`, want{"9:36", "tools[0].annotations.readonlyHint", `did you mean "readOnlyHint"`}},
		{"output type", `"outputSchema": {"type": "object"`, `"outputSchema": {"type": "array"`, want{"8:31", "tools[0].outputSchema.type", `must be "object"`}},
		{"output schema", `"temp": {"type": "number"}`, `"temp": {"type": 5}`, want{"8:22", "tools[0].outputSchema", "not a valid JSON Schema"}},
		{"task support", `"taskSupport": "optional"`, `"taskSupport": "sometimes"`, want{"10:35", "tools[0].execution.taskSupport", "sometimes"}},
		{"icon src", `"src": "https://example.com/w.png"`, `"src": "ftp://example.com/w.png"`, want{"11:24", "tools[0].icons[0].src", "neither an http(s) URL nor a data: URI"}},
		{"icon missing src", `"src": "https://example.com/w.png", `, ``, want{"11:16", "tools[0].icons[0].src", "missing"}},
		{"icon theme", `"theme": "dark"`, `"theme": "dim"`, want{"11:107", "tools[0].icons[0].theme", "dim"}},
		{"meta", `"_meta": {"com.example/team": "core"}`, `"_meta": 3`, want{"12:15", "tools[0]._meta", "expected a mapping"}},
		{"discover_tools", `s: {url: mock}`, `s: {url: mock, discover_tools: "yes"}`, want{"4:34", "mcp_servers.s.discover_tools", "expected true or false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, parseErrors(t, editFrom(t, toolsBase, tc.from, tc.to)), tc.w)
		})
	}
}

// discoverBase names a tool that only its server will list.
const discoverBase = `version: 1
name: t
mcp_servers:
  s: {url: "http://127.0.0.1:1/mcp", discover_tools: true}
tools:
  - {name: pinned, server: s, description: mine}
mcp_direct:
  mix:
    - {tool: listed, arguments: {n: "1"}}
    - {tool: pinned}
load:
  stages:
    - {rate: 10, duration: 1s}
`

// TestDiscoverToolsDeferred: with discover_tools, a tool may be named
// before it is known and declared without inputSchema; without it, both
// are errors at once.
func TestDiscoverToolsDeferred(t *testing.T) {
	mustParse(t, discoverBase)
	es := parseErrors(t, editFrom(t, discoverBase, ", discover_tools: true", ""))
	checkErrors(t, es,
		want{"6:5", "tools[0].inputSchema", "missing"},
		want{"9:14", "mcp_direct.mix[0].tool", `tool "listed" is not defined`})
}

// TestMergeDiscovered: a listed tool joins the scenario; a declared one of
// the same server keeps its fields and takes the rest; a name another
// server has is left out. CheckDiscovered then checks the scripted
// arguments against the listed schema, at their line and column.
func TestMergeDiscovered(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(path, []byte(discoverBase), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	before := s.Tools[0]
	object := map[string]any{"type": "object"}
	listed := []*Tool{
		{Name: "pinned", Description: "theirs", Title: "Pinned", InputSchema: object},
		{Name: "listed", InputSchema: map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}}},
		{Name: "admin.ping", InputSchema: object},
		{Name: "odd", InputSchema: object, Icons: []Icon{{Src: "ftp://x/i.png"}}},
	}
	shadowed, refused := s.MergeDiscovered("s", listed)
	if shadowed != nil || len(refused) != 2 || !strings.HasPrefix(refused[0], "admin.ping: a name that is not") || !strings.Contains(refused[1], "odd: ") {
		t.Fatalf("shadowed %v, refused %q", shadowed, refused)
	}
	if shadowed, _ := s.MergeDiscovered("other", []*Tool{{Name: "listed", InputSchema: object}}); !reflect.DeepEqual(shadowed, []string{"listed"}) {
		t.Fatalf("shadowed %v, want [listed]", shadowed)
	}
	p := s.Tools[0]
	if len(s.Tools) != 2 || p.Description != "mine" || p.Title != "Pinned" || p.InputSchema == nil || s.Tools[1].Server != "s" {
		t.Fatalf("merged tools %+v %+v", p, s.Tools[1])
	}
	if before.Title != "" || before.InputSchema != nil {
		t.Fatalf("the declared tool was changed in place: %+v", before)
	}
	err = s.CheckDiscovered()
	if err == nil || !strings.Contains(err.Error(), path+":9:33: mcp_direct.mix[0].arguments: arguments do not match tool \"listed\"'s inputSchema") {
		t.Fatalf("got %v", err)
	}
}
