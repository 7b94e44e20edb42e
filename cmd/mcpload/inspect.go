package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/scenarios"
)

// inspectFlags are inspect's options.
type inspectFlags struct {
	command     bool
	name        string
	protocol    string
	transport   string
	timeout     time.Duration
	allowRemote bool
}

func newInspectCmd(stdout, stderr io.Writer) *cobra.Command {
	var f inspectFlags
	c := &cobra.Command{
		Use:   "inspect URL | inspect --command -- ARGV...",
		Short: "List an MCP server's tools, resources and prompts, and print a scenario to start from",
		Example: `  mcpload inspect http://127.0.0.1:8080/mcp > my-server.yaml
  mcpload inspect --command -- npx -y @modelcontextprotocol/server-everything stdio`,
		Args: func(cmd *cobra.Command, a []string) error {
			if f.command {
				return args(1, -1, "the server's ARGV after --command --")(cmd, a)
			}
			return args(1, 1, "exactly one URL (or --command -- ARGV...)")(cmd, a)
		},
		RunE: func(_ *cobra.Command, a []string) error { return inspect(a, f, stdout, stderr) },
	}
	fs := c.Flags()
	fs.BoolVar(&f.command, "command", false, "the arguments are the argv of a stdio server to run, not a URL")
	fs.StringVar(&f.name, "name", "server", "the server's name in the snippet's mcp_servers")
	fs.StringVar(&f.protocol, "protocol", "", "the MCP revision and lane (default auto: server/discover, then initialize if refused)")
	fs.StringVar(&f.transport, "transport", "", "streamable (default) or sse, the HTTP+SSE transport of 2024-11-05")
	durationVar(fs, &f.timeout, "timeout", "per-request timeout, as in 30s (default 60s)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a server that is not on loopback")
	_ = c.RegisterFlagCompletionFunc("protocol", cobra.FixedCompletions(scenarios.MCPClientProtocols(), cobra.ShellCompDirectiveNoFileComp))
	return c
}

// inspect connects to the server of a, lists what it offers and prints a
// snippet. A server that cannot be reached or listed is exit 1; a bad
// command line or a target off loopback without --allow-remote, exit 2.
func inspect(a []string, f inspectFlags, stdout, stderr io.Writer) error {
	m := &scenarios.MCPServer{Protocol: f.protocol, Transport: f.transport}
	target := strings.Join(a, " ")
	if f.command {
		m.Command = a
	} else {
		m.URL = a[0]
	}
	if m.Protocol == "" && m.Transport != scenarios.MCPTransportSSE {
		m.Protocol = scenarios.MCPProtocolAuto // as the SDKs negotiate
	}
	sc := &scenarios.Scenario{Version: 1, Name: "inspect-" + f.name, MCPServers: map[string]*scenarios.MCPServer{f.name: m},
		MCPDirect: &scenarios.MCPDirect{Server: f.name, Mix: []scenarios.MCPOp{{Op: scenarios.MCPOpToolsList}}},
		Load:      scenarios.LoadShape{Stages: []scenarios.Stage{{Rate: 1, Duration: scenarios.Duration(time.Second)}}}}
	sc.ApplyDefaults()
	if f.timeout > 0 {
		sc.Client.Timeout = scenarios.Duration(f.timeout)
	}
	if err := sc.Validate(); err != nil {
		return invalid(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	in, err := attacker.Inspect(ctx, sc, f.name, attacker.WithAllowRemote(f.allowRemote))
	var cfgErr *attacker.ConfigError
	if errors.As(err, &cfgErr) {
		return invalid(err)
	}
	if err != nil {
		return err
	}
	header := []string{
		fmt.Sprintf("mcpload inspect %s", target),
		fmt.Sprintf("protocol %s: %d tools (%d pages of tools/list), %s, %s", in.Protocol, len(in.Tools.Tools), in.Tools.Pages,
			counted(in.Resources, "resources", in.ResourcesErr), counted(in.Prompts, "prompts", in.PromptsErr)),
	}
	snippet, err := scenarios.Snippet(f.name, m, in.Tools.Tools, header)
	if err != nil {
		return err
	}
	_, err = stdout.Write(snippet)
	return err
}

// counted is "n what", or why there is no count.
func counted(n int, what, why string) string {
	if n < 0 {
		return fmt.Sprintf("%s not listed (%s)", what, why)
	}
	return fmt.Sprintf("%d %s", n, what)
}
