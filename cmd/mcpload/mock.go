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

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

func newMockCmd(stdout, stderr io.Writer) *cobra.Command {
	var listen, scenario, server string
	var seed int64
	var stdio bool
	c := &cobra.Command{
		Use:   "mock",
		Short: "Serve the mock provider and MCP server of a scenario until Ctrl-C",
		Long: `Serve the mock provider and MCP servers of a scenario over HTTP until Ctrl-C,
or, with --stdio, one of its MCP servers over stdin and stdout until stdin
closes, as a local MCP server is launched by its client.`,
		Example: `  mcpload mock --listen 127.0.0.1:8080 --scenario quickstart
  mcpload mock --stdio --scenario mcp-conformance`,
		Args: args(0, 0, "no positional arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stdio {
				if cmd.Flags().Changed("listen") {
					return invalid(errors.New("--listen and --stdio exclude each other: stdio has no address"))
				}
				return serveMockStdio(scenario, server, seed, stderr)
			}
			if cmd.Flags().Changed("mcp-server") {
				return invalid(errors.New("--mcp-server applies to --stdio; over HTTP every server has its own path, /mcp/NAME"))
			}
			return serveMock(listen, scenario, seed, stdout)
		},
	}
	fs := c.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&scenario, "scenario", "quickstart", "scenario whose providers, tools and script the mock serves")
	fs.Int64Var(&seed, "seed", 0, "seed for latency draws (default: the scenario's)")
	fs.BoolVar(&stdio, "stdio", false, "serve one MCP server of the scenario over stdin and stdout instead of HTTP")
	fs.StringVar(&server, "mcp-server", "", "with --stdio, the mcp_servers entry to serve (default: every tool, as /mcp)")
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

func serveMock(listen, scenario string, seed int64, stdout io.Writer) error {
	// The admin API lets a client nobody here wrote be rehearsed: change
	// the fault timeline and limits while the mock runs.
	sc, m, err := newMock(scenario, seed, mockprovider.WithAdmin(true))
	if err != nil {
		return err
	}
	url, err := m.Start(listen)
	if err != nil {
		return err
	}
	defer m.Close()

	fmt.Fprintf(stdout, "mcpload mock serving scenario %s at %s\n\n", sc.Name, url)
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
