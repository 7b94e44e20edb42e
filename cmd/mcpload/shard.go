package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/scenarios"
)

// indexEnv is the variable a Kubernetes Indexed Job sets to each pod's
// completion index, from 0: `run --shards N` reads its shard from it.
const indexEnv = "JOB_COMPLETION_INDEX"

// localStartDelay is how far ahead `run --shards N --local` sets the
// common --start-at: time for N processes to start and load the scenario.
const localStartDelay = 2 * time.Second

// shardFlags are run's flags that split the schedule into shards
// (docs/sharding.md).
type shardFlags struct {
	shard   string
	shards  int
	startAt string
	local   bool
	// fs is run's flag set, whose flags --local passes on to the shards.
	fs *pflag.FlagSet
	// run is the shard this process runs, once resolved; nil unsharded.
	run *shardRun
}

func addShardFlags(fs *pflag.FlagSet, f *shardFlags) {
	f.fs = fs
	fs.StringVar(&f.shard, "shard", "", "run shard I of N of the schedule, as I/N (I from 0); the folder is OUT/shards/I (docs/sharding.md)")
	fs.IntVar(&f.shards, "shards", 0, "run one of N shards, I from $"+indexEnv+" (a Kubernetes Indexed Job); with --local, start all N here and merge them")
	fs.StringVar(&f.startAt, "start-at", "", "with --shard/--shards: start the schedule at this instant (RFC 3339), so that every shard starts together")
	fs.BoolVar(&f.local, "local", false, "with --shards N: run the N shards as processes on this machine, as an Indexed Job would, then merge them into --out")
}

// sharded reports whether any sharding flag was given.
func (f *shardFlags) sharded() bool {
	return f.shard != "" || f.shards != 0 || f.startAt != "" || f.local
}

// shardRun is the shard this process runs: which, and what its in-process
// mock and gates change to be one of Count.
type shardRun struct {
	spec attacker.ShardSpec
	// mock is the scenario the in-process mock serves: its limits
	// divided among the shards.
	mock *scenarios.Scenario
}

// mockScenario is the scenario the run's in-process mock serves.
func (r *shardRun) mockScenario(sc *scenarios.Scenario) *scenarios.Scenario {
	if r == nil {
		return sc
	}
	return r.mock
}

// mockSeed is the seed of the in-process mock's draws: one per shard, so
// that the shards' mocks do not all draw the same latencies.
func (r *shardRun) mockSeed(seed int64) int64 {
	if r == nil {
		return seed
	}
	return attacker.ShardSeed(seed, r.spec.Index, r.spec.Count)
}

// epoch is when the mock's fault timeline starts: the schedule's start.
func (r *shardRun) epoch(now time.Time) time.Time {
	if r == nil || r.spec.StartAt.Before(now) {
		return now
	}
	return r.spec.StartAt
}

// gates are a shard's gates: thresholds are judged on the merged run only,
// so abort_on_fail is not judged by a shard, and each shard stops at its
// share of the spend cap.
func (r *shardRun) gates(g *gates) *gates {
	if r == nil || g == nil {
		return g
	}
	g.abort = nil
	g.maxUSD /= float64(r.spec.Count)
	if g.maxUSD == 0 {
		return nil
	}
	return g
}

