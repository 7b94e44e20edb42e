package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report"
	"github.com/mcpload/mcpload/scenarios"
)

// runFlags are the command-line overrides of a scenario.
type runFlags struct {
	out         string
	duration    time.Duration
	rate        string
	seed        int64
	allowRemote bool
	progress    string
}

func runCmd(args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlagSet("run", "run SCENARIO [flags]", stderr)
	fs.StringVar(&f.out, "out", "", "run folder to write (default results/<scenario>-<UTC time>)")
	fs.DurationVar(&f.duration, "duration", 0, "total length of the schedule; stages are scaled to fit")
	fs.StringVar(&f.rate, "rate", "", "rate for every stage, e.g. 50 or 50/1s (0 = as fast as max_in_flight allows)")
	fs.Int64Var(&f.seed, "seed", 0, "seed for arrivals, latency and fault draws (default: the scenario's, else random)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow non-loopback targets: real providers spend real money")
	fs.StringVar(&f.progress, "progress", "auto", "live progress on stderr: auto (on a terminal, not in CI), on, off")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return invalid(errors.New("run takes exactly one SCENARIO"))
	}

	sc, err := scenarios.Load(pos[0])
	if err != nil {
		return invalid(err)
	}
	if err := applyOverrides(sc, f); err != nil {
		return invalid(err)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("results", fmt.Sprintf("%s-%s", sc.Name, time.Now().UTC().Format("20060102T150405Z")))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts := []attacker.Option{attacker.WithVersion(version()), attacker.WithAllowRemote(f.allowRemote)}
	if needsMock(sc) {
		mock, err := mockprovider.New(sc, mockprovider.WithSeed(sc.Seed))
		if err != nil {
			return fmt.Errorf("start mock: %w", err)
		}
		url, err := mock.Start("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("start mock: %w", err)
		}
		defer mock.Close()
		opts = append(opts, attacker.WithMockURL(url))
	}
	if showProgress(f.progress, stderr) {
		p := newProgressLine(stderr)
		defer p.done()
		opts = append(opts, attacker.WithProgress(p.update))
	}

	res, err := attacker.Run(ctx, sc, dir, opts...)
	var cfgErr *attacker.ConfigError
	if errors.As(err, &cfgErr) {
		return invalid(err)
	}
	if err != nil {
		return err
	}
	s, err := report.Write(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := report.PrintText(stdout, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nResults       %s\n", dir)
	if res.Status == record.StatusInterrupted {
		return &exitError{exitRuntime, fmt.Errorf("interrupted: the partial run is in %s", dir)}
	}
	for _, t := range s.Thresholds {
		if !t.Pass {
			return &exitError{exitThresholds, fmt.Errorf("threshold failed: %s (measured %g)", t.Expr, t.Value)}
		}
	}
	return nil
}

// applyOverrides puts command-line flags over the scenario.
func applyOverrides(sc *scenarios.Scenario, f runFlags) error {
	if f.seed != 0 {
		sc.Seed = f.seed
	}
	if sc.Seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		sc.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	if f.rate != "" {
		r, err := scenarios.ParseRate(f.rate)
		if err != nil {
			return fmt.Errorf("--rate: %w", err)
		}
		if r == 0 && (sc.Load.MaxInFlight == 0 || sc.Load.Arrival != scenarios.ArrivalConstant) {
			return errors.New("--rate 0 (as fast as possible) needs constant arrivals and a max_in_flight cap")
		}
		for i := range sc.Load.Stages {
			sc.Load.Stages[i].Rate = scenarios.Rate(r)
		}
	}
	if f.duration < 0 {
		return errors.New("--duration must not be negative")
	}
	if f.duration > 0 {
		var total time.Duration
		for _, st := range sc.Load.Stages {
			total += st.Duration.D()
		}
		scale := float64(f.duration) / float64(total)
		for i := range sc.Load.Stages {
			st := &sc.Load.Stages[i]
			st.Duration = scenarios.Duration(float64(st.Duration) * scale)
			st.Ramp = scenarios.Duration(float64(st.Ramp) * scale)
		}
	}
	return nil
}

// needsMock reports whether any target of sc is the built-in mock.
func needsMock(sc *scenarios.Scenario) bool {
	for _, p := range sc.Providers {
		if p.IsMock() {
			return true
		}
	}
	for _, m := range sc.MCPServers {
		if m.IsMock() {
			return true
		}
	}
	return false
}
