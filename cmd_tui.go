package main

import "errors"

type tuiCmd struct {
	optFilesArg
}

func (c *tuiCmd) Run(rc *runContext) error {
	return errors.New("the terminal UI is not part of this build yet; use a subcommand (dumpscope --help)")
}
