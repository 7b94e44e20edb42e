// Package selfcheck is the process's half of the harness's check of
// itself. A Sampler reads, every interval, the runtime's metrics (CPU, GC
// pauses, goroutines, memory) and the resident set, writes them to
// harness.jsonl, and keeps their aggregate (Harness) for run.json, so
// that the report can tell a saturated generator from a slow target. A
// sample costs a metrics.Read and a pread of /proc/self/statm: nothing on
// the arrivals' path. The scheduler's half, the schedule lag of each
// arrival, is recorded by package attacker on its hot path.
package selfcheck
