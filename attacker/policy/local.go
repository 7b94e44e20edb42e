package policy

import (
	"errors"
	"syscall"
)

// IsLocal reports whether err is mcpload running out of its own resources
// rather than the target failing: no descriptor left in the process
// (EMFILE) or the system (ENFILE), no memory or socket buffers (ENOMEM,
// ENOBUFS), no ephemeral port to connect from (EADDRNOTAVAIL). Go reports
// them as a syscall.Errno wrapped in *os.SyscallError, *net.OpError and
// *url.Error, which errors.As unwraps.
func IsLocal(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOMEM, syscall.ENOBUFS, syscall.EADDRNOTAVAIL:
		return true
	}
	return false
}
