package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// environment is what every phase shares: the options, the work
// directory, the binaries.
type environment struct {
	opts    *options
	repo    string // the Stratus repository (the working directory)
	work    string // temporary directory for everything the run writes
	stratus string // the stratus binary built for this run
	coredns string // a coredns binary, or "" when none was found
	gitRev  string // git describe of the repository
}

// setup checks the tools, creates the work directory and builds Stratus.
func setup(ctx context.Context, o *options) (*environment, error) {
	env := &environment{opts: o}
	var err error
	if env.repo, err = os.Getwd(); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(env.repo, "go.mod")); err != nil || !strings.Contains(string(b), "module github.com/stratusdns/stratus\n") {
		return nil, errors.New("run from the root of the Stratus repository (bench/run.sh does)")
	}
	for _, tool := range []string{"dnsperf", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("%s is not installed (bench/run.sh installs it when run as root)", tool)
		}
	}
	if env.work, err = os.MkdirTemp("", "peerbench-"); err != nil {
		return nil, err
	}
	rev, err := run("git", "describe", "--always", "--dirty")
	if err != nil {
		rev = "unknown"
	}
	env.gitRev = strings.TrimSpace(rev)
	env.stratus = filepath.Join(env.work, "stratus")
	build := exec.CommandContext(ctx, "go", "build", "-ldflags",
		"-X github.com/stratusdns/stratus/internal/version.Version=git-"+env.gitRev, "-o", env.stratus, "./cmd/stratus")
	if out, err := build.CombinedOutput(); err != nil {
		return env, fmt.Errorf("go build ./cmd/stratus: %v\n%s", err, out)
	}
	env.coredns = o.coredns
	if env.coredns == "" {
		cached := filepath.Join(o.cacheDir, "bin", "coredns")
		if _, err := os.Stat(cached); err == nil {
			env.coredns, _ = filepath.Abs(cached)
		}
	}
	return env, nil
}

// cleanup removes the work directory unless -keep.
func (env *environment) cleanup() {
	if env.work == "" {
		return
	}
	if env.opts.keep {
		fmt.Printf("kept the work directory %s\n", env.work)
		return
	}
	os.RemoveAll(env.work)
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1.
func freePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port on 127.0.0.1")
}
