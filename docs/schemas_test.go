package docs

import (
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/scenarios"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite schemas/summary.schema.json, attempts.schema.json, capacity.schema.json and run.schema.json from the Go types")

// TestGenerateSchemas derives the results schemas from the Go types that
// write them (summary.Summary, record.Attempt), when -update-schemas is
// given: go test ./docs -run TestGenerateSchemas -update-schemas. The
// results folder changes only by adding fields, so every object is left
// open to properties a later version adds; TestDocs checks that real runs
// match.
func TestGenerateSchemas(t *testing.T) {
	if !*updateSchemas {
		t.Skip("rewrites the schemas only with -update-schemas")
	}
	sum, err := jsonschema.For[summary.Summary](nil)
	if err != nil {
		t.Fatal(err)
	}
	docs := goDocs(t, "../report/summary", "../report/cost", "../record")
	writeSchema(t, "summary.schema.json", sum, reflect.TypeFor[summary.Summary](), docs, schemaHead{
		title:       "mcpload summary.json (mcpload.summary/v1)",
		description: "What a run measured, in one document: the contract CI scripts read. It changes only by adding fields. See docs/results.md.",
		fixed: map[string]map[string]any{
			"schema":            {"const": summary.SummarySchema, "description": "The layout's name and version."},
			"scenario":          {"description": "The scenario's name."},
			"seed":              {"description": "The seed the run used: the same seed replays the same arrivals, latency and fault draws."},
			"mcpload_version":   {"description": "The version of mcpload that ran it."},
			"status":            {"enum": []string{record.StatusRunning, record.StatusComplete, record.StatusInterrupted, record.StatusAborted, record.StatusFailed}, "description": "complete; interrupted (Ctrl-C: a partial run); aborted (abort_on_fail or budget.max_usd, see stop_reason); running if the process died."},
			"kind":              {"enum": []string{scenarios.KindConversation, scenarios.KindMCPDirect}, "description": "conversation, or mcp_direct: the units of work are then MCP operations."},
			"started":           {"format": "date-time", "description": "When the load started."},
			"ended":             {"format": "date-time", "description": "When the run ended."},
			"duration_s":        {"description": "How long the run took, in seconds."},
			"planned_s":         {"description": "The length of the arrival schedule, in seconds."},
			"invalid_tool_args": {"description": "Tool calls whose arguments did not parse or validate against the tool's inputSchema."},
			"peak_in_flight":    {"description": "The most conversations in flight at once."},
		},
	})
	attempt, err := jsonschema.For[record.Attempt](nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema(t, "attempts.schema.json", attempt, reflect.TypeFor[record.Attempt](), docs, schemaHead{
		title:       "mcpload attempts.jsonl line",
		description: "One HTTP exchange: one line of attempts.jsonl. Lines change only by adding fields. See docs/results.md.",
		fixed: map[string]map[string]any{
			"conv":              {"description": "The conversation's seq in results.bin (an MCP-direct operation's, in MCP-direct scenarios)."},
			"step":              {"description": "The conversation's steps counted from 0, in order of start."},
			"kind":              {"enum": []string{record.StepModel, record.StepTool, record.StepMCP, record.KindSession, record.KindServerRequest}, "description": "model, tool, mcp (an MCP-direct tools/list, resources/read or prompts/get), session (the MCP handshake and DELETE) or server_request (the answer to a request an MCP server sent the client)."},
			"key":               {"description": "The attempt key: model:PROVIDER/MODEL, tool:NAME, mcp:SERVER/initialize, mcp:SERVER/initialized, mcp:SERVER/delete, mcp:SERVER/tools/list, resource:URI, prompt:NAME; a server request's answer is mcp:SERVER/METHOD (roots/list, sampling/createMessage, elicitation/create, ping) or mcp:SERVER/unsupported."},
			"attempt":           {"description": "The attempt's number within its step, from 1."},
			"start":             {"format": "date-time", "description": "When the attempt was sent."},
			"latency_us":        {"description": "Sending to the end of the answer, in µs."},
			"ttft_us":           {"description": "Streams: sending to the first output event (text or tool-call data), in µs."},
			"first_tool_us":     {"description": "Streams: sending to the first tool-call event, in µs."},
			"args_done_us":      {"description": "Streams: sending to the event after which every tool call's arguments were known, in µs."},
			"output_events":     {"description": "Streams: the events that carried output."},
			"gen_us":            {"description": "Streams: the first output event to the last, in µs."},
			"tpot_us":           {"description": "Streams: gen_us / (completion_tokens - 1), for ok attempts with two output events and two completion tokens or more, in µs."},
			"status":            {"description": "The HTTP status, when there was one."},
			"error":             {"description": "What went wrong, secrets redacted."},
			"bytes_in":          {"description": "Bytes of the answer's body."},
			"prompt_tokens":     {"description": "Model attempts: prompt tokens as the provider reported them, the cached part included."},
			"completion_tokens": {"description": "Model attempts: completion tokens as the provider reported them."},
			"cached_tokens":     {"description": "Model attempts: the cached part of prompt_tokens."},
			"rpc_code":          {"description": "MCP: the code of the JSON-RPC error the server answered."},
			"progress":          {"description": "MCP: the notifications/progress the response's event stream carried before the response."},
			"first_progress_us": {"description": "MCP: sending to the first progress notification, in µs."},
			"tools_schema":      {"description": "MCP: the size of an ok tools/list's tool list, as listed and as each model API's request carries it."},
			"outcome":           {"description": "The outcome class: ok, timeout, 429, 5xx, 4xx, connection, protocol, tool_error, canceled, ... (docs/measuring.md); later versions add classes."},
		},
	})
	capacity, err := jsonschema.For[record.Capacity](nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema(t, "capacity.schema.json", capacity, reflect.TypeFor[record.Capacity](), docs, schemaHead{
		title:       "mcpload capacity.json (mcpload.capacity/v1)",
		description: "A capacity search: the highest arrival rate at which the scenario's thresholds held, with its interval, its probes and what the rate needs and costs. It changes only by adding fields. See docs/capacity.md.",
		fixed: map[string]map[string]any{
			"schema": {"const": record.CapacitySchema, "description": "The layout's name and version."},
			"status": {"enum": []string{"found", "limited", "none", "incomplete"}},
		},
	})
}

type schemaHead struct {
	title, description string
	// fixed adds keywords to top-level properties.
	fixed map[string]map[string]any
}

func writeSchema(t *testing.T, name string, s *jsonschema.Schema, typ reflect.Type, docs map[string]string, h schemaHead) {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	open(m)
	describe(typ, m, docs)
	props := m["properties"].(map[string]any)
	for p, kw := range h.fixed {
		prop, ok := props[p].(map[string]any)
		if !ok {
			t.Fatalf("%s: no property %q", name, p)
		}
		for k, v := range kw {
			prop[k] = v
		}
	}
	m["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	m["$id"] = "https://github.com/mcpload/mcpload/docs/schemas/" + name
	m["title"] = h.title
	m["description"] = h.description
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("schemas", name), append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// open removes "additionalProperties": false everywhere, so that a field a
// later version adds does not fail an older schema.
func open(v any) {
	switch v := v.(type) {
	case map[string]any:
		if ap, ok := v["additionalProperties"].(bool); ok && !ap {
			delete(v, "additionalProperties")
		}
		for _, e := range v {
			open(e)
		}
	case []any:
		for _, e := range v {
			open(e)
		}
	}
}

// goDocs reads the doc comments of the types and struct fields of the
// packages in dirs: "pkg.Type" and "pkg.Type.Field" to the comment's text.
func goDocs(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, dir := range dirs {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			pkg := f.Name.Name
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.TYPE {
					continue
				}
				for _, spec := range gd.Specs {
					ts := spec.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					if doc != nil {
						docs[pkg+"."+ts.Name.Name] = oneLine(doc.Text())
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						text := ""
						if fl.Doc != nil {
							text = fl.Doc.Text()
						} else if fl.Comment != nil {
							text = fl.Comment.Text()
						}
						for _, n := range fl.Names {
							if text != "" {
								docs[pkg+"."+ts.Name.Name+"."+n.Name] = oneLine(text)
							}
						}
					}
				}
			}
		}
	}
	return docs
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// describe sets the descriptions of schema s, the schema of typ, from the
// Go doc comments: a struct's from its type's comment, a property's from
// its field's, with the field's Go name replaced by its JSON name.
func describe(typ reflect.Type, s map[string]any, docs map[string]string) {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Slice, reflect.Array:
		if items, ok := s["items"].(map[string]any); ok {
			describe(typ.Elem(), items, docs)
		}
		return
	case reflect.Map:
		if ap, ok := s["additionalProperties"].(map[string]any); ok {
			describe(typ.Elem(), ap, docs)
		}
		return
	case reflect.Struct:
	default:
		return
	}
	pkg := typ.PkgPath()[strings.LastIndex(typ.PkgPath(), "/")+1:]
	if d, ok := docs[pkg+"."+typ.Name()]; ok && s["description"] == nil {
		s["description"] = d
	}
	props, _ := s["properties"].(map[string]any)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			describe(f.Type, s, docs)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		prop, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		if d, ok := docs[pkg+"."+typ.Name()+"."+f.Name]; ok {
			if rest, ok := strings.CutPrefix(d, f.Name+" "); ok {
				d = name + " " + rest
			}
			prop["description"] = d
		}
		describe(f.Type, prop, docs)
	}
}
