package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/record"
	comparereport "github.com/mcpload/mcpload/report/compare"
	costreport "github.com/mcpload/mcpload/report/cost"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/text"
	"github.com/mcpload/mcpload/report/thresholds"
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
	policies    string
	catalog     string
	fdCheck     bool
	timeScale   float64
	sets        []string
	shard       shardFlags
	live        liveFlags
	// liveSrv serves the runs live (live.go); nil without live flags.
	liveSrv *liveServers
	// onProgress, when set, is handed the run's progress too.
	onProgress func(attacker.Progress)
}

func newRunCmd(stdout, stderr io.Writer) *cobra.Command {
	var f runFlags
	c := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run a scenario (a file, or an embedded name) and write its run folder",
		Example: `  mcpload run quickstart
  mcpload run my-scenario.yaml --duration 30s --rate 50/1s --out results/today`,
		Args:              args(1, 1, "exactly one SCENARIO"),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, a []string) error {
			if cmd.Flags().Changed("time-scale") && !(f.timeScale > 0) {
				return invalid(fmt.Errorf("--time-scale must be more than 0 (1 = real time), got %g", f.timeScale))
			}
			if cmd.Flags().Changed("duration") && f.duration <= 0 {
				return invalid(errors.New("--duration must be more than 0, as in 30s or 2m"))
			}
			return runScenario(a[0], f, stdout, stderr)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.out, "out", "", "run folder to write (default results/<scenario>-<UTC time>)")
	fs.Float64Var(&f.timeScale, "time-scale", 0, "replay at this multiple of real time: every duration is rescaled from the scenario's time_scale (1 = real time; incident-replay is written at 0.1)")
	durationVar(fs, &f.duration, "duration", "total length of the schedule, as in 30s or 2m; stages and fault windows are scaled to fit")
	fs.StringVar(&f.rate, "rate", "", "rate for every stage, e.g. 50 or 50/1s (0 = as fast as max_in_flight allows)")
	fs.Int64Var(&f.seed, "seed", 0, "seed for arrivals, latency and fault draws (default: the scenario's, else random)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow non-loopback targets: real providers spend real money")
	fs.StringVar(&f.policies, "policy", "", "with a policies: list, run only these policies (comma-separated names)")
	fs.StringVar(&f.catalog, "catalog", "", "price the run on this catalog: list-prices, relay-example, or a YAML or LiteLLM JSON file (overrides cost.catalog)")
	fs.BoolVar(&f.fdCheck, "fd-check", true, "refuse to start when load.max_in_flight may need more descriptors than RLIMIT_NOFILE allows (docs/descriptors.md)")
	setVar(fs, &f.sets)
	addShardFlags(fs, &f.shard)
	liveVars(fs, &f.live, true)
	fs.StringVar(&f.progress, "progress", "auto", "live progress on stderr: auto (on a terminal, not in CI), on, off")
	_ = c.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{"auto", "on", "off"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("catalog", completeCatalog)
	return c
}

