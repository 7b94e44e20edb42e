package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpload/mcpload/attacker"
	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/report/summary"
	"github.com/mcpload/mcpload/report/thresholds"
	"github.com/mcpload/mcpload/scenarios"
)

// Prefixes of an aborted run's stop_reason, which decide its exit code.
const (
	stopThreshold = thresholds.StopThreshold
	stopBudget    = "spend cap reached: "
)

// gateInterval is how often the gates look at the run: the recorder
// flushes once a second, so looking more often would see nothing new.
const gateInterval = time.Second

// gates judges a run while it goes on: the thresholds with abort_on_fail,
// and the scenario's spend cap. When one trips, it cancels the run with an
// *attacker.AbortError that says which and why.
type gates struct {
	abort  []scenarios.Threshold
	maxUSD float64
	live   *summary.Live
	stderr io.Writer
}

// newGates returns the gates of sc for the run folder dir, or nil when sc
// has none.
func newGates(sc *scenarios.Scenario, dir string, cat *pricing.Catalog, stderr io.Writer) *gates {
	g := &gates{stderr: stderr}
	for _, t := range sc.Thresholds {
		if t.AbortOnFail {
			g.abort = append(g.abort, t)
		}
	}
	if sc.Budget != nil {
		g.maxUSD = sc.Budget.MaxUSD
	}
	if len(g.abort) == 0 && g.maxUSD == 0 {
		return nil
	}
	g.live = summary.NewLive(dir, cat)
	return g
}

// watch checks the gates every gateInterval until ctx is done, and cancels
// the run when one trips. It returns when ctx is done.
func (g *gates) watch(ctx context.Context, cancel context.CancelCauseFunc) {
	began := time.Now()
	t := time.NewTicker(gateInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if reason := g.check(now.Sub(began)); reason != "" {
				fmt.Fprintf(g.stderr, "mcpload: stopping the run: %s\n", reason)
				cancel(&attacker.AbortError{Reason: reason})
				return
			}
		}
	}
}

// check reads what the run wrote since the last check and returns why the
// run must stop, or "". A threshold that has no value yet (no conversation
// has finished) is not a failure: only a measured value can abort.
func (g *gates) check(elapsed time.Duration) string {
	s, err := g.live.Update()
	if err != nil {
		// The files are being written; a read that fails now will be
		// retried in a second, and the final report reads them whole.
		return ""
	}
	if s == nil {
		return ""
	}
	// Not "spent >= cap": a cost that is not a number must stop the run
	// too, never wave it on.
	if g.maxUSD > 0 && s.Cost != nil && !(s.Cost.TotalUSD < g.maxUSD) {
		return fmt.Sprintf("%s$%.4f spent, budget.max_usd is $%g (after %s)", stopBudget, s.Cost.TotalUSD, g.maxUSD, elapsed.Round(time.Second))
	}
	for _, t := range g.abort {
		if elapsed < t.Delay.D() {
			continue
		}
		r := thresholds.Evaluate(s, []string{t.Expr})[0]
		if !r.Pass && r.Measured != "" {
			return fmt.Sprintf("%s%s (measured %s after %s)", stopThreshold, t.Expr, r.Measured, elapsed.Round(time.Second))
		}
	}
	return ""
}

// abortExit is the exit error of a run that stopped itself.
func abortExit(res *record.Run, dir string) error {
	if strings.HasPrefix(res.StopReason, stopThreshold) {
		return &exitError{exitThresholds, fmt.Errorf("aborted: %s; the partial run is in %s", res.StopReason, dir)}
	}
	return &exitError{exitRuntime, fmt.Errorf("aborted: %s; the partial run is in %s", res.StopReason, dir)}
}

// catalogPath makes a catalog file's path absolute: a path from the
// command line is relative to the working directory, one from a scenario
// file to that file's folder. Embedded catalog names stay as they are.
func catalogPath(name string, fromFlag bool, scenarioFile string) string {
	switch name {
	case "", pricing.DefaultName, pricing.RelayName, "relay":
		return name
	}
	if filepath.IsAbs(name) {
		return name
	}
	if !fromFlag && scenarioFile != "" && !strings.HasPrefix(scenarioFile, "embedded:") {
		name = filepath.Join(filepath.Dir(scenarioFile), name)
	}
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return name
}
