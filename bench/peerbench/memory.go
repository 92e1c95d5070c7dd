package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// runMemory loads the large zone into each server in turn (one running at
// a time) and records its load time and resident memory, medians over
// o.memStarts starts.
func runMemory(ctx context.Context, env *environment, ps []*peer) (*memoryTable, error) {
	o := env.opts
	zone := filepath.Join(env.work, "memory.zone")
	if err := writeZone(zone, o.memNames, ""); err != nil {
		return nil, err
	}
	// Flush the file to disk now, not while a server loads it.
	if _, err := run("sync", zone); err != nil {
		return nil, err
	}
	defer os.Remove(zone)
	t := &memoryTable{Names: o.memNames, Starts: o.memStarts}
	for _, p := range ps {
		if p.onlySteer {
			continue
		}
		i, err := newInstance(env, p, "memory", zone, o.memNames, nil)
		if err != nil {
			return nil, err
		}
		r, err := measureMemory(ctx, env, i)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, r)
		extra := ""
		if r.Import > 0 {
			extra = fmt.Sprintf(" (import through the API before: %.1f s)", r.Import)
		}
		fmt.Printf("memory %-12s loaded %d names in %s s (median %.2f s)%s; RSS %.0f MiB over %d processes (PSS %.0f MiB)\n",
			p.name, o.memNames, seconds(r.Loads), r.Load, extra, mib(r.RSS), r.Procs, mib(r.PSS))
		os.RemoveAll(i.dir)
	}
	return t, nil
}

// measureMemory starts i with the large zone o.memStarts times, one after
// the other, and measures each start. A server whose zone is loaded from
// outside (Stratus: imported into its store) is first started empty,
// loaded and stopped: its starts are restarts with the zone in its store.
func measureMemory(ctx context.Context, env *environment, i *instance) (*memRow, error) {
	defer i.stop()
	r := &memRow{Server: i.peer.name, Version: i.peer.version}
	if i.peer.load != nil {
		if err := i.start(env); err != nil {
			return nil, err
		}
		if err := i.peer.load(ctx, i); err != nil {
			return nil, err
		}
		r.Import = i.imported.Seconds()
		r.Note = "load time is a restart with the zone in its store"
		i.stop()
	}
	var rss, pss []float64
	for range env.opts.memStarts {
		if err := i.start(env); err != nil {
			return nil, err
		}
		load, err := waitSOA(ctx, i.proc, i.addr(), 15*time.Minute)
		if err != nil {
			return nil, err
		}
		r.Loads = append(r.Loads, load.Seconds())
		if err := checkStatic(i.addr()); err != nil {
			return nil, fmt.Errorf("%s answers the large zone wrongly: %v", i.peer.name, err)
		}
		// Let whatever finishes the load in the background settle.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
		var rs, ps int64
		rs, ps, r.Procs = treeMemory(i.proc.pid())
		rss, pss = append(rss, float64(rs)), append(pss, float64(ps))
		i.stop()
	}
	r.Load, r.RSS, r.PSS = median(r.Loads), int64(median(rss)), int64(median(pss))
	return r, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
