package attacker

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/attacker/mcp"
	"github.com/mcpload/mcpload/attacker/policy"
	"github.com/mcpload/mcpload/attacker/secrets"
	"github.com/mcpload/mcpload/scenarios"
)

// stderrFolder is where stdio servers' stderr logs go in the run folder.
const stderrFolder = "stderr"

// newMCPClient builds the client of MCP server name: a child process over
// stdio for a command, the legacy HTTP+SSE transport for transport: sse,
// Streamable HTTP otherwise.
func newMCPClient(sc *scenarios.Scenario, name string, cfg jobConfig, timeout time.Duration, rd *secrets.Redactor, retry *policy.Retry) (mcp.Client, error) {
	outputs, err := mcp.CompileOutputSchemas(sc.Tools, name)
	if err != nil {
		return nil, err
	}
	caps, err := mcpCapabilities(sc, name, cfg, timeout, rd)
	if err != nil {
		return nil, err
	}
	if s := sc.MCPServers[name]; s != nil && s.IsStdio() {
		dir := ""
		if cfg.RunDir != "" {
			dir = filepath.Join(cfg.RunDir, stderrFolder)
		}
		argv := s.Command
		if argv[0] == scenarios.SelfCommand {
			self, err := cfg.self()
			if err != nil {
				return nil, fmt.Errorf("mcp_servers.%s.command: %w", name, err)
			}
			argv = append([]string{self}, argv[1:]...)
		}
		c := mcp.NewStdio(name, argv, s.Env, s.Dir, dir, timeout, rd)
		c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
		c.SetOutputSchemas(outputs)
		c.SetCapabilities(caps)
		c.Protocol, c.Discover = s.Protocol, s.Discover
		return c, nil
	}
	url, err := serverURL(sc, name, cfg)
	if err != nil {
		return nil, err
	}
	hc, hdrs := cfg.HTTPClient, http.Header(nil)
	if s := sc.MCPServers[name]; s != nil {
		if hdrs, _, err = secrets.Headers(s.Headers, s.BearerTokenEnv, cfg.Getenv); err != nil {
			return nil, fmt.Errorf("mcp server %q: %w", name, err)
		}
		if hc, err = targetClient(cfg, s.TLS); err != nil {
			return nil, fmt.Errorf("mcp server %q: %w", name, err)
		}
	}
	if s := sc.MCPServers[name]; s != nil && s.Transport == scenarios.MCPTransportSSE {
		c := mcp.NewLegacySSE(hc, name, url, timeout, rd)
		c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
		c.Headers = hdrs
		c.SetOutputSchemas(outputs)
		c.SetCapabilities(caps)
		return c, nil
	}
	c := mcp.NewStreamable(hc, name, url, timeout, rd)
	c.Retry, c.Seed, c.MaxBytes = retry, uint64(sc.Seed), sc.Client.Limits.MaxResponseBytes
	c.Headers = hdrs
	c.SetOutputSchemas(outputs)
	c.SetCapabilities(caps)
	c.Redirects = httpx.Redirects{Max: sc.Client.FollowRedirects, AllowRemote: cfg.AllowRemote, Drop: slices.Collect(maps.Keys(hdrs))}
	if s := sc.MCPServers[name]; s != nil {
		c.Protocol, c.Discover = s.Protocol, s.Discover
	}
	return c, nil
}

// self is the mcpload binary a stdio server's command "mcpload" runs:
// jobConfig.Self, or the running executable.
func (cfg jobConfig) self() (string, error) {
	if cfg.Self != "" {
		return cfg.Self, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("finding this mcpload binary: %w", err)
	}
	return exe, nil
}
