package kdump_test

import (
	"dumpscope/reader"
)

func openSources(s reader.Source) (reader.Dump, error) { return reader.OpenSources(s) }
