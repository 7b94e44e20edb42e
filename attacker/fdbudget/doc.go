// Package fdbudget keeps a run within the descriptors the process may
// open: Count computes what a scenario's run may hold at once (Need),
// Ensure raises RLIMIT_NOFILE to it or says what to change (LimitError),
// MockConns caps the connections to the in-process mock at what the table
// holds, and Spares keeps a few descriptors back for the run's own files.
// Running out is the harness's own outcome, local, never the target's.
package fdbudget
