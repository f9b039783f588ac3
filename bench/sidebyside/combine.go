package main

// "sidebyside combine RUN.md..." reads the tables of several runs and
// prints, for every comparison, the median ratio over the runs and the
// range, by wall time and by CPU time: on a shared machine one run is
// noisy, and the median of three is what a before/after note should quote.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// runRow is one table row of one run.
type runRow struct {
	key       string // section and the row's leading cells
	wall, cpu float64
}

// readRuns parses the Markdown tables sidebyside printed: rows of tables
// that have "ratio" and "ratio by CPU" columns.
func readRuns(r io.Reader) ([]runRow, error) {
	var rows []runRow
	var section string
	var head []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### "):
			section, head = strings.TrimPrefix(line, "### "), nil
			continue
		case !strings.HasPrefix(line, "| ") || section == "":
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if head == nil {
			head = cells
			continue
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		wi, ci := column(head, "ratio"), column(head, "ratio by CPU")
		if wi < 0 || ci < 0 || wi >= len(cells) || ci >= len(cells) {
			continue
		}
		w, werr := parseTimes(cells[wi])
		c, cerr := parseTimes(cells[ci])
		if werr != nil && cerr != nil {
			continue
		}
		var lead []string // the cells that name the row, not its measurements
		for i, h := range head {
			switch h {
			case "work", "file", "workers", "jobs", "command":
				if i < len(cells) {
					lead = append(lead, cells[i])
				}
			}
		}
		rows = append(rows, runRow{section + " | " + strings.Join(lead, ", "), w, c})
	}
	return rows, sc.Err()
}

func column(head []string, name string) int {
	for i, h := range head {
		if h == name {
			return i
		}
	}
	return -1
}

// parseTimes reads "1.25×".
func parseTimes(s string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "×"), 64)
}

// combine prints the medians of the runs' ratios.
func combine(paths []string, w io.Writer) error {
	if len(paths) == 0 {
		return fmt.Errorf("combine: no runs given")
	}
	type acc struct {
		wall, cpu []float64
		order     int
	}
	all := map[string]*acc{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		rows, err := readRuns(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		for _, r := range rows {
			a := all[r.key]
			if a == nil {
				a = &acc{order: len(all)}
				all[r.key] = a
			}
			if r.wall > 0 {
				a.wall = append(a.wall, r.wall)
			}
			if r.cpu > 0 {
				a.cpu = append(a.cpu, r.cpu)
			}
		}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return all[keys[i]].order < all[keys[j]].order })
	fmt.Fprintf(w, "### Medians of %d runs\n\n| section | work | ratio (median, range) | by CPU (median, range) |\n|---|---|---|---|\n", len(paths))
	for _, k := range keys {
		section, work, _ := strings.Cut(k, " | ")
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", section, work, medianRange(all[k].wall), medianRange(all[k].cpu))
	}
	return nil
}

func medianRange(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	sort.Float64s(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	if len(v) == 1 {
		return fmt.Sprintf("%.2f×", m)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", m, v[0], v[len(v)-1])
}
