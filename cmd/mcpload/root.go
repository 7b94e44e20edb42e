package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRoot builds the command tree. Each command's RunE goes through
// runE, so that an error from RunE is told apart from an error in the
// command line itself, which cobra reports before any RunE runs.
func newRoot(stdout, stderr io.Writer, ran *bool) *cobra.Command {
	root := &cobra.Command{
		Use:   "mcpload",
		Short: "Load tests for MCP tool-use endpoints and the LLM APIs that drive them",
		Long: `mcpload load-tests MCP tool-use endpoints and the LLM APIs that drive them.
A YAML scenario describes a tool-use conversation (or a direct MCP operation
mix), a load shape, a client policy and faults; mcpload runs it on an
open-model schedule and writes a results folder with plots, cost, claims and
a verdict that CI can gate on.

Exit codes: 0 pass, 1 runtime error or interrupted, 2 invalid input,
3 a threshold failed (compare: a regression beyond noise).`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without a RunE of its own, the root answers an unknown
		// command with cobra's "did you mean".
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("mcpload {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.HiddenDefaultCmd = false

	cmds := []*cobra.Command{
		newRunCmd(stdout, stderr),
		newCapacityCmd(stdout, stderr),
		newValidateCmd(stdout, stderr),
		newInspectCmd(stdout, stderr),
		newMockCmd(stdout, stderr),
		newReportCmd(stdout, stderr),
		newCostCmd(stdout, stderr),
		newCompareCmd(stdout, stderr),
		newMergeCmd(stdout, stderr),
		newScenariosCmd(stdout),
		newVersionCmd(stdout),
		newManCmd(stdout),
	}
	for _, c := range cmds {
		wrapRunE(c, ran)
		c.SetFlagErrorFunc(flagError)
		root.AddCommand(c)
	}
	return root
}

// wrapRunE marks ran once c (or one of its subcommands) starts to run.
func wrapRunE(c *cobra.Command, ran *bool) {
	if fn := c.RunE; fn != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			return fn(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		wrapRunE(sub, ran)
	}
}

// flagError rewrites pflag's errors for people: a mistyped flag gets the
// nearest real one, a bad value names the flag once, with the cause.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	var unknown *pflag.NotExistError
	var bad *pflag.InvalidValueError
	switch {
	case errors.As(err, &bad):
		msg = fmt.Sprintf("--%s: %v", bad.GetFlag().Name, bad.Unwrap())
	case errors.As(err, &unknown):
		name := unknown.GetSpecifiedName()
		if sh := unknown.GetSpecifiedShortnames(); sh != "" {
			// "-progress": a long flag typed with one dash.
			name = sh
		}
		if s := suggestFlag(cmd, name); s != "" {
			msg += fmt.Sprintf("\n\nDid you mean this?\n\t--%s", s)
		}
	}
	return invalid(fmt.Errorf("%s\nRun '%s --help' for usage", msg, cmd.CommandPath()))
}

// suggestFlag returns the flag of cmd nearest to name, or "" when none is
// near enough to be what was meant.
func suggestFlag(cmd *cobra.Command, name string) string {
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	type cand struct {
		name string
		d    int
	}
	var cands []cand
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := levenshtein.ComputeDistance(name, f.Name)
		if d <= max(2, len(f.Name)/3) || strings.HasPrefix(f.Name, name) {
			cands = append(cands, cand{f.Name, d})
		}
	})
	if len(cands) == 0 {
		return ""
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	return cands[0].name
}

// args checks a command's positional arguments: between lo and hi of them
// (hi < 0: no upper bound), described by what for the error.
func args(lo, hi int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if len(a) >= lo && (hi < 0 || len(a) <= hi) {
			return nil
		}
		return invalid(fmt.Errorf("%s takes %s, got %d argument(s)\nRun '%s --help' for usage", cmd.Name(), what, len(a), cmd.CommandPath()))
	}
}

// notApplicable is the error for a flag that the command line set but
// that has nothing to act on.
func notApplicable(flag, why string) error {
	return invalid(fmt.Errorf("--%s does not apply: %s", flag, why))
}

// didYouMean returns ", did you mean X?" for the candidate nearest to s,
// or "" when none is near.
func didYouMean(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := levenshtein.ComputeDistance(s, c)
		if d <= max(2, len(c)/3) && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(", did you mean %q?", best)
}
