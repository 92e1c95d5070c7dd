package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// The kernel's clock ticks per second for /proc/PID/stat times. It is 100
// on every Linux architecture Go supports (USER_HZ).
const clockTicks = 100

// procTree returns root and all its descendants, from /proc.
func procTree(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil {
			continue
		}
		children[st.ppid] = append(children[st.ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

type stat struct {
	ppid  int
	utime uint64 // clock ticks
	stime uint64
	comm  string
}

// readStat reads the fields we need of /proc/PID/stat.
func readStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	// The command name is in parentheses and may hold spaces: split after
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	var s stat
	if j := bytes.IndexByte(b, '('); j >= 0 && j < i {
		s.comm = string(b[j+1 : i])
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return stat{}, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	s.ppid, _ = strconv.Atoi(f[1])
	s.utime, _ = strconv.ParseUint(f[11], 10, 64)
	s.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return s, nil
}

// treeCPU returns the user+system CPU seconds of root's process tree.
func treeCPU(root int) float64 {
	var ticks uint64
	for _, pid := range procTree(root) {
		if s, err := readStat(pid); err == nil {
			ticks += s.utime + s.stime
		}
	}
	return float64(ticks) / clockTicks
}

// treeMemory returns the resident memory of root's process tree in
// bytes: the sum of VmRSS (pages shared between the processes count once
// per process, as top shows them) and the sum of Pss (shared pages divided
// among the processes that share them), and the number of processes.
func treeMemory(root int) (rss, pss int64, procs int) {
	for _, pid := range procTree(root) {
		r := statusField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS:")
		if r < 0 {
			continue
		}
		procs++
		rss += r
		if p := statusField(fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:"); p > 0 {
			pss += p
		}
	}
	return rss, pss, procs
}

// statusField returns the value in bytes of a "Name:   123 kB" line of a
// /proc file, or -1.
func statusField(path, name string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb * 1024
		}
	}
	return -1
}
