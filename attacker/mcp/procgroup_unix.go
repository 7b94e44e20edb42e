//go:build unix

package mcp

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the process in a group of its own, so that killing
// the group ends whatever the server started too (npx runs node, a shell
// script runs its program).
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setParentDeathSignal(cmd.SysProcAttr)
}

// killProcessGroup kills the process's group.
func killProcessGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
