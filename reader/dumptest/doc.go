// Package dumptest supports dumpscope's tests, as net/http/httptest
// supports net/http's: writers that build small dumps of every format (for
// unit tests and fuzz seeds), and access to the real fixtures of
// ../shared/fixtures with their oracles.
//
// The writers follow ../shared/docs/formats.md, not dumpscope's readers, so
// a reader and a writer that disagree with the document disagree with each
// other too.
package dumptest
