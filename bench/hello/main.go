// Command hello is the start-up reference of bench/sidebyside: a static Go
// program that does nothing but exit. What it costs from exec to exit is
// what the Go runtime and the machine cost before any code of dumpscope's
// runs; the start section prints it next to dumpscope's commands.
package main

import "os"

func main() { os.Exit(0) }
