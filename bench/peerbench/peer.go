package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// A peer is one server the harness knows how to run.
type peer struct {
	name      string   // the row label
	binary    string   // the executable, looked up in PATH unless absolute
	pkg       string   // the Debian package that provides it, if any
	needsPkgs []string // Debian packages it cannot run without besides (PowerDNS's bind backend)
	steering  bool     // it can steer answers by health checks
	onlySteer bool     // a steered-only variant (pdns-shared): not in the static and memory tables
	steerNote string   // what differs in its steered configuration
	// versionArgs run binary to print its version; versionRe picks it out.
	versionArgs []string
	versionRe   string
	// steeredRecords returns what the server's zone file gets besides the
	// static zone in the steered workload (nil: the records come another
	// way).
	steeredRecords func(i *instance) string
	// configure writes the configuration of i into i.dir and returns the
	// command line (without taskset).
	configure func(i *instance) ([]string, error)
	// load, when set, runs after the process started and loads the zone
	// (Stratus: through its API). It is not timed as load time.
	load func(ctx context.Context, i *instance) error
	env  []string // added to the environment (GOMAXPROCS=1)

	path    string // resolved executable
	version string
}

// peers returns every peer the harness knows, in table order (Stratus
// first, Knot, which every ratio is against, second).
func peers(env *environment) []*peer {
	ps := []*peer{stratusPeer(env, "stratus", env.stratus)}
	if env.opts != nil && env.opts.stratusBase != "" {
		ps = append(ps, stratusPeer(env, "stratus-base", env.opts.stratusBase))
	}
	return append(ps, knotPeer(), nsdPeer(), bindPeer(), corednsPeer(env),
		gdnsdPeer(), pdnsPeer("pdns", "yes"), pdnsPeer("pdns-shared", "shared"))
}

func peerNames() []string {
	out := []string{"stratus", "stratus-base"}
	for _, p := range peers(&environment{})[1:] {
		out = append(out, p.name)
	}
	return out
}

// resolve finds the executable and its version; an error says why the
// peer cannot run.
func (p *peer) resolve() error {
	path := p.binary
	if !filepath.IsAbs(path) {
		var err error
		if path, err = exec.LookPath(p.binary); err != nil {
			how := ""
			if p.pkg != "" {
				how = fmt.Sprintf(" (Debian package %s)", p.pkg)
			}
			return fmt.Errorf("%s is not installed%s", p.binary, how)
		}
	} else if _, err := exec.LookPath(path); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for _, pkg := range p.needsPkgs {
		out, err := exec.Command("dpkg-query", "-W", "-f", "${Status}", pkg).Output()
		if err == nil && !strings.Contains(string(out), "install ok installed") {
			return fmt.Errorf("the Debian package %s is not installed", pkg)
		}
	}
	p.path = path
	out, _ := exec.Command(path, p.versionArgs...).CombinedOutput()
	if m := regexp.MustCompile(p.versionRe).FindSubmatch(out); m != nil {
		p.version = string(m[1])
	} else if p.version == "" {
		p.version = "unknown"
	}
	return nil
}

// instance is one running server with its own directory and port.
type instance struct {
	peer     *peer
	dir      string // configuration, pid files, sockets, journals, log
	port     int    // DNS, UDP and TCP, on 127.0.0.1
	apiPort  int    // Stratus's API
	zoneFile string
	names    int
	steer    *steering // nil: no steered services
	proc     *proc
	loaded   bool          // the zone is in the server's own store (Stratus)
	imported time.Duration // how long loading it into the store took
}

func (i *instance) addr() string { return fmt.Sprintf("127.0.0.1:%d", i.port) }

// path returns a file name inside the instance directory.
func (i *instance) path(name string) string { return filepath.Join(i.dir, name) }
