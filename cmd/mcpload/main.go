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

func main() {
	os.Exit(guard(os.Stderr, func() int { return run(os.Args[1:], os.Stdout, os.Stderr) }))
}

// run executes one command line and returns the process exit code. Every
// error is printed once, on stderr.
func run(args []string, stdout, stderr io.Writer) int {
	var ran bool
	root := newRoot(stdout, stderr, &ran)
	root.SetArgs(args)
	if len(args) == 0 {
		_ = root.Usage()
		return exitInvalid
	}
	err := root.Execute()
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
	if !ran {
		// cobra refused the command line before any command ran: an
		// unknown command, or bad arguments.
		return exitInvalid
	}
	return exitRuntime
}
