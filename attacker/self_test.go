package attacker

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/mcpload/mcpload/mockprovider"
	"github.com/mcpload/mcpload/scenarios"
)

// selfMockEnv makes the test binary stand in for `mcpload mock --stdio
// --scenario S [--mcp-server N]`, the command of a stdio server whose
// program is scenarios.SelfCommand, so that embedded scenarios with a
// stdio lane run in these tests as they do under the mcpload binary.
const selfMockEnv = "MCPLOAD_TEST_SELF_MOCK"

func TestMain(m *testing.M) {
	if os.Getenv(selfMockEnv) != "" {
		if err := serveSelfMock(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// serveSelfMock serves the mock over stdio as `mcpload mock --stdio`
// does, for the arguments after the program.
func serveSelfMock(args []string) error {
	if len(args) < 4 || args[0] != "mock" || args[1] != "--stdio" || args[2] != "--scenario" {
		return fmt.Errorf("self mock: want mock --stdio --scenario S [--mcp-server N], got %q", args)
	}
	sc, err := scenarios.Load(args[3])
	if err != nil {
		return err
	}
	server := ""
	if i := slices.Index(args, "--mcp-server"); i >= 0 && i+1 < len(args) {
		server = args[i+1]
	}
	m, err := mockprovider.New(sc)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.ServeStdio(context.Background(), server, os.Stdin, os.Stdout)
}

// selfMock makes stdio servers whose program is "mcpload" run this test
// binary as the mock (see TestMain), and returns the path to set as
// jobConfig.Self.
func selfMock(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(selfMockEnv, "1")
	return exe
}
