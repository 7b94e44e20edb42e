package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mcpload/mcpload/report/pricing"
	"github.com/mcpload/mcpload/scenarios"
)

// durationValue is a time.Duration flag whose error says what a duration
// looks like: a bare "10" is the usual mistake of a k6 or vegeta user.
type durationValue time.Duration

func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		hint := "give a number and a unit, as in 30s, 2m or 1h30m"
		if _, nerr := fmt.Sscanf(s, "%f", new(float64)); nerr == nil && !strings.ContainsAny(s, "hmsuµn") {
			hint = fmt.Sprintf("a duration needs a unit: %ss or %sm?", s, s)
		}
		return fmt.Errorf("%q is not a duration; %s", s, hint)
	}
	*d = durationValue(v)
	return nil
}

func (d *durationValue) String() string {
	if *d == 0 {
		return "0s"
	}
	return time.Duration(*d).String()
}

func (*durationValue) Type() string { return "duration" }

// durationVar defines a duration flag with the unit hint.
func durationVar(fs *pflag.FlagSet, p *time.Duration, name, usage string) {
	fs.Var((*durationValue)(p), name, usage)
}

// completeScenario offers the embedded scenarios and YAML files.
func completeScenario(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return scenarios.Embedded(), cobra.ShellCompDirectiveDefault
}

// completeCatalog offers the embedded price catalogs and files.
func completeCatalog(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return []cobra.Completion{pricing.DefaultName, pricing.RelayName}, cobra.ShellCompDirectiveDefault
}

// completeDirs completes run folders.
func completeDirs(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// setVar adds --set, repeatable: a scenario field to override, as
// path=value (docs/variables.md).
func setVar(fs *pflag.FlagSet, p *[]string) {
	fs.StringArrayVar(p, "set", nil, "override a scenario field, as path=value (repeatable), e.g. --set load.stages[0].rate=50")
}
