package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/attacker/httpx"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

func newMockCmd(stdout, stderr io.Writer) *cobra.Command {
	var listen, scenario, server, upstream string
	var seed int64
	var stdio, allowRemote bool
	c := &cobra.Command{
		Use:   "mock",
		Short: "Serve the mock provider and MCP server of a scenario until Ctrl-C",
		Long: `Serve the mock provider and MCP servers of a scenario over HTTP until Ctrl-C,
or, with --stdio, one of its MCP servers over stdin and stdout until stdin
closes, as a local MCP server is launched by its client.

With --upstream, the mock is a fault proxy: it forwards every request to
the same path on the upstream (a real provider, gateway or MCP server),
streams its answers back untouched, and applies the scenario's fault
timeline and mock.limits in front of it, answering in the provider's own
error shapes (docs/faults-and-policies.md).`,
		Example: `  mcpload mock --listen 127.0.0.1:8080 --scenario quickstart
  mcpload mock --stdio --scenario mcp-conformance
  mcpload mock --scenario rate-limit-storm --upstream http://127.0.0.1:4000`,
		Args: args(0, 0, "no positional arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stdio {
				if cmd.Flags().Changed("listen") {
					return invalid(errors.New("--listen and --stdio exclude each other: stdio has no address"))
				}
				if upstream != "" {
					return invalid(errors.New("--upstream applies to the HTTP mock; over --stdio there is nothing to proxy"))
				}
				return serveMockStdio(scenario, server, seed, stderr)
			}
			if cmd.Flags().Changed("mcp-server") {
				return invalid(errors.New("--mcp-server applies to --stdio; over HTTP every server has its own path, /mcp/NAME"))
			}
			var opts []mockprovider.Option
			if upstream != "" {
				if err := httpx.CheckTarget(upstream, allowRemote); err != nil {
					return invalid(fmt.Errorf("--upstream: %w", err))
				}
				opts = append(opts, mockprovider.WithUpstream(upstream))
			}
			return serveMock(listen, scenario, seed, stdout, opts...)
		},
	}
	fs := c.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&scenario, "scenario", "quickstart", "scenario whose providers, tools and script the mock serves")
	fs.Int64Var(&seed, "seed", 0, "seed for latency draws (default: the scenario's)")
	fs.BoolVar(&stdio, "stdio", false, "serve one MCP server of the scenario over stdin and stdout instead of HTTP")
	fs.StringVar(&server, "mcp-server", "", "with --stdio, the mcp_servers entry to serve (default: every tool, as /mcp)")
	fs.StringVar(&upstream, "upstream", "", "be a fault proxy: forward every request to this URL (same path) and apply the scenario's faults and limits in front of it")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow an --upstream that is not on loopback")
	_ = c.RegisterFlagCompletionFunc("scenario", completeScenario)
	return c
}

// serveMockStdio serves one MCP server of the scenario over stdin and
// stdout: stdout carries JSON-RPC only, so what a person reads goes to
// stderr.
func serveMockStdio(scenario, server string, seed int64, stderr io.Writer) error {
	sc, m, err := newMock(scenario, seed)
	if err != nil {
		return err
	}
	defer m.Close()
	names := m.MCPServerNames()
	if !slices.Contains(names, server) {
		return invalid(fmt.Errorf("--mcp-server %q: scenario %s has no mock MCP server by that name (mock servers: %s)", server, sc.Name, strings.Join(names[1:], ", ")))
	}
	label := server
	if label == "" {
		label = "every tool"
	}
	fmt.Fprintf(stderr, "mcpload mock serving scenario %s, MCP server %s, over stdio\n", sc.Name, label)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return m.ServeStdio(ctx, server, os.Stdin, os.Stdout)
}

// newMock loads the scenario and builds its mock, drawing from seed when
// it is set.
func newMock(scenario string, seed int64, opts ...mockprovider.Option) (*scenarios.Scenario, *mockprovider.Server, error) {
	sc, err := scenarios.Load(scenario)
	if err != nil {
		return nil, nil, invalid(err)
	}
	if seed != 0 {
		sc.Seed = seed
	}
	m, err := mockprovider.New(sc, append([]mockprovider.Option{mockprovider.WithSeed(sc.Seed)}, opts...)...)
	return sc, m, err
}

func serveMock(listen, scenario string, seed int64, stdout io.Writer, opts ...mockprovider.Option) error {
	// The admin API lets a client nobody here wrote be rehearsed: change
	// the fault timeline and limits while the mock runs.
	sc, m, err := newMock(scenario, seed, append(opts, mockprovider.WithAdmin(true))...)
	if err != nil {
		return err
	}
	url, err := m.Start(listen)
	if err != nil {
		return err
	}
	defer m.Close()

	fmt.Fprintf(stdout, "mcpload mock serving scenario %s at %s\n", sc.Name, url)
	if up := m.Upstream(); up != "" {
		fmt.Fprintf(stdout, "fault proxy: every request goes on to %s, through the scenario's faults and limits\n", up)
	}
	fmt.Fprintln(stdout)
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	for _, e := range m.Endpoints() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Method, e.URL, e.Description)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nPress Ctrl-C to stop.")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}
