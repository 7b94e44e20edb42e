// Package nodetest finds node and the npm packages `make node` installs
// into .cache/node, for tests against peers that run on Node (the MCP
// conformance suite, server-everything, the TypeScript SDK, Portkey's
// gateway). Without them a test skips, unless MCPLOAD_REQUIRE_NODE=1, which
// `make test` sets, makes that a failure.
package nodetest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireEnv makes a missing node or package a failure, not a skip.
const RequireEnv = "MCPLOAD_REQUIRE_NODE"

// Module returns the path of node and the absolute folder of the npm
// package module (such as "@portkey-ai/gateway") that `make node`
// installed, at version when version is not "". root is the repository's
// root relative to the test's package folder. Under -short, without
// RequireEnv, the test is skipped: it runs node.
func Module(t testing.TB, root, module, version string) (node, dir string) {
	t.Helper()
	require := os.Getenv(RequireEnv) == "1"
	missing := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf(format+" ("+RequireEnv+"=1; run make node)", args...)
		}
		t.Skipf(format+"; run make node, or set "+RequireEnv+"=1 to fail instead", args...)
	}
	if testing.Short() && !require {
		t.Skip("runs node; -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir, err = filepath.Abs(filepath.Join(root, ".cache", "node", "node_modules", module))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if b, err := os.ReadFile(filepath.Join(dir, "package.json")); err != nil || json.Unmarshal(b, &pkg) != nil {
		missing("%s is not installed in %s", module, dir)
	}
	if version != "" && pkg.Version != version {
		missing("%s in %s is %s, want %s", module, dir, pkg.Version, version)
	}
	return node, dir
}
