package benchproc

import (
	"os"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), tc.in...)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range in {
			if in[i] != tc.in[i] {
				t.Errorf("Median reordered its input: %v", in)
			}
		}
	}
}

func TestCPUAndLoadAvg(t *testing.T) {
	x := 0
	for i := range 50_000_000 { // use some CPU
		x += i
	}
	if x == 0 || CPU(os.Getpid()) <= 0 {
		t.Errorf("CPU of this process %v, want more than 0", CPU(os.Getpid()))
	}
	if CPU(-1) != 0 {
		t.Error("CPU of no process is not 0")
	}
	if LoadAvg() == "?" {
		t.Error("no load average")
	}
}
