package kdump_test

import (
	"dumpscope/open"
	"dumpscope/reader"
)

func openSources(s reader.Source) (reader.Dump, error) { return open.Sources(s) }
