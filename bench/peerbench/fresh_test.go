package main

import (
	"slices"
	"testing"
)

func TestSlowBySlice(t *testing.T) {
	for _, tc := range []struct {
		name string
		lat  []float64
		n    int
		want []int
	}{
		{"none", nil, 3, nil},
		{"even", []float64{1, 0, 0, 1, 0, 0}, 3, []int{1, 1}},
		{"bunched, short last slice", []float64{1, 1, 1, 0, 0, 0, 1}, 3, []int{3, 0, 1}},
		{"at the threshold is not slow", []float64{0.5, 0.5000001}, 1, []int{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := slowBySlice(tc.lat, tc.n, 0.5); !slices.Equal(got, tc.want) {
				t.Errorf("slowBySlice(%v, %d) = %v, want %v", tc.lat, tc.n, got, tc.want)
			}
		})
	}
}

func TestGCsIn(t *testing.T) {
	// A pass from 20 s to 35 s after the start, slices of 0.25 s.
	got, n := gcsIn("testdata/gctrace.log", 20, 35, 0.25)
	want := []string{"gc 8 at 21.52 s (slice 6): 0.018+3.5+0.003 ms, 7->7->5 MB"}
	if n != 1 || !slices.Equal(got, want) {
		t.Errorf("gcsIn = %q (%d), want %q", got, n, want)
	}
	got, n = gcsIn("testdata/gctrace.log", 1, 2, 0.25)
	if n != 1 || len(got) != 1 || got[0] != "gc 7 at 1.01 s (slice 0): 0.035+4.1+0.005 ms, 10->10->7 MB (forced)" {
		t.Errorf("gcsIn before the pass = %q (%d)", got, n)
	}
	if got, n := gcsIn("testdata/no-such.log", 0, 100, 1); got != nil || n != 0 {
		t.Errorf("gcsIn of a missing log = %q, %d", got, n)
	}
}
