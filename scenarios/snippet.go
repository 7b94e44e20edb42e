package scenarios

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/record"
)

// Bounds of a snippet's mix.
const snippetMixTools = 5

// Snippet writes a scenario to start from for the MCP server m named
// name, whose tools are tools (as ListTools found them): the server, its
// tools in their full MCP shape, and an MCP-direct mix of up to five of
// them with arguments made from their inputSchemas. Read-only tools
// (annotations.readOnlyHint) are preferred for the mix; tools the
// scenario cannot hold (a name a model API refuses, a schema that does
// not compile) are left out, each named in a comment. header is written
// first, as comment lines. The snippet is parsed before it is returned:
// it validates.
func Snippet(name string, m *MCPServer, tools []*Tool, header []string) ([]byte, error) {
	var b bytes.Buffer
	for _, h := range header {
		b.WriteString("# " + h + "\n")
	}
	var kept []*Tool
	var left []string
	for _, t := range tools {
		if why := Refusal(t); why != "" {
			left = append(left, fmt.Sprintf("%s (%s)", t.Name, why))
			continue
		}
		c := *t
		c.Server = name
		kept = append(kept, &c)
	}
	mix, mixNote := snippetMix(kept)
	// Only what the server sets: a stdio server has no url.
	type server struct {
		URL       string            `yaml:"url,omitempty"`
		Command   []string          `yaml:"command,omitempty,flow"`
		Env       map[string]string `yaml:"env,omitempty"`
		Dir       string            `yaml:"dir,omitempty"`
		Protocol  string            `yaml:"protocol,omitempty"`
		Transport string            `yaml:"transport,omitempty"`
	}
	head := struct {
		Version    int                `yaml:"version"`
		Name       string             `yaml:"name"`
		MCPServers map[string]*server `yaml:"mcp_servers"`
	}{1, "inspect-" + name, map[string]*server{name: {m.URL, m.Command, m.Env, m.Dir, m.Protocol, m.Transport}}}
	if err := encodeYAML(&b, head); err != nil {
		return nil, err
	}
	b.WriteString("    # discover_tools: true   # lists the tools at each run's start instead; the tools: below may then go\n")
	for _, l := range left {
		b.WriteString("# left out: " + l + "\n")
	}
	if len(kept) > 0 {
		if err := encodeYAML(&b, map[string]any{"tools": kept}); err != nil {
			return nil, err
		}
	}
	if mixNote != "" {
		b.WriteString("# " + mixNote + "\n")
	}
	type direct struct {
		Server  string  `yaml:"server"`
		Session string  `yaml:"session"`
		Mix     []MCPOp `yaml:"mix"`
	}
	type stage struct {
		Rate     int    `yaml:"rate"`
		Duration string `yaml:"duration"`
	}
	body := struct {
		MCPDirect direct `yaml:"mcp_direct"`
		Load      struct {
			Stages []stage `yaml:"stages"`
		} `yaml:"load"`
	}{MCPDirect: direct{name, SessionPerVU, mix}}
	body.Load.Stages = []stage{{10, "10s"}}
	if err := encodeYAML(&b, body); err != nil {
		return nil, err
	}
	if _, err := Parse("snippet.yaml", b.Bytes()); err != nil {
		return nil, fmt.Errorf("the snippet does not validate (a bug): %w\n%s", err, b.Bytes())
	}
	return b.Bytes(), nil
}

func encodeYAML(b *bytes.Buffer, v any) error {
	enc := yaml.NewEncoder(b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding the snippet: %w", err)
	}
	return enc.Close()
}

