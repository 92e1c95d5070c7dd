package main

import (
	"os"
	"regexp"
	"runtime"
	"strings"
)

// machine describes where the figures were measured.
type machine struct {
	NProc     int               `json:"nproc"`
	CPU       string            `json:"cpu"`
	Kernel    string            `json:"kernel"`
	OS        string            `json:"os"`
	Go        string            `json:"go"`
	Dnsperf   string            `json:"dnsperf"`
	StratusAt string            `json:"stratus_revision"`
	Versions  map[string]string `json:"versions"` // server -> version string
}

// describeMachine gathers the machine facts and the servers' versions.
func describeMachine(env *environment, ps []*peer) machine {
	m := machine{NProc: runtime.NumCPU(), Go: runtime.Version(), StratusAt: env.gitRev, Versions: map[string]string{}}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if s := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindStringSubmatch(string(b)); s != nil {
			m.CPU = strings.TrimSpace(s[1])
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if s := regexp.MustCompile(`(?m)^PRETTY_NAME="?([^"\n]+)"?$`).FindStringSubmatch(string(b)); s != nil {
			m.OS = s[1]
		}
	}
	out, _ := run("dnsperf", "-h")
	if s := regexp.MustCompile(`Version (\S+)`).FindStringSubmatch(out); s != nil {
		m.Dnsperf = s[1]
	}
	for _, p := range ps {
		m.Versions[p.name] = p.version
	}
	return m
}
