package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/mcpload/mcpload/report"
)

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", "report DIR", stderr)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return invalid(errors.New("report takes exactly one run folder"))
	}
	s, err := report.Write(pos[0])
	if err != nil {
		return err
	}
	if err := report.PrintText(stdout, s); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nResults       %s\n", pos[0])
	return nil
}
