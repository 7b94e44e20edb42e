package mcp

import "syscall"

// setParentDeathSignal has Linux kill the server should mcpload die
// without running its teardown (SIGKILL, a crash).
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
