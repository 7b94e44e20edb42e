package docs

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/scenarios"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite schemas/summary.schema.json and schemas/attempts.schema.json from the Go types")

// TestGenerateSchemas derives the results schemas from the Go types that
// write them (report.Summary, record.Attempt), when -update-schemas is
// given: go test ./docs -run TestGenerateSchemas -update-schemas. The
// results folder changes only by adding fields, so every object is left
// open to properties a later version adds; TestDocs checks that real runs
// match.
func TestGenerateSchemas(t *testing.T) {
	if !*updateSchemas {
		t.Skip("rewrites the schemas only with -update-schemas")
	}
	summary, err := jsonschema.For[report.Summary](nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema(t, "summary.schema.json", summary, schemaHead{
		title:       "mcpload summary.json (mcpload.summary/v1)",
		description: "What a run measured, in one document: the contract CI scripts read. It changes only by adding fields. See docs/results.md.",
		fixed: map[string]map[string]any{
			"schema":  {"const": report.SummarySchema},
			"status":  {"enum": []string{record.StatusRunning, record.StatusComplete, record.StatusInterrupted, record.StatusAborted, record.StatusFailed}},
			"kind":    {"enum": []string{scenarios.KindConversation, scenarios.KindMCPDirect}},
			"started": {"format": "date-time"},
			"ended":   {"format": "date-time"},
		},
	})
	attempt, err := jsonschema.For[record.Attempt](nil)
	if err != nil {
		t.Fatal(err)
	}
	writeSchema(t, "attempts.schema.json", attempt, schemaHead{
		title:       "mcpload attempts.jsonl line",
		description: "One HTTP exchange: one line of attempts.jsonl. Lines change only by adding fields. See docs/results.md.",
		fixed: map[string]map[string]any{
			"kind":    {"enum": []string{record.StepModel, record.StepTool, record.StepMCP, record.KindSession}},
			"start":   {"format": "date-time"},
			"outcome": {"description": "The outcome class: ok, timeout, 429, 5xx, 4xx, connection, protocol, tool_error, canceled, ... (docs/measuring.md); later versions add classes."},
		},
	})
}

type schemaHead struct {
	title, description string
	// fixed adds keywords to top-level properties.
	fixed map[string]map[string]any
}

func writeSchema(t *testing.T, name string, s *jsonschema.Schema, h schemaHead) {
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