// runSharded runs the scenario name as one shard (--shard I/N, or --shards
// N with the index from the environment), or, with --local, as N shard
// processes that it then merges.
func runSharded(name string, sc *scenarios.Scenario, f runFlags, stdout, stderr io.Writer) error {
	sf := &f.shard
	if sf.local {
		return runLocal(name, sc, f, stdout, stderr)
	}
	index, count, err := sf.index(os.Getenv)
	if err != nil {
		return invalid(err)
	}
	if err := shardable(sc, f); err != nil {
		return err
	}
	if sc.Seed == 0 && f.seed == 0 {
		return invalid(errors.New("a sharded run needs one seed for every shard: give seed: in the scenario or --seed"))
	}
	spec := attacker.ShardSpec{Index: index, Count: count}
	if spec.StartAt, err = startAt(sf.startAt); err != nil {
		return invalid(err)
	}
	if err := applyOverrides(sc, f); err != nil {
		return invalid(err)
	}
	msc, notes := shardMock(sc, count)
	spec.Notes = notes
	sf.run = &shardRun{spec: spec, mock: msc}
	if spec.Count > 1 && !spec.StartAt.IsZero() && time.Until(spec.StartAt) > 0 {
		fmt.Fprintf(stderr, "shard %d/%d: waiting for --start-at %s\n", index, count, spec.StartAt.UTC().Format(time.RFC3339Nano))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := filepath.Join(f.out, record.ShardsDir, strconv.Itoa(index))
	s, res, err := runOnce(ctx, sc, dir, f, stderr, attacker.WithShard(spec))
	if err != nil {
		return err
	}
	text.PrintHarnessWarnings(stderr, s)
	if err := text.Print(stdout, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nShard %d of %d written to %s; thresholds are judged on the merged run: mcpload merge %s\n", index, count, dir, f.out)
	switch res.Status {
	case record.StatusInterrupted:
		return &exitError{exitRuntime, fmt.Errorf("interrupted: the partial shard is in %s", dir)}
	case record.StatusAborted:
		return abortExit(res, dir)
	}
	return nil
}

// shardable checks what every sharded run needs.
func shardable(sc *scenarios.Scenario, f runFlags) error {
	if f.out == "" {
		return invalid(fmt.Errorf("a sharded run needs --out: every shard writes OUT/%s/<index>, and merge reads them there", record.ShardsDir))
	}
	if len(sc.Policies) > 0 {
		return invalid(fmt.Errorf("scenario %s has policies:, which run one after the other; a sharded run takes a scenario without them", sc.Name))
	}
	return nil
}

// index resolves which shard this process runs, and of how many.
func (f *shardFlags) index(getenv func(string) string) (index, count int, err error) {
	switch {
	case f.shard != "" && f.shards != 0:
		return 0, 0, errors.New("--shard and --shards: give one (--shard I/N names the shard; --shards N reads I from $" + indexEnv + ")")
	case f.shard != "":
		i, n, ok := strings.Cut(f.shard, "/")
		index, err1 := strconv.Atoi(strings.TrimSpace(i))
		count, err2 := strconv.Atoi(strings.TrimSpace(n))
		if !ok || err1 != nil || err2 != nil || count < 1 || index < 0 || index >= count {
			return 0, 0, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, as in 0/4", f.shard)
		}
		return index, count, nil
	case f.shards != 0:
		if f.shards < 1 {
			return 0, 0, fmt.Errorf("--shards %d: want a count of 1 or more", f.shards)
		}
		v := getenv(indexEnv)
		if v == "" {
			return 0, 0, fmt.Errorf("--shards %d needs $%s, the shard's index (a Kubernetes Indexed Job sets it); use --shard I/N to name it, or --local to run every shard here", f.shards, indexEnv)
		}
		index, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || index < 0 || index >= f.shards {
			return 0, 0, fmt.Errorf("$%s=%q: want an index from 0 to %d for --shards %d", indexEnv, v, f.shards-1, f.shards)
		}
		return index, f.shards, nil
	}
	return 0, 0, errors.New("--start-at and --local go with --shard I/N or --shards N")
}

// startAt parses --start-at.
func startAt(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at %q: want an RFC 3339 time, as in 2026-01-02T15:04:05Z", s)
	}
	return t, nil
}

// shardMock returns the scenario the in-process mock of one of n shards
// serves: every rate limit (rpm, tpm) and capacity (concurrency) of a
// mock target divided by n, rounded up, so that the n mocks together
// admit what one would. The notes say what changed. An external mock
// (`mcpload mock`, a URL) that every shard shares keeps its limits whole.
func shardMock(sc *scenarios.Scenario, n int) (*scenarios.Scenario, []string) {
	if n <= 1 {
		return sc, nil
	}
	div := func(v int) int { return (v + n - 1) / n }
	var notes []string
	c := *sc
	c.Providers = make(map[string]*scenarios.Provider, len(sc.Providers))
	for name, p := range sc.Providers {
		cp := *p
		if p.IsMock() {
			if l := p.Mock.Limits; l != nil {
				nl := *l
				nl.RPM, nl.TPM = div(l.RPM), div(l.TPM)
				cp.Mock.Limits = &nl
				notes = append(notes, fmt.Sprintf("providers.%s.mock.limits: rpm %d, tpm %d in this shard's mock (1/%d, rounded up)", name, nl.RPM, nl.TPM, n))
			}
			if p.Mock.Concurrency > 0 {
				cp.Mock.Concurrency = div(p.Mock.Concurrency)
				notes = append(notes, fmt.Sprintf("providers.%s.mock.concurrency: %d in this shard's mock (1/%d, rounded up)", name, cp.Mock.Concurrency, n))
			}
		}
		c.Providers[name] = &cp
	}
	c.MCPServers = make(map[string]*scenarios.MCPServer, len(sc.MCPServers))
	for name, m := range sc.MCPServers {
		cm := *m
		if m.IsMock() && m.Mock.Concurrency > 0 {
			cm.Mock.Concurrency = div(m.Mock.Concurrency)
			notes = append(notes, fmt.Sprintf("mcp_servers.%s.mock.concurrency: %d in this shard's mock (1/%d, rounded up)", name, cm.Mock.Concurrency, n))
		}
		c.MCPServers[name] = &cm
	}
	if needsMock(sc) {
		notes = append(notes, "the built-in mock runs in each shard, with its own seed; its latency and fault draws are the shard's own")
	}
	return &c, notes
}

// runLocal runs `run --shards N --local`: N processes of this binary, each
// with JOB_COMPLETION_INDEX set as an Indexed Job sets it and a common
// --start-at, into OUT/shards/I; then it merges them into OUT and reports
// and judges the merged run as run does.
func runLocal(name string, sc *scenarios.Scenario, f runFlags, stdout, stderr io.Writer) error {
	sf := &f.shard
	switch {
	case sf.shards < 1:
		return invalid(errors.New("--local needs --shards N: how many shard processes to run"))
	case sf.shard != "":
		return invalid(errors.New("--local runs every shard: give --shards N, not --shard I/N"))
	}
	if f.out == "" {
		f.out = filepath.Join("results", fmt.Sprintf("%s-%s", sc.Name, time.Now().UTC().Format("20060102T150405Z")))
	}
	if err := shardable(sc, f); err != nil {
		return err
	}
	// The overrides are checked here, once, and pick the seed every
	// shard gets.
	if err := applyOverrides(sc, f); err != nil {
		return invalid(err)
	}
	at := time.Now().Add(localStartDelay)
	if sf.startAt != "" {
		var err error
		if at, err = startAt(sf.startAt); err != nil {
			return invalid(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("--local: finding this program: %w", err)
	}
	argv := append([]string{"run", name}, passOn(sf.fs)...)
	argv = append(argv, "--shards", strconv.Itoa(sf.shards), "--out", f.out,
		"--seed", strconv.FormatInt(sc.Seed, 10), "--start-at", at.UTC().Format(time.RFC3339Nano), "--progress", "off")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stderr, "running %d shards of %s into %s, starting at %s\n", sf.shards, sc.Name, f.out, at.UTC().Format(time.RFC3339Nano))
	codes := make([]int, sf.shards)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var startErr error
	for i := range sf.shards {
		cmd := exec.CommandContext(ctx, exe, argv...)
		// An Indexed Job gives each pod its index; that is all a shard
		// needs beside its flags.
		cmd.Env = append(os.Environ(), indexEnv+"="+strconv.Itoa(i))
		cmd.Stderr = &prefixWriter{w: stderr, prefix: fmt.Sprintf("shard %d: ", i)}
		// The shard's own report goes to its folder; the merged one is
		// printed below.
		cmd.Stdout = io.Discard
		// Ctrl-C reaches the shards from the terminal; a SIGTERM to this
		// process alone is passed on, and they record what they ran.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 30 * time.Second
		if err := cmd.Start(); err != nil {
			errMu.Lock()
			startErr = errors.Join(startErr, fmt.Errorf("starting shard %d: %w", i, err))
			errMu.Unlock()
			codes[i] = -1
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := cmd.Wait()
			var ee *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &ee):
				codes[i] = ee.ExitCode()
			default:
				codes[i] = -1
			}
		}()
	}
	wg.Wait()
	if startErr != nil {
		return startErr
	}
	for i, code := range codes {
		if code == exitInvalid {
			return invalid(fmt.Errorf("shard %d refused its input (exit %d): see its errors above", i, code))
		}
		if code != 0 {
			if _, err := os.Stat(filepath.Join(f.out, record.ShardsDir, strconv.Itoa(i), record.RunFile)); err != nil {
				return &exitError{exitRuntime, fmt.Errorf("shard %d failed (exit %d) and left no run", i, code)}
			}
			fmt.Fprintf(stderr, "shard %d exited with status %d; merging what it recorded\n", i, code)
		}
	}
	return mergeAndReport(f.out, nil, stdout, stderr)
}

// passOn returns the flags set on run's command line, for the shards of
// --local, less those --local sets for each shard itself.
func passOn(fs *pflag.FlagSet) []string {
	own := map[string]bool{"shard": true, "shards": true, "start-at": true, "local": true, "out": true, "seed": true, "progress": true}
	var argv []string
	if fs == nil {
		return nil
	}
	fs.Visit(func(fl *pflag.Flag) {
		if own[fl.Name] {
			return
		}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				argv = append(argv, "--"+fl.Name+"="+v)
			}
			return
		}
		argv = append(argv, "--"+fl.Name+"="+fl.Value.String())
	})
	return argv
}

// prefixWriter writes each line with a prefix, so that the shards' lines
// on one terminal say whose they are.
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		if !p.mid {
			if _, err := io.WriteString(p.w, p.prefix); err != nil {
				return 0, err
			}
		}
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line = b[:i+1]
		}
		if _, err := p.w.Write(line); err != nil {
			return 0, err
		}
		p.mid = line[len(line)-1] != '\n'
		b = b[len(line):]
	}
	return n, nil
}
