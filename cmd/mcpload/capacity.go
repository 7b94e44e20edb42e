package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/attacker/capacity"
	"github.com/mcpload/mcpload/record"
	capreport "github.com/mcpload/mcpload/report/capacity"
	"github.com/mcpload/mcpload/report/plot"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// capacityFlags are the flags of mcpload capacity.
type capacityFlags struct {
	run                    runFlags
	probe, warmup          time.Duration
	tolerance              float64
	maxProbes, repeats     int
	start, minRate, maxRte float64
	policy                 string
	gates                  []string
}

func newCapacityCmd(stdout, stderr io.Writer) *cobra.Command {
	f := capacityFlags{probe: 10 * time.Second, warmup: 3 * time.Second}
	c := &cobra.Command{
		Use:   "capacity SCENARIO",
		Short: "Find the highest arrival rate at which the scenario's thresholds (its SLO) hold",
		Long: `capacity runs short open-model probes of the scenario at different rates,
each a run folder of its own with a discarded warm-up, and finds the highest
rate at which every threshold holds: it brackets the answer, bisects it to
--tolerance, and repeats the probes at both ends for a confidence interval.
A probe whose backlog or schedule lag grows without bound is stopped early
and fails. The folder gets capacity.json, a latency-versus-rate plot,
report.md and report.html; a --gate that fails exits 3 (docs/capacity.md).`,
		Example: `  mcpload capacity my-scenario.yaml --probe-duration 20s --gate 'capacity.rate >= 200'
  mcpload capacity quickstart --max-rate 500 --tolerance 0.1`,
		Args:              args(1, 1, "exactly one SCENARIO"),
		ValidArgsFunction: completeScenario,
		RunE: func(cmd *cobra.Command, a []string) error {
			return capacitySearch(a[0], f, stdout, stderr)
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.run.out, "out", "", "capacity folder to write (default results/<scenario>-capacity-<UTC time>)")
	durationVar(fs, &f.probe, "probe-duration", "measured length of each probe, after its warm-up")
	durationVar(fs, &f.warmup, "warmup", "warm-up of each probe, at the probe's rate, left out of its verdict")
	fs.Float64Var(&f.tolerance, "tolerance", capacity.DefaultTolerance, "relative width of the bracket to narrow to, (high-low)/low")
	fs.IntVar(&f.maxProbes, "max-probes", capacity.DefaultMaxProbes, "most probes to run")
	fs.IntVar(&f.repeats, "repeats", capacity.DefaultRepeats, "probes at each end of the final bracket, for the confidence interval")
	fs.Float64Var(&f.start, "start-rate", 0, "first rate probed, per second (default 10, within --min-rate and --max-rate)")
	fs.Float64Var(&f.minRate, "min-rate", capacity.DefaultMin, "lowest rate to probe, per second")
	fs.Float64Var(&f.maxRte, "max-rate", capacity.DefaultMax, "highest rate to probe, per second")
	fs.StringVar(&f.policy, "policy", "", "with a policies: list, search under this policy")
	fs.StringArrayVar(&f.gates, "gate", nil, "a gate on the answer, such as 'capacity.rate >= 500'; exit 3 when it fails (repeatable)")
	fs.Int64Var(&f.run.seed, "seed", 0, "seed of the first probe; probe N uses seed+N-1 (default: the scenario's, else random)")
	fs.BoolVar(&f.run.allowRemote, "allow-remote", false, "allow non-loopback targets: real providers spend real money")
	fs.StringVar(&f.run.catalog, "catalog", "", "price the probes on this catalog (overrides cost.catalog)")
	fs.BoolVar(&f.run.fdCheck, "fd-check", true, "refuse to start when load.max_in_flight may need more descriptors than RLIMIT_NOFILE allows")
	fs.StringVar(&f.run.progress, "progress", "auto", "one line per probe on stderr: auto (on a terminal, not in CI), on, off")
	setVar(fs, &f.run.sets)
	liveVars(fs, &f.run.live, false)
	_ = c.RegisterFlagCompletionFunc("progress", cobra.FixedCompletions([]string{"auto", "on", "off"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("catalog", completeCatalog)
	return c
}

// capacitySearch runs the search of the scenario name and writes its
// folder.
func capacitySearch(name string, f capacityFlags, stdout, stderr io.Writer) error {
	switch f.run.progress {
	case "auto", "on", "off":
	default:
		return invalid(fmt.Errorf("--progress: expected auto, on or off, got %q", f.run.progress))
	}
	if f.probe <= 0 {
		return invalid(errors.New("--probe-duration must be more than 0, as in 10s"))
	}
	if f.warmup < 0 {
		return invalid(errors.New("--warmup must not be negative"))
	}
	var gates []capreport.Gate
	for _, g := range f.gates {
		pg, err := capreport.ParseGate(g)
		if err != nil {
			return invalid(fmt.Errorf("--gate: %w", err))
		}
		gates = append(gates, pg)
	}
	opts := capacity.Options{Start: f.start, Min: f.minRate, Max: f.maxRte, Tolerance: f.tolerance, Repeats: f.repeats, MaxProbes: f.maxProbes}
	opts, err := opts.WithDefaults()
	if err != nil {
		return invalid(err)
	}
	load := func() (*scenarios.Scenario, error) {
		sc, err := scenarios.LoadWith(name, scenarios.Options{Set: f.run.sets, CheckHeaderVars: true})
		if err != nil {
			return nil, invalid(err)
		}
		if f.policy != "" {
			ps, err := selectPolicies(sc.Policies, f.policy)
			if err != nil || len(ps) != 1 {
				return nil, invalid(fmt.Errorf("--policy: name one policy of the scenario: %v", err))
			}
			sc = sc.ForPolicy(&ps[0])
		} else if len(sc.Policies) > 0 {
			return nil, invalid(fmt.Errorf("scenario %s has a policies: list; choose the policy to search under with --policy", sc.Name))
		}
		return sc, nil
	}
	sc, err := load()
	if err != nil {
		return err
	}
	if len(sc.Thresholds) == 0 {
		return invalid(fmt.Errorf("scenario %s has no thresholds: capacity searches for the highest rate at which they hold, so it needs them as its SLO (docs/thresholds.md)", sc.Name))
	}
	if f.run.seed == 0 {
		f.run.seed = sc.Seed
	}
	if f.run.seed == 0 {
		if err := applyOverrides(sc, runFlags{}); err != nil {
			return invalid(err)
		}
		f.run.seed = sc.Seed
	}
	dir := f.run.out
	if dir == "" {
		dir = filepath.Join("results", fmt.Sprintf("%s-capacity-%s", sc.Name, time.Now().UTC().Format("20060102T150405Z")))
	}
	lock, err := lockRun(dir)
	if err != nil {
		return err
	}
	defer lock.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Every probe is served live in turn.
	if f.run.liveSrv, err = startLive(f.run.live, f.run.allowRemote, stderr); err != nil {
		return err
	}
	defer f.run.liveSrv.close(ctx, stderr)
	slo := capacity.SLOOf(sc)
	p := &runProber{load: load, flags: f, dir: dir, slo: slo, stderr: stderr, tolerance: opts.Tolerance}
	if showProgress(f.run.progress, stderr) {
		opts.OnProbe = func(pr record.CapacityProbe) { fmt.Fprintln(stderr, probeLine(pr)) }
	}
	began := time.Now()
	res, searchErr := capacity.Search(ctx, p, opts)
	if res == nil {
		return searchErr
	}
	doc := &record.Capacity{
		Schema: record.CapacitySchema, Scenario: sc.Name, Version: version(),
		Status: res.Status, Rate: res.Rate, Bracket: res.Bracket, Interval: res.Interval, Confidence: res.Confidence,
		Tolerance: opts.Tolerance, Repeats: opts.Repeats, SLO: slo.Exprs, At: capacity.At(res),
		Probes: res.Probes, ElapsedS: time.Since(began).Seconds(),
	}
	if doc.Probes == nil {
		doc.Probes = []record.CapacityProbe{}
	}
	if w := capacity.HarnessWarning(doc.Probes, doc.Bracket); w != "" {
		doc.Warnings = append(doc.Warnings, w)
		fmt.Fprintln(stderr, "WARNING (harness):", w)
	}
	for _, g := range gates {
		doc.Gates = append(doc.Gates, g.Judge(doc))
	}
	var lines []plot.SLOLine
	for _, l := range slo.Latencies {
		lines = append(lines, plot.SLOLine{Label: l.Expr, MS: l.MS})
	}
	pf, err := plot.Capacity(dir, doc, lines)
	if err != nil {
		return err
	}
	if err := capreport.Write(dir, doc, capreport.Plot{PNG: pf.PNG, SVG: pf.SVG, Caption: pf.Caption}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Capacity of %s: %s\n", sc.Name, capreport.Headline(doc))
	if a := doc.At; a != nil {
		fmt.Fprintf(stdout, "  concurrency %.1f (measured %.1f), goodput %.4g/s, %.4g tokens/s", a.Concurrency, a.MeasuredInFlight, a.GoodputPerS, a.TokensPerS)
		if a.MonthlyCostUSD != nil {
			fmt.Fprintf(stdout, ", $%.2f a month", *a.MonthlyCostUSD)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "  %d probes in %.1fs\n  %s\n", len(doc.Probes), doc.ElapsedS, filepath.Join(dir, "report.html"))
	if searchErr != nil {
		if ctx.Err() != nil {
			return &exitError{exitRuntime, fmt.Errorf("interrupted: the partial search is in %s", dir)}
		}
		return searchErr
	}
	var failed []string
	for _, g := range doc.Gates {
		mark := "✓"
		if !g.Pass {
			mark = "✗"
			failed = append(failed, g.Expr)
		}
		fmt.Fprintf(stdout, "  %s %s (measured %.4g%s)\n", mark, g.Expr, g.Measured, map[bool]string{true: ", " + g.Note, false: ""}[g.Note != ""])
	}
	if len(failed) > 0 {
		return &exitError{exitThresholds, fmt.Errorf("%d of %d capacity gates failed in %s: %s", len(failed), len(doc.Gates), dir, strings.Join(failed, "; "))}
	}
	return nil
}

// probeLine is the progress line of one probe.
func probeLine(p record.CapacityProbe) string {
	v := "pass"
	if !p.Pass {
		v = "FAIL"
		if p.Saturated {
			v = "SATURATED"
		}
	}
	return fmt.Sprintf("probe %-28s %9.4g/s  %-9s p99 %8.1fms  lag %5.2fs  %s", p.Dir, p.Rate, v, p.P99MS, p.LagS, p.Reason)
}

// errSaturated ends a probe that the over-saturation watch stopped.
var errSaturated = errors.New("over-saturated")

// runProber runs each probe as a run of the scenario into the capacity
// folder's probes/.
type runProber struct {
	load   func() (*scenarios.Scenario, error)
	flags  capacityFlags
	dir    string
	slo    capacity.SLO
	stderr io.Writer
	// tolerance is the search's: a backlog growing by more than half
	// this share of the rate fails the probe, so that a rate over the
	// capacity by more than the tolerance does not pass.
	tolerance float64
}

// probeInterval is how often a probe is watched and its histograms cut:
// finer than a run's 1s, so that the warm-up is cut close, a saturated
// probe stops soon, and the backlog's trend has samples to fit.
const probeInterval = 100 * time.Millisecond

func (p *runProber) Probe(ctx context.Context, seq int, rate float64) (record.CapacityProbe, error) {
	rel := filepath.Join("probes", fmt.Sprintf("%03d-rate-%s", seq, strconv.FormatFloat(rate, 'f', -1, 64)))
	out := record.CapacityProbe{Rate: rate, Dir: filepath.ToSlash(rel)}
	sc, err := p.load()
	if err != nil {
		return out, err
	}
	rf := p.flags.run
	rf.rate = strconv.FormatFloat(rate, 'f', -1, 64)
	rf.duration = p.flags.warmup + p.flags.probe
	rf.progress = "off"
	// Each probe draws its own arrivals and latencies, so that repeats
	// at one rate are independent.
	rf.seed = p.flags.run.seed + int64(seq) - 1
	if err := applyOverrides(sc, rf); err != nil {
		return out, invalid(err)
	}

	// The watch reads the generator's own counters: the schedule lag is
	// what the schedule called for less what started. When the harness
	// self-check's schedule lag (summary.json harness) is at hand, it is
	// the better measure to feed Sample.
	sat := &capacity.Saturation{Warmup: p.flags.warmup, Bound: p.slo.Bound}
	var mu sync.Mutex
	var sum float64
	var n int
	var peak int64
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watch := func(pr attacker.Progress) {
		mu.Lock()
		defer mu.Unlock()
		if pr.Elapsed >= p.flags.warmup {
			sum += float64(pr.InFlight)
			n++
			peak = max(peak, pr.InFlight)
		}
		if sat.Add(capacity.Sample{Elapsed: pr.Elapsed, Rate: pr.TargetRate, InFlight: pr.InFlight,
			Started: pr.Started, Dropped: pr.Dropped, Scheduled: rate * pr.Elapsed.Seconds()}) {
			cancel(errSaturated)
		}
	}
	dir := filepath.Join(p.dir, rel)
	rf.onProgress = watch
	s, res, err := runOnce(pctx, sc, dir, rf, p.stderr, attacker.WithInterval(probeInterval))
	if err != nil {
		return out, err
	}
	if ctx.Err() != nil {
		return out, ctx.Err()
	}
	w, err := summary.SummarizeAfter(dir, p.flags.warmup)
	if err != nil {
		return out, fmt.Errorf("probe %s: %w", rel, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if c := w.LatencyMS.Conversation; c != nil {
		out.P50MS, out.P99MS, out.MeanMS = c.P50, c.P99, c.Mean
	}
	out.Achieved = w.Rate.Achieved
	out.GoodputPerS = float64(w.Conversations.OK) / p.flags.probe.Seconds()
	if s.DurationS > 0 {
		out.TokensPerS = float64(s.Tokens.Prompt+s.Tokens.Completion) / s.DurationS
	}
	if n > 0 {
		out.MeanInFlight = sum / float64(n)
	}
	out.PeakInFlight, out.LagS, out.DurationS = peak, sat.MaxLagS(), s.DurationS
	if h := s.Harness; h != nil {
		if h.ScheduleLag != nil {
			out.ScheduleLagP99MS = float64(h.ScheduleLag.P99) / 1000
		}
		out.HarnessLimited = len(h.Warnings) > 0
	}
	if s.Cost != nil {
		v := s.Cost.PerConversationUSD
		out.CostPerConversationUSD = &v
	}
	failed := thresholds.Failed(thresholds.Evaluate(w, p.slo.Exprs))
	growing, grew := sat.Growing(p.tolerance / 2)
	switch {
	case sat.Why() != "":
		out.Saturated, out.Reason = true, "stopped early: "+sat.Why()
	case res.Status == record.StatusAborted:
		out.Reason = "aborted: " + res.StopReason
	case len(failed) > 0:
		out.Reason = failedText(failed)
	case grew:
		// The SLO held, but only because the probe ended before the
		// growing backlog turned into latency: not a rate to sustain.
		out.Reason = growing
	default:
		out.Pass = true
	}
	return out, nil
}
