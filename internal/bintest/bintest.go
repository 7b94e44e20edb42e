// Package bintest gives tests outside cmd/mcpload an mcpload binary to run
// as a process. `make test` builds bin/mcpload once and names it in
// MCPLOAD_BIN, so that the packages that need one (docs, deploy/kubernetes)
// do not each compile the whole command again while the suite runs; a
// plain `go test` builds it into the test's temporary folder.
package bintest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Env names a built mcpload for the tests to run.
const Env = "MCPLOAD_BIN"

// Mcpload returns the path of an mcpload binary: $MCPLOAD_BIN when it is
// set, else one built from root/cmd/mcpload, where root is the
// repository's root relative to the test's package folder.
func Mcpload(t testing.TB, root string) string {
	t.Helper()
	if bin := os.Getenv(Env); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s=%s: %v (run make build)", Env, bin, err)
		}
		return bin
	}
	bin := filepath.Join(t.TempDir(), "mcpload")
	cmd := exec.Command("go", "build", "-o", bin, "./"+filepath.ToSlash(filepath.Join(root, "cmd", "mcpload")))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
