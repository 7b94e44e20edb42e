//go:build race

package attacker

// raceEnabled is set when tests run under the race detector, which slows
// the hot paths tenfold; long tests shrink to keep the package quick.
const raceEnabled = true
