package attacker

import (
	"path/filepath"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/scenarios"
)

// stderrFolder is where stdio servers' stderr logs go in the run folder.
const stderrFolder = "stderr"

// newMCPClient builds the client of MCP server name: a child process over
// stdio for a command, the legacy HTTP+SSE transport for transport: sse,
// Streamable HTTP otherwise.
func newMCPClient(sc *scenarios.Scenario, name string, cfg jobConfig, timeout time.Duration, rd *redactor, retry *policy.Retry) (mcp.Client, error) {
	caps, err := mcpCapabilities(sc, name, cfg, timeout, rd)
	if err != nil {
		return nil, err
	}
	if s := sc.MCPServers[name]; s != nil && s.IsStdio() {
		dir := ""
		if cfg.RunDir != "" {
			dir = filepath.Join(cfg.RunDir, stderrFolder)
		}
		c := mcp.NewStdio(name, s.Command, s.Env, s.Dir, dir, timeout, rd)
		c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
		c.SetCapabilities(caps)
		return c, nil
	}
	url, err := serverURL(sc, name, cfg)
	if err != nil {
		return nil, err
	}
	if s := sc.MCPServers[name]; s != nil && s.Transport == scenarios.MCPTransportSSE {
		c := mcp.NewLegacySSE(cfg.HTTPClient, name, url, timeout, rd)
		c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
		c.SetCapabilities(caps)
		return c, nil
	}
	c := mcp.NewStreamable(cfg.HTTPClient, name, url, timeout, rd)
	c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
	c.Redirects = httpx.Redirects{Max: sc.Client.FollowRedirects, AllowRemote: cfg.AllowRemote}
	c.SetCapabilities(caps)
	if s := sc.MCPServers[name]; s != nil {
		c.Protocol, c.Discover = s.Protocol, s.Discover
	}
	return c, nil
}
