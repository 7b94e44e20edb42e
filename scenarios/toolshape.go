package scenarios

// ToolAnnotations are MCP's hints about what a tool does (the Tool's
// annotations). mcpload sends none of them anywhere: they are kept so that a
// server's tools/list answer reads back whole, and printed by inspect.
type ToolAnnotations struct {
	Title           string `yaml:"title,omitempty" json:"title,omitempty"`
	ReadOnlyHint    *bool  `yaml:"readOnlyHint,omitempty" json:"readOnlyHint,omitempty"`
	DestructiveHint *bool  `yaml:"destructiveHint,omitempty" json:"destructiveHint,omitempty"`
	IdempotentHint  *bool  `yaml:"idempotentHint,omitempty" json:"idempotentHint,omitempty"`
	OpenWorldHint   *bool  `yaml:"openWorldHint,omitempty" json:"openWorldHint,omitempty"`
}

// ToolExecution is how a tool runs (MCP 2025-11-25): whether it may run as
// a task.
type ToolExecution struct {
	// TaskSupport is "forbidden" (the spec's default), "optional" or
	// "required".
	TaskSupport string `yaml:"taskSupport,omitempty" json:"taskSupport,omitempty"`
}

// Task support values of ToolExecution.TaskSupport.
const (
	TaskSupportForbidden = "forbidden"
	TaskSupportOptional  = "optional"
	TaskSupportRequired  = "required"
)

// Icon is an MCP icon: an http(s) or data: URI, with optional MIME type,
// sizes and theme.
type Icon struct {
	Src      string   `yaml:"src" json:"src"`
	MimeType string   `yaml:"mimeType,omitempty" json:"mimeType,omitempty"`
	Sizes    []string `yaml:"sizes,omitempty" json:"sizes,omitempty"`
	// Theme is "light" or "dark", the background the icon is drawn for.
	Theme string `yaml:"theme,omitempty" json:"theme,omitempty"`
}

// DiscoversTools reports whether any MCP server of s lists its tools at
// start (discover_tools), so that tools may be named before they are known.
func (s *Scenario) DiscoversTools() bool {
	for _, m := range s.MCPServers {
		if m != nil && m.DiscoverTools {
			return true
		}
	}
	return false
}

// MergeDiscovered makes the tools that mcp_servers entry server listed
// part of s.Tools. A listed tool that no tool of s names is added, with
// Server set. A declared tool of the same name on the same server keeps
// every field it sets and takes the listed tool's value for each field it
// leaves out (empty or absent): declared wins, field by field. A listed
// tool whose name a tool of another server already has is left out, and
// named in shadowed: names are unique in a scenario, and the first wins.
// A listed tool that the scenario could not hold (see Refusal) is left out
// too, named with the reason in refused, so that the resolved scenario
// still loads. s.Tools is replaced, never changed in place, so that
// whoever holds the old tools (the mock) is not raced.
func (s *Scenario) MergeDiscovered(server string, listed []*Tool) (shadowed, refused []string) {
	tools := make([]*Tool, len(s.Tools), len(s.Tools)+len(listed))
	copy(tools, s.Tools)
	at := make(map[string]int, len(tools))
	for i, t := range tools {
		if t != nil {
			if _, dup := at[t.Name]; !dup {
				at[t.Name] = i
			}
		}
	}
	for _, l := range listed {
		if l == nil {
			continue
		}
		i, ok := at[l.Name]
		switch {
		case ok && tools[i].Server != server:
			shadowed = append(shadowed, l.Name)
		case ok:
			if merged := mergeTool(tools[i], l); Refusal(merged) == "" || Refusal(tools[i]) != "" {
				tools[i] = merged
			} else {
				refused = append(refused, l.Name+": "+Refusal(merged))
			}
		default:
			if why := Refusal(l); why != "" {
				refused = append(refused, l.Name+": "+why)
				continue
			}
			t := *l
			t.Server = server
			at[t.Name] = len(tools)
			tools = append(tools, &t)
		}
	}
	s.Tools = tools
	return shadowed, refused
}

// mergeTool is declared with the fields it leaves out taken from listed.
func mergeTool(declared, listed *Tool) *Tool {
	t := *declared
	if t.Description == "" {
		t.Description = listed.Description
	}
	if t.InputSchema == nil {
		t.InputSchema = listed.InputSchema
	}
	if t.Title == "" {
		t.Title = listed.Title
	}
	if t.Annotations == nil {
		t.Annotations = listed.Annotations
	}
	if t.OutputSchema == nil {
		t.OutputSchema = listed.OutputSchema
	}
	if t.Execution == nil {
		t.Execution = listed.Execution
	}
	if t.Icons == nil {
		t.Icons = listed.Icons
	}
	if t.Meta == nil {
		t.Meta = listed.Meta
	}
	return &t
}
