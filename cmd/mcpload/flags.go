package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// parseArgs parses flags that may come before or after positional
// arguments, as in `mcpload run quickstart --duration 3s`.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &exitError{exitPass, errors.New("")}
			}
			return nil, invalid(err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: mcpload %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}
