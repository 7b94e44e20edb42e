package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

func newMockCmd(stdout, _ io.Writer) *cobra.Command {
	var listen, scenario string
	var seed int64
	c := &cobra.Command{
		Use:     "mock",
		Short:   "Serve the mock provider and MCP server of a scenario until Ctrl-C",
		Example: `  mcpload mock --listen 127.0.0.1:8080 --scenario quickstart`,
		Args:    args(0, 0, "no positional arguments"),
		RunE: func(*cobra.Command, []string) error {
			return serveMock(listen, scenario, seed, stdout)
		},
	}
	fs := c.Flags()
	fs.StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&scenario, "scenario", "quickstart", "scenario whose providers, tools and script the mock serves")
	fs.Int64Var(&seed, "seed", 0, "seed for latency draws (default: the scenario's)")
	_ = c.RegisterFlagCompletionFunc("scenario", completeScenario)
	return c
}

func serveMock(listen, scenario string, seed int64, stdout io.Writer) error {
	sc, err := scenarios.Load(scenario)
	if err != nil {
		return invalid(err)
	}
	if seed != 0 {
		sc.Seed = seed
	}
	// The admin API lets a client nobody here wrote be rehearsed: change
	// the fault timeline and limits while the mock runs.
	m, err := mockprovider.New(sc, mockprovider.WithSeed(sc.Seed), mockprovider.WithAdmin(true))
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
