package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// printer renders results as a table (for people) or JSON (for scripts).
type printer struct {
	w    io.Writer
	json bool
}

func (a *app) printer() (*printer, error) {
	switch a.output {
	case "table", "":
		return &printer{w: a.stdout}, nil
	case "json":
		return &printer{w: a.stdout, json: true}, nil
	}
	return nil, usagef("unknown output format %q (want table or json)", a.output)
}

// print writes v as JSON (exact), or calls table with a tab-separated
// writer that escapes what could act on a terminal (termWriter).
func (p *printer) print(v any, table func(tw io.Writer)) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	table(termWriter{tw})
	return tw.Flush()
}

// row writes one tab-separated table row, each value escaped (termSafe):
// a tab or newline in a value shows as \x09 or \x0a, not as a column or a
// row of its own.
func row(w io.Writer, cols ...any) {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = termSafe(fmt.Sprint(c))
	}
	fmt.Fprintln(w, strings.Join(s, "\t"))
}

// timeOrNever formats a time that may never have happened.
func timeOrNever(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// duration formats a duration the one way the CLI shows durations: as Go
// writes them (30s, 1m30s, 250ms), to the millisecond.
func duration(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}
