//go:build !unix

package fdbudget

// Ensure has no RLIMIT_NOFILE to check outside Unix: it lets the run
// start, and an exchange that finds no descriptor ends as outcome local.
func Ensure(need Need) error { return nil }

// SoftLimit is 0, unknown, outside Unix.
func SoftLimit() uint64 { return 0 }
