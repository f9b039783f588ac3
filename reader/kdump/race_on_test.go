//go:build race

package kdump_test

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// a test of buffer reuse cannot hold under it.
const raceEnabled = true
