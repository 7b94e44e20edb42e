// Command mcpload load-tests MCP tool-use endpoints and the LLM APIs that
// drive them. Each subcommand wires packages together; the logic lives in
// scenarios, attacker, mockprovider and report.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Exit codes, as documented in the README.
const (
	exitPass       = 0 // the run finished and every threshold passed
	exitRuntime    = 1 // the run could not be carried out, or was interrupted
	exitInvalid    = 2 // bad flags or an invalid scenario: nothing ran
	exitThresholds = 3 // the run finished and a threshold failed
)

// exitError carries an exit code up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{exitInvalid, err} }

const usage = `mcpload: load tests for MCP tool-use endpoints and the LLM APIs that drive them

Usage:
  mcpload run SCENARIO [flags]       run a scenario (a file, or an embedded name)
  mcpload validate SCENARIO...       check scenarios; exit 2 on any error
  mcpload mock [--listen ADDR] [--scenario S]
                                     serve the mock provider and MCP server
  mcpload report DIR                 re-render a run folder: summary, plots, report.html/.md, junit.xml
  mcpload cost DIR [--catalog C] [--baseline C|none] [--volume N | --tokens N] [--hours H] [--hourly-rate USD]
                                     price a run, project it per month, compare models
  mcpload compare BASE NEW [--tolerance 10%] [--format text|markdown|json]
                                     compare two runs; exit 3 on a regression beyond noise
  mcpload scenarios                  list the embedded scenarios
  mcpload version                    print the version

Run 'mcpload COMMAND -h' for a command's flags.
Exit codes: 0 pass, 1 runtime error, 2 invalid input, 3 thresholds failed (compare: a regression).
`

func main() {
	os.Exit(guard(os.Stderr, func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

// run executes one command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitInvalid
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "run":
		err = runCmd(rest, stdout, stderr)
	case "validate":
		err = validateCmd(rest, stdout, stderr)
	case "mock":
		err = mockCmd(rest, stdout, stderr)
	case "report":
		err = reportCmd(rest, stdout, stderr)
	case "cost":
		err = costCmd(rest, stdout, stderr)
	case "compare":
		err = compareCmd(rest, stdout, stderr)
	case "scenarios":
		err = scenariosCmd(stdout)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "mcpload", version())
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "mcpload: unknown command %q\n\n%s", cmd, usage)
		return exitInvalid
	}
	if err == nil {
		return exitPass
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "mcpload:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "mcpload:", err)
	return exitRuntime
}
