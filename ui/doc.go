// Package ui is dumpscope's terminal UI, built on Bubble Tea v2, Lip Gloss
// v2 and Bubbles v2.
//
// # Structure
//
// Model (ui.go) is the root: it draws the header (file, format, arch,
// kernel, page size, frames present), the view tabs, the active view, the
// status line and the key help, and routes messages. Each screen is a View
// (view.go) registered by a ViewSpec in DefaultViews; the root builds the
// views whose spec accepts the dump (AIX dumps have no notes, VMCOREINFO,
// CPU registers or Linux log, so those views are left out), in order, so
// tabs and number keys follow the list. A view may add `:` commands
// (Commander), `/` search (Searcher), esc cancellation (Canceler), a
// status (Statuser), a hook run when it is shown (Shower) or a position
// the jump history returns to (Locator, history.go). Adding a view is one
// file with its model and one ViewSpec; adding a command to a view is one
// Command in its Commands.
//
// Views share one Common (common.go): the inspection session
// (inspect.Session, which owns the dump, the kernel engine, reads, finds
// and verification), what the headers say (Info), whether the frames are
// counted yet, the theme and its styles, and the context that ends with
// the program. Every screen has one key-map struct (keys.go); the footer
// and the `?` page are generated from them.
//
// What the views print comes from package present, in the words `dumpscope
// info`, `regs`, `notes` and `disasm` print: the Overview shows
// present.InfoRows, the "pages" row, the problems and present.CrashRows;
// the CPUs view present.RegisterGroups and present.Instruction; Notes
// present.NoteRow. The UI adds only layout and colour. Text is drawn with
// the primitives of package ui/render (pens, spans and lines, widths,
// cut, pad, wrap, blocks); the hex rows (hex.go), the minimap (minimap.go)
// and the lists and trees (list.go, tree.go) are built on them.
//
// # Kernel triage
//
// The views that read the crashed kernel's own structures — the crash
// summary in Overview, the Log view, the code pane of CPUs, `:vaddr`, the
// virtual addresses of find hits and the data inspector's symbols in
// Memory — use the session's one kernel engine (inspect/kernel, through
// Session.Kernel), so what it decodes once (kallsyms, the address space)
// serves them all. Every engine call takes the job's context, and
// kernel.WithProgress reports the pages it reads (kernel.go engineCall).
// Where the engine cannot run (not x86, no VMCOREINFO, memory not in the
// dump) the panes say what is missing and what would have kept it
// (kernel.MissingError).
//
// # Rules
//
// ui imports model, present, themes, ui/render, inspect and inspect/kernel,
// and reader only for the contract's own methods (Layout, Notes,
// VMCoreInfo, Registers, PageInfo, ReadPage, Runs, ReadFile, through
// Session.Dump()) and its optional interfaces (PageExplainer, AreaReader).
// It never decodes dump bytes itself, and it never formats a fact that
// present has words for.
//
// Update and View do no I/O: every call to the session, the dump or the
// engine runs in a tea.Cmd and comes back as a message (only lookups in
// decoded kallsyms tables, which are in memory, happen in Update), and a
// test (strictDump) fails if Update or View touch the dump. Opening costs
// the same for any dump size: New reads nothing; the frame counts (a
// bitmap scan on a large kdump) are a job, with "counting…" shown until
// they arrive; only a flattened stream gets an index pass
// (Session.NeedsIndex), plain ELF and kdump files start none.
//
// Everything that grows with the dump is virtualized: hex views draw only
// visible rows from an LRU of pages or file chunks, the layout tree
// flattens only its open part, and the minimap summarizes the pfn space in
// a fixed number of buckets computed by a cancellable background pass over
// Dump.Runs. Long work (the index pass, the frame count, the minimap, run
// jumps, find, writes, verify, the kernel log and the crash summary) runs
// as a job (jobs.go) with progress and cancellation (esc).
//
// An idle UI runs no timer: jobs report progress from the work itself,
// and nothing ticks but Bubble Tea's own frame ticker, run at FrameRate
// (a test fails if a ticker, a spinner or a tea.Tick appears).
//
// Meaning never rests on colour alone: selections are reversed, page
// states have glyphs, severities have words and signs, and the mono theme
// (NO_COLOR, --color=never) draws with attributes only. The dark theme,
// drawn until the terminal says which background it has (or COLORFGBG
// does), reads on dark and light backgrounds alike.
package ui
