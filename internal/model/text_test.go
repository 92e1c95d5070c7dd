package model

import (
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"", "", false},
		{"db down", "db down", false},
		{"tab\there\nnew\rline", "tabherenewline", false},
		{"nul\x00 esc\x1b[31m del\x7f", "nul esc[31m del", false},
		{"c1 \u0080\u0085\u009f end", "c1  end", false},
		{"not c1: \u00a0é€", "not c1: \u00a0é€", false},
		{strings.Repeat("x", 32), strings.Repeat("x", 32), false},
		{strings.Repeat("x", 33), "", true},
		{strings.Repeat("\x00", 33), "", true}, // measured before stripping
	} {
		got, err := CleanText("reason", tc.in, 32)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("CleanText(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && (!strings.Contains(err.Error(), "reason") || !strings.Contains(err.Error(), "32")) {
			t.Errorf("CleanText(%q): error %q names neither the field nor the limit", tc.in, err)
		}
	}
}
