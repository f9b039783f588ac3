//go:build !race

package kdump_test

const raceEnabled = false