// Refusal says why a scenario cannot declare t, a tool as a server lists
// it, or returns "": a name model APIs refuse (or the reserved one), an
// inputSchema that is no object schema or does not compile, a bad
// outputSchema, execution or icon.
func Refusal(t *Tool) string {
	switch {
	case !toolName.MatchString(t.Name) || t.Name == record.UndeclaredTool:
		return "a name that is not 1 to 64 letters, digits, '_' or '-' (OpenAI's rule for function names)"
	case t.InputSchema == nil || t.InputSchema["type"] != "object":
		return "inputSchema is not of type object"
	}
	v := &validator{}
	v.toolShape("tool", t)
	if _, err := compileSchema(t.InputSchema); err != nil {
		return "inputSchema does not compile: " + err.Error()
	}
	if len(v.errs) > 0 {
		return v.errs[0].Error()
	}
	return ""
}

// snippetMix picks the mix's tools, and says what the author should check.
func snippetMix(tools []*Tool) ([]MCPOp, string) {
	readOnly := func(t *Tool) bool {
		return t.Annotations != nil && t.Annotations.ReadOnlyHint != nil && *t.Annotations.ReadOnlyHint
	}
	pick := slices.DeleteFunc(slices.Clone(tools), func(t *Tool) bool { return !readOnly(t) })
	note := ""
	if len(pick) == 0 {
		pick = tools
		note = "no tool says readOnlyHint: check that the mix's tools are safe to call under load"
	}
	var mix []MCPOp
	for _, t := range pick {
		if len(mix) == snippetMixTools {
			break
		}
		args, ok := exampleArgs(t.InputSchema)
		if !ok {
			continue
		}
		if rs, err := compileSchema(t.InputSchema); err != nil || checkArgs(rs, args) != nil {
			continue
		}
		mix = append(mix, MCPOp{Tool: t.Name, Arguments: args})
	}
	if len(mix) == 0 {
		mix = []MCPOp{{Op: MCPOpToolsList}}
		note = "no tool's arguments could be made from its inputSchema: the mix lists tools; add tools/call entries"
	}
	return mix, note
}

// exampleArgs makes an object of a schema's required properties, each
// from its const, default, first example or enum value, or its type.
func exampleArgs(schema map[string]any) (map[string]any, bool) {
	props, _ := schema["properties"].(map[string]any)
	req, _ := schema["required"].([]any)
	args := map[string]any{}
	for _, r := range req {
		name, _ := r.(string)
		p, _ := props[name].(map[string]any)
		v, ok := exampleValue(p, 0)
		if !ok {
			return nil, false
		}
		args[name] = v
	}
	if len(args) == 0 {
		return nil, true
	}
	return args, true
}

func exampleValue(p map[string]any, depth int) (any, bool) {
	if p == nil || depth > 5 {
		return nil, false
	}
	for _, k := range []string{"const", "default"} {
		if v, ok := p[k]; ok {
			return v, true
		}
	}
	for _, k := range []string{"examples", "enum"} {
		if vs, ok := p[k].([]any); ok && len(vs) > 0 {
			return vs[0], true
		}
	}
	typ := p["type"]
	if ts, ok := typ.([]any); ok && len(ts) > 0 {
		typ = ts[0]
	}
	switch typ {
	case "string":
		n := 7
		switch m := p["minLength"].(type) {
		case int:
			n = max(n, m)
		case float64:
			n = max(n, int(min(m, 1000)))
		}
		return strings.Repeat("x", n-7) + "example", true
	case "integer", "number":
		if m, ok := p["minimum"]; ok {
			return m, true
		}
		return 1, true
	case "boolean":
		return true, true
	case "array":
		return []any{}, true
	case "object":
		args, ok := exampleArgs(p)
		if args == nil {
			args = map[string]any{}
		}
		return args, ok
	case "null":
		return nil, true
	}
	if alts, ok := p["anyOf"].([]any); ok && len(alts) > 0 {
		a, _ := alts[0].(map[string]any)
		return exampleValue(a, depth+1)
	}
	if alts, ok := p["oneOf"].([]any); ok && len(alts) > 0 {
		a, _ := alts[0].(map[string]any)
		return exampleValue(a, depth+1)
	}
	return nil, false
}
