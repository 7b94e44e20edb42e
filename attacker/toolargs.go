package attacker

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/scenarios"
)

// argValidator checks a model's tool-call arguments against the tools'
// inputSchemas before the call goes out, as a careful agent does: a call
// with bad arguments is answered locally with an error, not sent.
type argValidator struct {
	schemas map[string]*jsonschema.Resolved
}

// newArgValidator compiles every tool's inputSchema once.
func newArgValidator(tools []*scenarios.Tool) (*argValidator, error) {
	v := &argValidator{schemas: make(map[string]*jsonschema.Resolved, len(tools))}
	for _, t := range tools {
		if t.InputSchema == nil {
			continue // no schema: any object goes
		}
		raw, err := json.Marshal(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("tool %q: marshalling inputSchema: %w", t.Name, err)
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("tool %q: inputSchema is not a JSON Schema: %w", t.Name, err)
		}
		rs, err := s.Resolve(nil)
		if err != nil {
			return nil, fmt.Errorf("tool %q: resolving inputSchema: %w", t.Name, err)
		}
		v.schemas[t.Name] = rs
	}
	return v, nil
}

// check parses args (the model's arguments string) and validates it against
// tool's schema. It returns the arguments to send: args itself when valid,
// "{}" for an empty string (some models send "" for a tool without
// parameters).
func (v *argValidator) check(tool, args string) ([]byte, error) {
	b := bytes.TrimSpace([]byte(args))
	if len(b) == 0 {
		b = []byte("{}")
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("arguments of %s are not a JSON object: %s", tool, httpx.Truncate(args, httpx.MaxErrorDetail))
	}
	if rs := v.schemas[tool]; rs != nil {
		if err := rs.Validate(obj); err != nil {
			return nil, fmt.Errorf("arguments of %s do not match its inputSchema: %w", tool, err)
		}
	}
	return b, nil
}
