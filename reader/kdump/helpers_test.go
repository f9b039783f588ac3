package kdump_test

import (
	"dumpscope/reader"
	"dumpscope/reader/rio"
)

func openSources(s rio.Source) (reader.Dump, error) { return reader.OpenSources(s) }
