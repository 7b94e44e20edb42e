package scenarios

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/mcpload/mcpload/wire/anthropic"
	"github.com/mcpload/mcpload/wire/gemini"
	"github.com/mcpload/mcpload/wire/openaichat"
)

// ToolsBytes measures tools as a model request of each API carries them:
// the JSON of the request's "tools" field, keyed by API (APIOpenAI,
// APIAnthropic, APIGemini). It translates as the attacker's dialects do
// (OpenAI tools[].function.parameters, Anthropic tools[].input_schema,
// Gemini tools[].functionDeclarations[].parameters in Gemini's Schema
// subset); the attacker's tests hold the two to the same bytes. A model
// is billed for these bytes as input on every call that offers the tools.
func ToolsBytes(tools []*Tool) (map[string]int, error) {
	out := map[string]int{APIOpenAI: 0, APIAnthropic: 0, APIGemini: 0}
	if len(tools) == 0 {
		return out, nil
	}
	oa := make([]openaichat.Tool, 0, len(tools))
	an := make([]anthropic.Tool, 0, len(tools))
	ge := make([]gemini.FunctionDeclaration, 0, len(tools))
	for _, t := range tools {
		schema := json.RawMessage(`{"type":"object"}`)
		if t.InputSchema != nil {
			b, err := json.Marshal(t.InputSchema)
			if err != nil {
				return nil, fmt.Errorf("tool %q: marshalling inputSchema: %w", t.Name, err)
			}
			schema = b
		}
		oa = append(oa, openaichat.Tool{Type: "function", Function: openaichat.FunctionDecl{Name: t.Name, Description: t.Description, Parameters: schema}})
		an = append(an, anthropic.Tool{Name: t.Name, Description: t.Description, InputSchema: schema})
		params, err := GeminiParameters(t)
		if err != nil {
			return nil, err
		}
		ge = append(ge, gemini.FunctionDeclaration{Name: t.Name, Description: t.Description, Parameters: params})
	}
	for api, v := range map[string]any{APIOpenAI: oa, APIAnthropic: an, APIGemini: []gemini.Tool{{FunctionDeclarations: ge}}} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("marshalling %s tools: %w", api, err)
		}
		out[api] = len(b)
	}
	return out, nil
}

// MCPToolsBytes is the size of tools as an MCP server lists them: the
// JSON of tools/list's "tools" array, with every field of MCP's Tool the
// scenario gives.
func MCPToolsBytes(tools []*Tool) (int, error) {
	type mcpTool struct {
		Name         string           `json:"name"`
		Title        string           `json:"title,omitempty"`
		Description  string           `json:"description,omitempty"`
		InputSchema  map[string]any   `json:"inputSchema"`
		OutputSchema map[string]any   `json:"outputSchema,omitempty"`
		Annotations  *ToolAnnotations `json:"annotations,omitempty"`
		Execution    *ToolExecution   `json:"execution,omitempty"`
		Icons        []Icon           `json:"icons,omitempty"`
		Meta         map[string]any   `json:"_meta,omitempty"`
	}
	list := make([]mcpTool, 0, len(tools))
	for _, t := range tools {
		schema := t.InputSchema
		if schema == nil {
			schema = map[string]any{"type": "object"}
		}
		list = append(list, mcpTool{t.Name, t.Title, t.Description, schema, t.OutputSchema, t.Annotations, t.Execution, t.Icons, t.Meta})
	}
	b, err := json.Marshal(list)
	if err != nil {
		return 0, fmt.Errorf("marshalling tools: %w", err)
	}
	return len(b), nil
}

// GeminiParameters translates t's inputSchema into a Gemini function's
// parameters: the Schema of the Gemini API, an OpenAPI subset. Keywords it
// does not know (additionalProperties, $schema, ...) are refused by the
// API, so they are left out; a type list with "null" becomes nullable;
// const becomes a one-value enum. An object without properties, which the
// API refuses too, means no parameters at all (nil).
func GeminiParameters(t *Tool) (json.RawMessage, error) {
	if t.InputSchema == nil {
		return nil, nil
	}
	raw, err := json.Marshal(t.InputSchema)
	if err != nil {
		return nil, fmt.Errorf("tool %q: marshalling inputSchema: %w", t.Name, err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, fmt.Errorf("tool %q: inputSchema is not an object: %w", t.Name, err)
	}
	out := geminiSchema(schema)
	if props, _ := out["properties"].(map[string]any); len(props) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("tool %q: marshalling parameters: %w", t.Name, err)
	}
	return b, nil
}

// geminiSchemaKeys are the Schema fields the Gemini API accepts.
var geminiSchemaKeys = []string{
	"type", "format", "title", "description", "nullable", "enum", "items", "properties", "required",
	"minItems", "maxItems", "minProperties", "maxProperties", "minLength", "maxLength", "pattern",
	"minimum", "maximum", "anyOf", "propertyOrdering", "default", "example",
}

// geminiSchema translates one JSON Schema object (see geminiParameters).
func geminiSchema(s map[string]any) map[string]any {
	out := make(map[string]any, len(s))
	for k, v := range s {
		switch k {
		case "type":
			if types, ok := v.([]any); ok {
				var kept []any
				for _, t := range types {
					if t == "null" {
						out["nullable"] = true
						continue
					}
					kept = append(kept, t)
				}
				if len(kept) == 1 {
					out["type"] = kept[0]
				} else if len(kept) > 1 {
					anyOf := make([]any, len(kept))
					for i, t := range kept {
						anyOf[i] = map[string]any{"type": t}
					}
					out["anyOf"] = anyOf
				}
				continue
			}
			out[k] = v
		case "const":
			if str, ok := v.(string); ok {
				out["enum"] = []any{str}
			}
		case "enum":
			// The API takes string enums only.
			if vals, ok := v.([]any); ok && !slices.ContainsFunc(vals, func(x any) bool { _, ok := x.(string); return !ok }) {
				out[k] = v
			}
		case "properties":
			if props, ok := v.(map[string]any); ok {
				tp := make(map[string]any, len(props))
				for name, p := range props {
					if ps, ok := p.(map[string]any); ok {
						tp[name] = geminiSchema(ps)
					}
				}
				out[k] = tp
			}
		case "items":
			if is, ok := v.(map[string]any); ok {
				out[k] = geminiSchema(is)
			}
		case "anyOf", "oneOf":
			if alts, ok := v.([]any); ok {
				ta := make([]any, 0, len(alts))
				for _, a := range alts {
					if as, ok := a.(map[string]any); ok {
						ta = append(ta, geminiSchema(as))
					}
				}
				out["anyOf"] = ta
			}
		default:
			if slices.Contains(geminiSchemaKeys, k) {
				out[k] = v
			}
		}
	}
	return out
}
