//go:build unix

package fdbudget

import (
	"fmt"
	"syscall"
)

// Ensure makes room for need. When the soft RLIMIT_NOFILE is below
// need.Total(), it raises the soft limit to the hard limit (or, where the
// system refuses that, as an unlimited hard limit makes it, to the need);
// it returns a *LimitError when the limit is still too low.
//
// Go already raises the soft limit at start on Unix (package syscall's
// init, since Go 1.19): to the hard limit minus one, whenever the soft
// limit is lower than that. The check therefore reads the limit as it is
// now, not as the shell set it, and only the last descriptor, a limit
// lowered since, or a system where Go's raise failed is left to raise here.
func Ensure(need Need) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("descriptors: reading RLIMIT_NOFILE: %w", err)
	}
	total := need.Total()
	if lim.Cur >= total {
		return nil
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) != nil && total < lim.Max {
			raised.Cur = total
			_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised)
		}
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("descriptors: reading RLIMIT_NOFILE: %w", err)
		}
	}
	if lim.Cur >= total {
		return nil
	}
	return &LimitError{Need: need, Soft: lim.Cur, Hard: lim.Max}
}

// SoftLimit returns the soft RLIMIT_NOFILE, or 0 when it cannot be read.
func SoftLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return lim.Cur
}
