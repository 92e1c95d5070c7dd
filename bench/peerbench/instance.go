package main

import (
	"context"
	"os"
	"path/filepath"
	"time"
)

// newInstance creates p's directory for a phase, picks its ports and
// writes its configuration. In the steered phase a server with
// steeredRecords gets its own zone file: the static zone plus those.
func newInstance(env *environment, p *peer, phase, zoneFile string, names int, st *steering) (*instance, error) {
	i := &instance{peer: p, dir: filepath.Join(env.work, phase, p.name), zoneFile: zoneFile, names: names, steer: st}
	if err := os.MkdirAll(i.dir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if i.port, err = freePort(); err != nil {
		return nil, err
	}
	if i.apiPort, err = freePort(); err != nil {
		return nil, err
	}
	if st != nil && p.steeredRecords != nil {
		i.zoneFile = i.path("bench.test.zone")
		if err := writeZone(i.zoneFile, names, p.steeredRecords(i)); err != nil {
			return nil, err
		}
	}
	return i, nil
}

// start writes the configuration and starts the server process.
func (i *instance) start(env *environment) error {
	argv, err := i.peer.configure(i)
	if err != nil {
		return err
	}
	i.proc, err = startProc(i.peer.name, env.opts.serverCPU, append([]string{i.peer.path}, argv...), i.peer.env, i.path("server.log"))
	return err
}

// ready loads the zone where the server needs that done from outside,
// then waits until the zone's SOA is answered. It returns the time from
// the process's start to that answer.
func (i *instance) ready(ctx context.Context, limit time.Duration) (time.Duration, error) {
	if i.peer.load != nil {
		if err := i.peer.load(ctx, i); err != nil {
			return 0, err
		}
	}
	return waitSOA(ctx, i.proc, i.addr(), limit)
}

// stop stops the server.
func (i *instance) stop() {
	if i.proc != nil {
		i.proc.stop(10 * time.Second)
	}
}
