package main

import (
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/mcpload/mcpload/scenarios"
)

func newValidateCmd(stdout, stderr io.Writer) *cobra.Command {
	var sets []string
	c := &cobra.Command{
		Use:               "validate SCENARIO...",
		Short:             "Check scenarios; exit 2 on any error, each named by file:line:column and field",
		Args:              args(1, -1, "one or more SCENARIOs"),
		ValidArgsFunction: completeScenario,
		RunE: func(_ *cobra.Command, names []string) error {
			return validate(names, sets, stdout, stderr)
		},
	}
	setVar(c.Flags(), &sets)
	return c
}

func validate(names, sets []string, stdout, stderr io.Writer) error {
	bad := 0
	for _, name := range names {
		sc, err := scenarios.LoadWith(name, scenarios.Options{Set: sets, CheckHeaderVars: true})
		if err != nil {
			bad++
			fmt.Fprintln(stderr, err)
			continue
		}
		fmt.Fprintf(stdout, "ok  %s (%s)\n", sc.File, sc.Kind())
	}
	if bad > 0 {
		return invalid(fmt.Errorf("%d of %d scenarios are invalid", bad, len(names)))
	}
	return nil
}

func newScenariosCmd(stdout io.Writer) *cobra.Command {
	c := &cobra.Command{
		Use:   "scenarios",
		Short: "List the embedded scenarios, or print one to start from",
		Args:  args(0, 0, "no arguments (did you mean 'scenarios show NAME'?)"),
		RunE:  func(*cobra.Command, []string) error { return listScenarios(stdout) },
	}
	c.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the embedded scenarios",
		Args:  args(0, 0, "no arguments"),
		RunE:  func(*cobra.Command, []string) error { return listScenarios(stdout) },
	}, &cobra.Command{
		Use:     "show NAME",
		Short:   "Print an embedded scenario, to copy and edit",
		Example: "  mcpload scenarios show quickstart > my-scenario.yaml",
		Args:    args(1, 1, "exactly one embedded scenario NAME"),
		ValidArgsFunction: func(_ *cobra.Command, a []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(a) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return scenarios.Embedded(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(_ *cobra.Command, a []string) error { return showScenario(stdout, a[0]) },
	})
	return c
}

func listScenarios(stdout io.Writer) error {
	for _, name := range scenarios.Embedded() {
		sc, err := scenarios.Load(scenarios.EmbeddedPrefix + name)
		if err != nil {
			return fmt.Errorf("embedded scenario %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%-28s %s\n", name, sc.Description)
	}
	return nil
}

// showScenario prints the embedded scenario name as it ships, comments
// included: the resolved form would lose them.
func showScenario(stdout io.Writer, name string) error {
	b, err := fs.ReadFile(scenarios.EmbeddedFS(), name+".yaml")
	if err != nil {
		return invalid(fmt.Errorf("no embedded scenario %q%s (embedded: %v)", name, didYouMean(name, scenarios.Embedded()), scenarios.Embedded()))
	}
	_, err = stdout.Write(b)
	return err
}
