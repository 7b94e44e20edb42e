package attacker

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// ToolsFile is the run folder's record of the tools that servers with
// discover_tools listed at start.
const ToolsFile = "tools.json"

// Discovered is tools.json: what each server with discover_tools listed.
type Discovered struct {
	Servers []DiscoveredServer `json:"servers"`
}

// DiscoveredServer is the listing of one server.
type DiscoveredServer struct {
	Server string `json:"server"`
	// Protocol is the revision of the session that listed the tools.
	Protocol string  `json:"protocol"`
	Pages    int     `json:"pages"`
	TookMS   float64 `json:"took_ms"`
	// Tools are the tools as the server sent them.
	Tools []json.RawMessage `json:"tools"`
	// Shadowed are the listed tools left out because a tool of another
	// server already has the name.
	Shadowed []string `json:"shadowed,omitempty"`
	// Refused are the listed tools left out because a scenario cannot
	// hold them (scenarios.Refusal), each as "NAME: why".
	Refused []string `json:"refused,omitempty"`
}

// discoverTools lists the tools of each server of sc with
// discover_tools (mcp.ListTools: a session, tools/list page by page, the
// session closed), over the server's own transport and lane, and merges
// them into sc.Tools (scenarios.MergeDiscovered). A server that cannot be
// listed is an error with its answer, redacted; a scripted call that names
// no tool, or whose arguments fail the discovered inputSchema, is a
// *ConfigError holding scenarios.Errors. With no such server it does
// nothing and returns nil.
func discoverTools(ctx context.Context, sc *scenarios.Scenario, cfg jobConfig) (*Discovered, error) {
	if !sc.DiscoversTools() {
		return nil, nil
	}
	cfg.HTTPClient = httpx.NoRedirects(cfg.HTTPClient)
	cfg.RunDir = "" // nothing is written before the run starts
	timeout := attemptTimeout(sc)
	found := &Discovered{}
	for _, name := range slices.Sorted(maps.Keys(sc.MCPServers)) {
		if s := sc.MCPServers[name]; s == nil || !s.DiscoverTools {
			continue
		}
		rd := runRedactor(sc, cfg.Getenv)
		c, err := newMCPClient(sc, name, cfg, timeout, rd, nil)
		if err != nil {
			return nil, &ConfigError{Scenario: sc.Name, Err: err}
		}
		start := time.Now()
		l, err := mcp.ListTools(ctx, c)
		_ = c.Close()
		if err != nil {
			return nil, fmt.Errorf("discover_tools: %w", err)
		}
		// What a server lists goes to the run folder: no key of the run
		// may ride along, not even in a description.
		ds := DiscoveredServer{
			Server: name, Protocol: l.Version, Pages: l.Pages,
			TookMS: float64(time.Since(start).Microseconds()) / 1000,
		}
		tools := l.Tools
		for i, raw := range l.Raw {
			clean := json.RawMessage(rd.Redact(string(raw)))
			ds.Tools = append(ds.Tools, clean)
			if string(clean) != string(raw) { // decoded again without the key
				if tools[i], err = mcp.ScenarioTool(clean); err != nil {
					return nil, fmt.Errorf("discover_tools: mcp server %q: tools/list: tool %d: %s", name, i, rd.Clip(err.Error()))
				}
			}
		}
		ds.Shadowed, ds.Refused = sc.MergeDiscovered(name, tools)
		found.Servers = append(found.Servers, ds)
	}
	if err := sc.CheckDiscovered(); err != nil {
		return nil, &ConfigError{Scenario: sc.Name, Err: fmt.Errorf("with the discovered tools:\n%w%s", err, found.refusedNote())}
	}
	// The resolved scenario is what the report, compare and a rerun read:
	// it must load as it is written.
	b, err := sc.Resolved()
	if err == nil {
		_, err = scenarios.Parse(record.ScenarioFile+" (resolved)", b)
	}
	if err != nil {
		return nil, &ConfigError{Scenario: sc.Name, Err: fmt.Errorf("with the discovered tools, the resolved scenario does not load:\n%w", err)}
	}
	return found, nil
}

// refusedNote lists the tools left out of the listings, for an error
// that may be about one of them.
func (d *Discovered) refusedNote() string {
	var b strings.Builder
	for _, s := range d.Servers {
		for _, r := range s.Refused {
			fmt.Fprintf(&b, "\n(mcp_servers.%s listed, but a scenario cannot hold, %s)", s.Server, r)
		}
	}
	return b.String()
}

// write writes d as dir's tools.json; a nil d writes nothing.
func (d *Discovered) write(dir string) error {
	if d == nil {
		return nil
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", ToolsFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ToolsFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", ToolsFile, err)
	}
	return nil
}

// Inspection is what a server offers, as mcpload inspect prints it.
type Inspection struct {
	// Protocol is the revision of the session.
	Protocol string
	Tools    *mcp.Listing
	// Resources and Prompts count what resources/list and prompts/list
	// listed, -1 when the server did not answer them; ResourcesErr and
	// PromptsErr then say why.
	Resources, Prompts       int
	ResourcesErr, PromptsErr string
}

// Inspect opens one session on MCP server name of sc, over its own
// transport and lane, and lists its tools (every page), resources and
// prompts. Nothing is recorded. A target off loopback without
// WithAllowRemote is a *ConfigError.
func Inspect(ctx context.Context, sc *scenarios.Scenario, name string, opts ...Option) (*Inspection, error) {
	o := options{getenv: os.Getenv}
	for _, opt := range opts {
		opt(&o)
	}
	hc := o.client
	if hc == nil {
		hc = defaultHTTPClient(nil, &sc.Client)
		defer hc.CloseIdleConnections()
	}
	cfg := jobConfig{MockURL: o.mockURL, HTTPClient: httpx.NoRedirects(hc), Getenv: o.getenv, AllowRemote: o.allowRemote}
	c, err := newMCPClient(sc, name, cfg, attemptTimeout(sc), runRedactor(sc, cfg.Getenv), nil)
	if err != nil {
		return nil, &ConfigError{Scenario: sc.Name, Err: err}
	}
	defer c.Close()
	sess, err := mcp.Open(ctx, c)
	if err != nil {
		return nil, err
	}
	defer c.End(context.WithoutCancel(ctx), sess, 0, 0, nil)
	l, err := mcp.ListToolsOn(ctx, c, sess)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Protocol: sess.Version(), Tools: l}
	count := func(method string) (int, string) {
		items, _, err := mcp.List(ctx, c, sess, method)
		if err != nil {
			return -1, err.Error()
		}
		return len(items), ""
	}
	in.Resources, in.ResourcesErr = count(mcp.MethodResourcesList)
	in.Prompts, in.PromptsErr = count(mcp.MethodPromptsList)
	return in, nil
}

// attemptTimeout is the bound of one attempt: client.timeout, or the
// default when the scenario sets none.
func attemptTimeout(sc *scenarios.Scenario) time.Duration {
	if t := sc.Client.Timeout.D(); t > 0 {
		return t
	}
	return defaultAttemptTimeout
}
