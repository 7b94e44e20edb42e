package scenarios

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
)

// MCPClientCaps is mcp_servers.NAME.client: the capabilities mcpload's
// MCP client declares to the server, and the scripted answers it gives to
// the server's requests for them. A capability left out is not declared,
// and the server's requests for it are refused with JSON-RPC -32601.
type MCPClientCaps struct {
	// Roots declares the roots capability; roots/list answers these.
	// An empty list (roots: []) declares the capability with no roots.
	Roots []MCPRoot `yaml:"roots,omitempty"`
	// Sampling declares sampling; sampling/createMessage is answered with
	// its scripted message, or by its provider.
	Sampling *MCPSampling `yaml:"sampling,omitempty"`
	// Elicitation declares elicitation; elicitation/create is answered
	// with its scripted action and content.
	Elicitation *MCPElicitation `yaml:"elicitation,omitempty"`
}

// MCPRoot is one root the client exposes, in MCP's own fields.
type MCPRoot struct {
	// URI is a file:// URI, as MCP requires of roots.
	URI  string `yaml:"uri"`
	Name string `yaml:"name,omitempty"`
}

// MCPSampling is how mcpload answers sampling/createMessage: a scripted
// assistant message, or, with Provider, one chat request to that
// provider of the scenario, whose answer is returned.
type MCPSampling struct {
	// Text is the scripted message's text; default DefaultSamplingText.
	Text string `yaml:"text,omitempty"`
	// Model is the model the answer names; default DefaultSamplingModel
	// (a provider's answer names the provider's model).
	Model string `yaml:"model,omitempty"`
	// StopReason is the answer's stopReason: endTurn (default),
	// stopSequence or maxTokens.
	StopReason string `yaml:"stop_reason,omitempty"`
	// Provider names a providers entry that answers instead of the
	// script: the request's messages go to it as one chat request.
	Provider string `yaml:"provider,omitempty"`
}

// MCPElicitation is how mcpload answers elicitation/create.
type MCPElicitation struct {
	// Action is accept (default), decline or cancel.
	Action string `yaml:"action,omitempty"`
	// Content is what the user "entered", for accept: a flat object of
	// strings, numbers, booleans or lists of strings, as MCP allows.
	Content map[string]any `yaml:"content,omitempty"`
}

// Defaults of the scripted answers.
const (
	DefaultSamplingText  = "mcpload scripted sample"
	DefaultSamplingModel = "mcpload-scripted"
	SamplingEndTurn      = "endTurn"
	ElicitAccept         = "accept"
)

// SamplingStopReasons are the values of sampling.stop_reason.
func SamplingStopReasons() []string { return []string{SamplingEndTurn, "stopSequence", "maxTokens"} }

// ElicitActions are the values of elicitation.action.
func ElicitActions() []string { return []string{ElicitAccept, "decline", "cancel"} }

// mcpClientCaps checks mcp_servers.NAME.client.
func (v *validator) mcpClientCaps(s *Scenario, path string, m *MCPServer) {
	if m == nil || m.Client == nil {
		return
	}
	cp := field(path, "client")
	for i, r := range m.Client.Roots {
		rp := index(field(cp, "roots"), i)
		u, err := url.Parse(r.URI)
		switch {
		case r.URI == "":
			v.errorf(rp, "uri missing; a file:// URI, as file:///work/repo")
		case err != nil || u.Scheme != "file":
			v.errorf(field(rp, "uri"), "%q: roots are file:// URIs in MCP", r.URI)
		}
	}
	if sm := m.Client.Sampling; sm != nil {
		sp := field(cp, "sampling")
		if sm.StopReason != "" && !slices.Contains(SamplingStopReasons(), sm.StopReason) {
			v.errorf(field(sp, "stop_reason"), "%s", unknownValue("stop reason", sm.StopReason, SamplingStopReasons()))
		}
		if sm.Provider != "" {
			if _, ok := s.Providers[sm.Provider]; !ok {
				v.errorf(field(sp, "provider"), "%q is not in providers (providers: %s)", sm.Provider, listOrNone(slices.Sorted(maps.Keys(s.Providers))))
			}
			if sm.Text != "" || sm.Model != "" || sm.StopReason != "" {
				v.errorf(field(sp, "provider"), "a provider answers sampling: drop text, model and stop_reason, which script the answer")
			}
		}
	}
	if el := m.Client.Elicitation; el != nil {
		ep := field(cp, "elicitation")
		if el.Action != "" && !slices.Contains(ElicitActions(), el.Action) {
			v.errorf(field(ep, "action"), "%s", unknownValue("action", el.Action, ElicitActions()))
		}
		if slices.Contains(ElicitActions(), el.Action) && el.Action != ElicitAccept && len(el.Content) > 0 {
			v.errorf(field(ep, "content"), "only an accept carries content, not %s", el.Action)
		}
		for _, k := range slices.Sorted(maps.Keys(el.Content)) {
			if msg := elicitValue(el.Content[k]); msg != "" {
				v.errorf(mapKey(field(ep, "content"), k), "%s", msg)
			}
		}
	}
}

// elicitValue says why v cannot be an elicitation answer's value, or "".
func elicitValue(v any) string {
	switch x := v.(type) {
	case string, bool, int, int64, uint64, float64:
		return ""
	case []any:
		for _, e := range x {
			if _, ok := e.(string); !ok {
				return fmt.Sprintf("a list holds strings only (MCP's multi-select), got %T", e)
			}
		}
		return ""
	}
	return fmt.Sprintf("expected a string, number, boolean or list of strings, got %T", v)
}
