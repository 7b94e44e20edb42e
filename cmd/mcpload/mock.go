package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

func mockCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("mock", "mock [--listen ADDR] [--scenario S]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	scenario := fs.String("scenario", "quickstart", "scenario whose providers, tools and script the mock serves")
	seed := fs.Int64("seed", 0, "seed for latency draws (default: the scenario's)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		fs.Usage()
		return invalid(errors.New("mock takes no positional arguments"))
	}
	sc, err := scenarios.Load(*scenario)
	if err != nil {
		return invalid(err)
	}
	if *seed != 0 {
		sc.Seed = *seed
	}
	// The admin API lets a client nobody here wrote be rehearsed: change
	// the fault timeline and limits while the mock runs.
	m, err := mockprovider.New(sc, mockprovider.WithSeed(sc.Seed), mockprovider.WithAdmin(true))
	if err != nil {
		return err
	}
	url, err := m.Start(*listen)
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
