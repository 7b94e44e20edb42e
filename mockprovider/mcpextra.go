package mockprovider

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/mcpload/mcpload/scenarios"
)

// Vocabulary of the synthetic tools of mcp_servers.NAME.mock.extra_tools:
// enough variety that a list of hundreds reads like the tool lists of real
// MCP servers (CRUD and search tools over business objects), with
// descriptions and schemas of their usual size.
var (
	extraDomains = []string{"crm", "billing", "tickets", "inventory", "calendar", "docs", "repo", "metrics", "hr", "shipping", "analytics", "storage"}
	extraVerbs   = []string{"search", "get", "list", "create", "update", "delete", "export", "sync", "archive", "summarize"}
	extraNouns   = []string{"contacts", "invoices", "orders", "events", "documents", "issues", "deployments", "reports", "accounts", "shipments", "employees", "dashboards"}
)

// extraParam is one property a synthetic tool may take.
type extraParam struct {
	name   string
	schema map[string]any
}

// extraParams is the pool of properties of synthetic tools.
var extraParams = []extraParam{
	{"query", map[string]any{"type": "string", "description": "Free-text query, matched against names, titles and descriptions."}},
	{"id", map[string]any{"type": "string", "description": "Identifier of the record, as returned by the list and search tools.", "pattern": "^[a-z0-9_-]{8,32}$"}},
	{"limit", map[string]any{"type": "integer", "description": "Maximum number of records to return.", "minimum": 1, "maximum": 100, "default": 20}},
	{"cursor", map[string]any{"type": "string", "description": "Opaque cursor from a previous page; omit it for the first page."}},
	{"status", map[string]any{"type": "string", "description": "Only records in this state.", "enum": []any{"open", "pending", "closed", "archived"}}},
	{"since", map[string]any{"type": "string", "format": "date-time", "description": "Only records changed at or after this time (RFC 3339)."}},
	{"until", map[string]any{"type": "string", "format": "date-time", "description": "Only records changed before this time (RFC 3339)."}},
	{"include_deleted", map[string]any{"type": "boolean", "description": "Also return records that were deleted in the last 30 days.", "default": false}},
	{"tags", map[string]any{"type": "array", "description": "Only records carrying all of these tags.", "items": map[string]any{"type": "string"}, "maxItems": 20}},
	{"owner_email", map[string]any{"type": "string", "format": "email", "description": "Email address of the record's owner."}},
	{"amount", map[string]any{"type": "number", "description": "Amount in the account's currency.", "minimum": 0}},
	{"sort", map[string]any{"type": "string", "description": "Sort order of the result.", "enum": []any{"newest", "oldest", "relevance", "name"}}},
	{"fields", map[string]any{"type": "array", "description": "Fields to return; all of them when omitted.", "items": map[string]any{"type": "string"}}},
	{"filter", map[string]any{
		"type":        "object",
		"description": "A condition on one field.",
		"properties": map[string]any{
			"field": map[string]any{"type": "string", "description": "The field to test."},
			"op":    map[string]any{"type": "string", "enum": []any{"eq", "ne", "gt", "lt", "contains"}},
			"value": map[string]any{"type": "string", "description": "The value to compare with."},
		},
		"required":             []any{"field", "op", "value"},
		"additionalProperties": false,
	}},
}

// extraTools builds n synthetic tools for server: the same ones for the
// same seed and server. Their names do not collide with taken (the
// scenario's tools). Each answers a short text at once.
func extraTools(server string, n int, seed int64, taken map[string]bool) ([]*mockTool, error) {
	if n <= 0 {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), endpointKey("extra_tools", server)))
	tools := make([]*mockTool, 0, n)
	for i := range n {
		domain := extraDomains[rng.IntN(len(extraDomains))]
		verb := extraVerbs[rng.IntN(len(extraVerbs))]
		noun := extraNouns[rng.IntN(len(extraNouns))]
		name := fmt.Sprintf("%s_%s_%s_%04d", domain, verb, noun, i)
		for taken[name] {
			name += "_x"
		}
		def := &scenarios.Tool{
			Name:        name,
			Description: extraDescription(rng, domain, verb, noun),
			InputSchema: extraSchema(rng),
			Server:      server,
			Mock:        scenarios.ToolMock{Result: verb + " " + noun + ": ok"},
		}
		mt, err := newMockTool(def)
		if err != nil {
			return nil, fmt.Errorf("extra tool %q: %w", name, err)
		}
		tools = append(tools, mt)
	}
	return tools, nil
}

// extraDescription writes a tool description of one to three sentences,
// the length real servers give theirs.
func extraDescription(rng *rand.Rand, domain, verb, noun string) string {
	var sb strings.Builder
	sb.WriteString(strings.ToUpper(verb[:1]) + verb[1:] + " " + noun + " in the " + strings.ToUpper(domain) + " system.")
	extras := []string{
		" Returns the matching records, newest first; use the filters to narrow the result and the cursor to walk large result sets.",
		" Requires the " + domain + ":" + verb + " scope; calls are rate limited per workspace.",
		" Changes are visible to other tools within a few seconds.",
		" Large results are truncated: ask for fewer fields when you only need identifiers.",
	}
	for _, k := range rng.Perm(len(extras))[:rng.IntN(3)] {
		sb.WriteString(extras[k])
	}
	return sb.String()
}

// extraSchema draws an object schema of 2 to 7 properties, one or two of
// them required.
func extraSchema(rng *rand.Rand) map[string]any {
	props := map[string]any{}
	var required []any
	for j, k := range rng.Perm(len(extraParams))[:2+rng.IntN(6)] {
		p := extraParams[k]
		props[p.name] = p.schema
		if j < 1+rng.IntN(2) && p.name != "include_deleted" {
			required = append(required, p.name)
		}
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}
	return schema
}
