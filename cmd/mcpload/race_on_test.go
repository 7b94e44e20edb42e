//go:build race

package main

// raceEnabled is set when tests run under the race detector, which slows
// the generator and the mock severalfold: the capacity tests then search
// smaller capacities.
const raceEnabled = true