// runScenario loads the scenario name, puts the flags over it, and runs it
// (once, or once per policy).
func runScenario(name string, f runFlags, stdout, stderr io.Writer) error {
	switch f.progress {
	case "auto", "on", "off":
	default:
		return invalid(fmt.Errorf("--progress: expected auto, on or off, got %q", f.progress))
	}
	sc, err := scenarios.LoadWith(name, scenarios.Options{Set: f.sets, CheckHeaderVars: true})
	if err != nil {
		return invalid(err)
	}
	if f.policies != "" && len(sc.Policies) == 0 {
		return notApplicable("policy", fmt.Sprintf("scenario %s has no policies: list", sc.Name))
	}
	if flag := f.live.named(); flag != "" && f.shard.sharded() {
		return notApplicable(flag, "a sharded run is served by no one process; watch each shard's run folder, or the merged run's report")
	}
	if f.shard.sharded() {
		return runSharded(name, sc, f, stdout, stderr)
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
	if f.liveSrv, err = startLive(f.live, f.allowRemote, stderr); err != nil {
		return err
	}
	defer f.liveSrv.close(ctx, stderr)

	if len(sc.Policies) > 0 {
		return runPolicies(ctx, sc, dir, f, stdout, stderr)
	}
	s, res, err := runOnce(ctx, sc, dir, f, stderr)
	if err != nil {
		return err
	}
	text.PrintHarnessWarnings(stderr, s)
	if err := text.Print(stdout, s); err != nil {
		return err
	}
	printPaths(stdout, dir)
	return verdict(res, s, dir)
}

// runOnce runs sc into dir against a fresh mock, and renders the folder.
// extra options go to attacker.Run after the command's own.
func runOnce(ctx context.Context, sc *scenarios.Scenario, dir string, f runFlags, stderr io.Writer, extra ...attacker.Option) (*summary.Summary, *record.Run, error) {
	// A catalog that cannot be read must stop the run before it spends.
	cat, _, err := costreport.Catalogs(sc)
	if err != nil {
		return nil, nil, invalid(err)
	}
	if err := checkDescriptors(sc, f.fdCheck); err != nil {
		return nil, nil, err
	}
	// The folder stays locked until its report is written.
	lock, err := lockRun(dir)
	if err != nil {
		return nil, nil, err
	}
	defer lock.Close()
	opts := []attacker.Option{attacker.WithVersion(version()), attacker.WithAllowRemote(f.allowRemote), attacker.WithRunLock()}
	if needsMock(sc) {
		mock, err := mockprovider.New(f.shard.run.mockScenario(sc), mockprovider.WithSeed(f.shard.run.mockSeed(sc.Seed)))
		if err != nil {
			return nil, nil, fmt.Errorf("start mock: %w", err)
		}
		url, err := mock.Start("127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("start mock: %w", err)
		}
		defer mock.Close()
		// Fault windows count from the start of the load.
		mock.SetEpoch(f.shard.run.epoch(time.Now()))
		opts = append(opts, attacker.WithMockURL(url))
	}
	var progress func(attacker.Progress)
	if showProgress(f.progress, stderr) {
		p := newProgressLine(stderr)
		defer p.done()
		progress = p.update
	}
	progress = chainProgress(progress, f.onProgress)
	finishLive := func() {}
	if f.liveSrv != nil {
		feed, opt := f.liveSrv.feed(sc, dir, cat, progress)
		opts = append(opts, opt)
		finishLive = func() {
			if err := feed.Finish(); err != nil {
				fmt.Fprintln(stderr, "WARNING:", err)
			}
			finishLive = func() {}
		}
		defer func() { finishLive() }()
	} else if progress != nil {
		opts = append(opts, attacker.WithProgress(progress))
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopGates := func() {}
	if g := f.shard.run.gates(newGates(sc, dir, cat, stderr)); g != nil {
		done := make(chan struct{})
		go func() { defer close(done); g.watch(runCtx, cancel) }()
		stopGates = func() { cancel(nil); <-done }
	}
	for _, w := range sc.TLSWarnings() {
		fmt.Fprintln(stderr, "WARNING:", w)
	}
	res, err := attacker.Run(runCtx, sc, dir, append(opts, extra...)...)
	// The gates must be done before the report reads the folder.
	stopGates()
	finishLive()
	var cfgErr *attacker.ConfigError
	if errors.As(err, &cfgErr) {
		return nil, nil, invalid(err)
	}
	if err != nil {
		return nil, nil, err
	}
	s, err := render(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	if f.liveSrv != nil {
		f.liveSrv.hub.ReportReady(dir)
	}
	return s, res, nil
}

// lockRun locks the run folder dir; another run writing it is invalid
// input (exit 2), since the two would splice their records.
func lockRun(dir string) (*record.RunLock, error) {
	lock, err := record.LockRun(dir)
	var locked *record.LockedError
	if errors.As(err, &locked) {
		return nil, invalid(err)
	}
	return lock, err
}

// verdict turns a finished run into the command's exit status.
func verdict(res *record.Run, s *summary.Summary, dir string) error {
	switch res.Status {
	case record.StatusInterrupted:
		return &exitError{exitRuntime, fmt.Errorf("interrupted: the partial run is in %s", dir)}
	case record.StatusAborted:
		return abortExit(res, dir)
	}
	return thresholdsVerdict(s, dir)
}

// thresholdsVerdict is exit 3 when a threshold of s failed: run, report
// and compare gate alike.
func thresholdsVerdict(s *summary.Summary, dir string) error {
	failed := thresholds.Failed(s.Thresholds)
	if len(failed) == 0 {
		return nil
	}
	return &exitError{exitThresholds, fmt.Errorf("%d of %d thresholds failed in %s: %s", len(failed), len(s.Thresholds), dir, failedText(failed))}
}

// failedText lists failed thresholds with what each measured.
func failedText(failed []summary.Threshold) string {
	parts := make([]string, len(failed))
	for i, t := range failed {
		got := "measured " + t.Measured
		if t.Measured == "" {
			got = t.Note
		}
		parts[i] = fmt.Sprintf("%s (%s)", t.Expr, got)
	}
	return strings.Join(parts, "; ")
}

// runPolicies runs the same load and faults once per policy, with the same
// seed, each into DIR/<policy>, then writes and prints the comparison. It
// exits 3 only when a policy misses its expectation: one that expects to
// pass fails its thresholds, or one with expect: fail passes them.
func runPolicies(ctx context.Context, sc *scenarios.Scenario, dir string, f runFlags, stdout, stderr io.Writer) error {
	policies, err := selectPolicies(sc.Policies, f.policies)
	if err != nil {
		return invalid(err)
	}
	// The comparison folder is locked too: two runs would otherwise take
	// turns overwriting each other's policy folders.
	lock, err := lockRun(dir)
	if err != nil {
		return err
	}
	defer lock.Close()
	var runs []comparereport.PolicyRun
	var failed error
	for i, p := range policies {
		// The folder names the policy; the scenario keeps its name.
		psc := sc.ForPolicy(&p)
		pdir := filepath.Join(dir, p.Name)
		fmt.Fprintf(stderr, "policy %d/%d: %s\n", i+1, len(policies), p.Name)
		s, res, err := runOnce(ctx, psc, pdir, f, stderr)
		if err != nil {
			return fmt.Errorf("policy %s: %w", p.Name, err)
		}
		text.PrintHarnessWarnings(stderr, s)
		runs = append(runs, comparereport.PolicyRun{Name: p.Name, Description: p.Description, Dir: pdir, Expect: p.Expect})
		if err := expectVerdict(&p, s, verdict(res, s, pdir)); err != nil && failed == nil {
			failed = err
		}
		if res.Status == record.StatusInterrupted {
			break
		}
	}
	if err := reportComparison(dir, runs, stdout); err != nil {
		return fmt.Errorf("compare policies: %w", err)
	}
	return failed
}

// expectVerdict applies policy p's expect to err, the verdict of its run
// s: with expect: fail, a failed gate is the expected outcome, and a pass
// is the gate failure. Interruptions and other stops keep their error.
func expectVerdict(p *scenarios.Policy, s *summary.Summary, err error) error {
	if p.Expect != scenarios.ExpectFail {
		return err
	}
	var ee *exitError
	gateFailed := errors.As(err, &ee) && ee.code == exitThresholds
	switch j := thresholds.Judge(s, p.Expect); {
	case gateFailed && j.Met:
		return nil
	case err != nil:
		return err
	default:
		return &exitError{exitThresholds, fmt.Errorf("policy %s passed its %d thresholds, but expects to fail (expect: fail): the baseline no longer loses", p.Name, len(s.Thresholds))}
	}
}

// selectPolicies keeps the policies named in a comma-separated list, in
// the scenario's order; an empty list keeps them all.
func selectPolicies(all []scenarios.Policy, names string) ([]scenarios.Policy, error) {
	if names == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []scenarios.Policy
	var known []string
	for _, p := range all {
		known = append(known, p.Name)
		if want[p.Name] {
			out = append(out, p)
			delete(want, p.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("--policy: no policy %q in the scenario (it has: %s)", n, strings.Join(known, ", "))
	}
	return out, nil
}

func writeComparison(dir string, cmp *comparereport.Comparison) error {
	for name, write := range map[string]func(io.Writer) error{
		"comparison.json": cmp.WriteJSON,
		"comparison.md":   cmp.WriteMarkdown,
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// resolveCatalogs puts the --catalog flag (when not "") over the cost:
// section c (nil: none), and makes its catalog paths absolute: the
// resolved scenario.yaml must name catalogs that `mcpload report` finds
// again from any directory.
func resolveCatalogs(c *scenarios.Cost, flag, file string) {
	if c == nil {
		return
	}
	if flag != "" {
		c.Catalog = flag
	}
	c.Catalog = catalogPath(c.Catalog, flag != "", file)
	c.Baseline = catalogPath(c.Baseline, false, file)
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
	if f.timeScale != 0 {
		// Before --duration, which fits the rescaled schedule.
		if err := sc.ScaleTime(f.timeScale); err != nil {
			return fmt.Errorf("--time-scale: %w", err)
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
		at := func(d scenarios.Duration) scenarios.Duration { return scenarios.Duration(float64(d) * scale) }
		for i := range sc.Load.Stages {
			st := &sc.Load.Stages[i]
			st.Duration, st.Ramp = at(st.Duration), at(st.Ramp)
		}
		// The fault timeline keeps its place in the shortened schedule.
		for i := range sc.Faults {
			sc.Faults[i].From, sc.Faults[i].For = at(sc.Faults[i].From), at(sc.Faults[i].For)
		}
	}
	if f.catalog != "" && sc.Cost == nil {
		sc.Cost = &scenarios.Cost{}
	}
	resolveCatalogs(sc.Cost, f.catalog, sc.File)
	for i := range sc.Policies {
		resolveCatalogs(sc.Policies[i].Cost, f.catalog, sc.File)
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("after the command-line overrides: %w", err)
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
