//go:build !unix

package attacker

// EnsureFDs has no RLIMIT_NOFILE to check outside Unix: it lets the run
// start, and an exchange that finds no descriptor ends as outcome local.
func EnsureFDs(need FDNeed) error { return nil }

// softFDLimit is 0, unknown, outside Unix.
func softFDLimit() uint64 { return 0 }
