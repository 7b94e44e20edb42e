package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/mcpload/mcpload/scenarios"
)

func validateCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("validate", "validate SCENARIO...", stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return invalid(errors.New("validate takes one or more SCENARIOs"))
	}
	bad := 0
	for _, name := range pos {
		sc, err := scenarios.Load(name)
		if err != nil {
			bad++
			fmt.Fprintln(stderr, err)
			continue
		}
		fmt.Fprintf(stdout, "ok  %s (%s)\n", sc.File, sc.Kind())
	}
	if bad > 0 {
		return invalid(fmt.Errorf("%d of %d scenarios are invalid", bad, len(pos)))
	}
	return nil
}

func scenariosCmd(stdout io.Writer) error {
	for _, name := range scenarios.Embedded() {
		sc, err := scenarios.Load(name)
		if err != nil {
			return fmt.Errorf("embedded scenario %s: %w", name, err)
		}
		fmt.Fprintf(stdout, "%-28s %s\n", name, sc.Description)
	}
	return nil
}
