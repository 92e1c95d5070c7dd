package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text in the CLI's human-readable output comes, much of it, from whoever
// may write to the API: push reasons, endpoint ids, override reasons,
// actors. Written to a terminal as it is, an escape sequence in it could
// move the cursor, rewrite earlier lines, set the window title or worse,
// and bidirectional or invisible characters could make one value look like
// another. Every table and text output therefore goes through termSafe
// (each value, by row) and termWriter (everything else written to the
// table); JSON output is left exact.

// termSafe returns s with every character that is not plain printable text
// escaped as Go would write it in a string literal: control characters
// (tab and newline too: a value must not make rows or columns of its own)
// as \xNN, the C1 controls, bidirectional controls, zero-width and other
// invisible format characters as \uNNNN, and bytes that are not UTF-8 as
// \xNN.
func termSafe(s string) string { return termEscape(s, false) }

// termEscape is termSafe; keepLayout leaves tab and newline as they are,
// for text whose tabs and newlines are the table's own.
func termEscape(s string, keepLayout bool) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLayout && (r == '\t' || r == '\n'):
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hiddenRune(r):
			if r > 0xffff {
				fmt.Fprintf(&b, `\U%08x`, r)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hiddenRune reports whether r, above ASCII, controls the terminal or the
// text's direction or shows nothing: the C1 controls (0x9b starts an
// escape sequence as ESC [ does), the format characters (bidirectional
// embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069,
// marks, zero-width spaces and joiners, the byte order mark, tag
// characters), line and paragraph separators, and the fillers that draw
// as blanks.
func hiddenRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x2028 || r == 0x2029:
		return true
	case r == 0x115f || r == 0x1160 || r == 0x3164 || r == 0xffa0 || r == 0x180e:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

// termWriter escapes, as termSafe does, what is written through it,
// except tab and newline: the writer tables are written to, where those
// two are the table's layout. Each Write is escaped on its own; fmt
// writes a whole line or cell at once.
type termWriter struct{ w io.Writer }

func (t termWriter) Write(p []byte) (int, error) {
	s := termEscape(string(p), true)
	if _, err := io.WriteString(t.w, s); err != nil {
		return 0, err
	}
	return len(p), nil
}
