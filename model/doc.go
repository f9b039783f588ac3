// Package model holds the plain values that every part of dumpscope shares:
// frame numbers and addresses, annotated layout fields, notes, VMCOREINFO,
// register sets, page information, problems and the errors that classify
// them.
//
// The package imports nothing else of dumpscope. Readers (package reader and
// its format packages) produce these values; the CLI and the terminal UI
// display them. Values are designed to marshal to the JSON contract of
// docs/design.md §4 without further conversion: addresses and register values
// become lower-case "0x" strings so that jq keeps all 64 bits, while frame
// numbers, file offsets, sizes and counts are JSON numbers.
package model
