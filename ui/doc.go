// Package ui is dumpscope's terminal UI, built on Bubble Tea v2, Lip Gloss
// v2 and Bubbles v2.
//
// # Structure
//
// Model is the root: it draws the header (file, format, arch, kernel, page
// size, frames present), the view tabs, the active view, the status line
// and the key help, and routes messages. Each screen is a View (view.go)
// registered by a ViewSpec in DefaultViews; the root builds the views whose
// spec accepts the dump, in order, so tabs and number keys follow the
// list. A view may add `:` commands (Commander), `/` search (Searcher),
// esc cancellation (Canceler), a status (Statuser) or a hook run when it is
// shown (Shower). Adding a view (the kernel Log) is one file with its
// model and one ViewSpec; adding a command to a view (`:vaddr ADDR` in
// Memory) is one Command in its Commands.
//
// # Kernel triage
//
// The views that read the crashed kernel's own structures — the crash
// summary in Overview, the Log view, the code pane of CPUs, `:vaddr` and
// the virtual addresses of find hits in Memory — ask the triage engine
// (reader/kernel) through one shared instance (kernel.go), built on first
// use in a command. Where the engine cannot run (not x86, no VMCOREINFO,
// memory not in the dump) the panes say what is missing and what would
// have kept it (kernel.MissingError).
//
// Views share one Common: the dump, its Info, the theme and its styles.
// Every screen has one key-map struct (keys.go); the footer and the `?`
// page are generated from them.
//
// # Rules
//
// ui imports model and asks reader through the Dump contract (and its
// optional interfaces: Indexer, PageExplainer, AreaReader) and reader/kernel
// through its API; it never decodes dump bytes itself. Update and View do
// no I/O: every call to the dump or the engine runs in a tea.Cmd and comes
// back as a message (only lookups in decoded kallsyms tables, which are in
// memory, happen in Update), and a test
// (strictDump) fails if Update or View touch the dump. Everything that
// grows with the dump is virtualized: hex views draw only visible rows
// from an LRU of pages or file chunks, the layout tree flattens only its
// open part, and the minimap summarizes the pfn space in a fixed number of
// buckets computed by a cancellable background pass over Dump.Runs. Long
// work (the index pass, the minimap, run jumps, find, verify, the kernel
// log and the crash summary) runs as a job (jobs.go) with progress and
// cancellation.
//
// Meaning never rests on colour alone: selections are reversed, page
// states have glyphs, severities have words and signs, and the mono theme
// (NO_COLOR, --color=never) draws with attributes only.
package ui
