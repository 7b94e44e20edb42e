package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// guard runs fn and turns a panic on the main goroutine into exit 1 and a
// short message: a bug is a runtime error, not invalid input (Go's own exit
// code for a panic is 2, which says "invalid input" here). The stack goes to
// a file in the temporary directory, or to stderr when MCPLOAD_DEBUG is set
// or the file cannot be written.
func guard(stderr io.Writer, fn func() int) (code int) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		code = exitRuntime
		stack := debug.Stack()
		if os.Getenv("MCPLOAD_DEBUG") == "" {
			if path, err := writeStack(v, stack); err == nil {
				fmt.Fprintf(stderr, "mcpload: internal error: %v\nmcpload: this is a bug; the stack is in %s (MCPLOAD_DEBUG=1 prints it here)\n", v, path)
				return
			}
		}
		fmt.Fprintf(stderr, "mcpload: internal error: %v\n%s", v, stack)
	}()
	return fn()
}

func writeStack(v any, stack []byte) (string, error) {
	f, err := os.CreateTemp("", "mcpload-panic-*.txt")
	if err != nil {
		return "", err
	}
	_, werr := fmt.Fprintf(f, "mcpload %s: internal error: %v\n\n%s", version(), v, stack)
	if err := f.Close(); werr == nil {
		werr = err
	}
	return f.Name(), werr
}
