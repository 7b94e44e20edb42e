package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"reflect"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/mcpload/mcpload/record"
)

// toolShape checks the MCP Tool fields beyond name and inputSchema:
// outputSchema, execution and icons. title, annotations and _meta take any
// value of their type.
func (v *validator) toolShape(path string, t *Tool) {
	if t.OutputSchema != nil {
		op := field(path, "outputSchema")
		switch typ, ok := t.OutputSchema["type"]; {
		case !ok || typ != "object":
			// MCP's schema requires it: structuredContent is an object.
			v.errorf(field(op, "type"), `must be "object": structuredContent, which it describes, is a JSON object`)
		case !v.failedInside(op):
			if _, err := compileSchema(t.OutputSchema); err != nil {
				v.errorf(op, "not a valid JSON Schema: %v", err)
			}
		}
	}
	if t.Execution != nil {
		switch t.Execution.TaskSupport {
		case "", TaskSupportForbidden, TaskSupportOptional, TaskSupportRequired:
		default:
			v.errorf(field(path, "execution.taskSupport"), "%s", unknownValue("taskSupport", t.Execution.TaskSupport,
				[]string{TaskSupportForbidden, TaskSupportOptional, TaskSupportRequired}))
		}
	}
	for i, ic := range t.Icons {
		ip := index(field(path, "icons"), i)
		if msg := checkIconSrc(ic.Src); msg != "" {
			v.errorf(field(ip, "src"), "%s", msg)
		}
		switch ic.Theme {
		case "", "light", "dark":
		default:
			v.errorf(field(ip, "theme"), "%s", unknownValue("theme", ic.Theme, []string{"light", "dark"}))
		}
	}
}

// checkIconSrc says what is wrong with an icon's src, or returns "".
func checkIconSrc(src string) string {
	if src == "" {
		return "missing; an icon needs a src: an http(s) URL or a data: URI"
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "data") {
		return fmt.Sprintf("%q is neither an http(s) URL nor a data: URI", src)
	}
	return ""
}

// deferTools reports whether the tool references of s are left to the
// check after discovery: some server lists its tools at start, and this
// is Parse's pass, before it did.
func (v *validator) deferTools(s *Scenario) bool {
	return !v.discovered && s.DiscoversTools()
}

// CheckDiscovered validates the tools of s again once MergeDiscovered has
// added what the servers listed: every tool a conversation or mix names
// exists, every declared tool has an inputSchema, and every scripted
// argument object matches its tool's inputSchema, discovered or declared.
// Errors are an Errors, each at the line and column of its field in
// s.File when the file can be read again.
func (s *Scenario) CheckDiscovered() error {
	v := &validator{file: s.File, discovered: true, schemas: map[string]*jsonschema.Resolved{}}
	v.nodes, v.keys = s.positions()
	broken := map[string]error{}
	for i, t := range s.Tools {
		if t == nil {
			continue
		}
		if _, dup := v.schemas[t.Name]; dup {
			continue
		}
		if t.InputSchema == nil {
			v.errorf(field(index("tools", i), "inputSchema"), "missing, and mcp_servers.%s did not list tool %q to take it from", t.Server, t.Name)
			continue
		}
		rs, err := compileSchema(t.InputSchema)
		if err != nil {
			broken[t.Name] = err
			continue
		}
		v.schemas[t.Name] = rs
	}
	ref := func(namePath, argsPath, name string, args map[string]any) {
		if err := broken[name]; err != nil {
			v.errorf(argsPath, "tool %q's inputSchema, as its server lists it, does not compile, so its arguments cannot be checked: %v", name, err)
			return
		}
		v.toolRef(s, namePath, argsPath, name, args)
	}
	if c := s.Conversation; c != nil {
		for i, turn := range c.Turns {
			for j, r := range turn.Model {
				for k, call := range r.ToolCalls {
					cp := index(field(index(field(index("conversation.turns", i), "model"), j), "tool_calls"), k)
					ref(field(cp, "name"), field(cp, "arguments"), call.Name, call.Arguments)
				}
			}
		}
	}
	if m := s.MCPDirect; m != nil {
		for i, op := range m.Mix {
			if op.OpName() == MCPOpToolsCall {
				p := index("mcp_direct.mix", i)
				ref(field(p, "tool"), field(p, "arguments"), op.Tool, op.Arguments)
			}
		}
	}
	for name, p := range s.Providers {
		v.toolChoice(mapKey("providers", name), p, s.Tools)
	}
	return v.errs.sorted()
}

// positions reads s.File again for the nodes of its fields, so that an
// error found after loading still names a line and column. A scenario
// built in Go, or a file gone since, has none.
func (s *Scenario) positions() (nodes, keys map[string]*yaml.Node) {
	var (
		data []byte
		err  error
	)
	if name, ok := strings.CutPrefix(s.File, EmbeddedPrefix); ok {
		data, err = fs.ReadFile(embedded, name+".yaml")
	} else if s.File != "" {
		data, err = record.ReadRegular(s.File, MaxFileBytes)
	} else {
		err = errors.New("no file")
	}
	if err != nil {
		return nil, nil
	}
	root, err := parseYAML(s.File, data)
	if err != nil {
		return nil, nil
	}
	d := newDecoder(s.File)
	var again Scenario
	d.decode(root, reflect.ValueOf(&again).Elem(), "", 0)
	return d.nodes, d.keys
}

// CompileSchema compiles a tool's inputSchema or outputSchema as the MCP
// SDK does (JSON Schema 2020-12); a schema the compiler panics on is an
// error.
func CompileSchema(schema map[string]any) (*jsonschema.Resolved, error) {
	return compileSchema(schema)
}
