// Package benchproc holds what the bench drivers read off the machine
// and reduce their runs with: the CPU time a process has used, the load
// average, and the median of a run's figures.
package benchproc

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// CPU returns the CPU seconds (user and system) process pid has used,
// from /proc (0 where it cannot be read).
func CPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) / 100 // USER_HZ
}

// LoadAvg returns the 1, 5 and 15 minute load averages as /proc/loadavg
// gives them, or "?".
func LoadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Median returns the median of v (0 for none), leaving v as it is.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
