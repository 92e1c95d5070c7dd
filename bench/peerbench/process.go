package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server process the harness started, in a process group of its
// own so that it and everything it forks can be stopped together, and so
// that a Ctrl-C on the terminal reaches the harness only.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     string // file with the process's stdout and stderr
	started time.Time
	done    chan struct{}
	err     error // the exit status, once done is closed
}

// running lists every process not yet stopped, for the cleanup on exit.
var running = struct {
	sync.Mutex
	m map[*proc]bool
}{m: map[*proc]bool{}}

// startProc starts argv pinned to cpus (taskset -c) with env added to the
// harness's environment; its output goes to logPath.
func startProc(name, cpus string, argv []string, env []string, logPath string) (*proc, error) {
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command("taskset", append([]string{"-c", cpus}, argv...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = filepath.Dir(logPath)
	// Pdeathsig is a backstop for a harness killed with SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	running.Lock()
	running.m[p] = true
	running.Unlock()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// failure describes an unexpected exit, with the end of the log.
func (p *proc) failure() error {
	return fmt.Errorf("%s exited (%v); the end of its log %s:\n%s", p.name, p.err, p.log, tail(p.log, 20))
}

// stop sends SIGTERM to the process group, and SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	running.Lock()
	delete(running.m, p)
	running.Unlock()
	pgid := p.cmd.Process.Pid
	if !p.exited() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
		}
	}
	// Children may outlive the leader (NSD's workers): kill the group.
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// stopAll stops every process still running (the cleanup on exit).
func stopAll() {
	running.Lock()
	ps := make([]*proc, 0, len(running.m))
	for p := range running.m {
		ps = append(ps, p)
	}
	running.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { p.stop(5 * time.Second) })
	}
	wg.Wait()
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run runs a command to completion and returns its combined output; the
// error includes the output.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || len(out) > 0 {
			return string(out), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out), fmt.Errorf("%s: %w", name, err)
	}
	return string(out), nil
}
