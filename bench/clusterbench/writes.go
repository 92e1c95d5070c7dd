package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
)

const writeZones = 64

// benchWrites measures RRset PUTs through the API: on distinct names of
// one zone, and on distinct zones (write i goes to zone i mod 64), at each
// concurrency level, on each setup. On three nodes write i goes to node
// i mod 3.
func benchWrites(ctx context.Context, o *options, dir string) error {
	fmt.Println("| setup | pattern | concurrency | writes | writes/s | p50 ms | p99 ms | max ms | failed | node CPU | etcd CPU | load avg |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, s := range o.setups {
		c, err := startSetup(ctx, o, filepath.Join(dir, s), s, nodeOpts{})
		if err != nil {
			return err
		}
		err = writesOn(ctx, o, c)
		c.stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func writesOn(ctx context.Context, o *options, c *cluster) error {
	n0 := c.nodes[0]
	if err := createZone(ctx, n0, "w.test."); err != nil {
		return err
	}
	for z := 0; z < writeZones; z++ {
		if err := createZone(ctx, n0, fmt.Sprintf("wz%d.test.", z)); err != nil {
			return err
		}
	}
	for _, pattern := range o.pattern {
		for _, conc := range o.conc {
			var next atomic.Int64
			lat := make([]time.Duration, o.writes)
			var failed atomic.Int64
			var firstErr error
			var mu sync.Mutex
			var wg sync.WaitGroup
			nc0, ec0 := c.nodeCPU(), c.etcdCPU()
			t0 := time.Now()
			for w := 0; w < conc; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := int(next.Add(1) - 1)
						if i >= o.writes {
							return
						}
						zone := "w.test."
						if pattern == "zones" {
							zone = fmt.Sprintf("wz%d.test.", i%writeZones)
						}
						n := c.nodes[i%len(c.nodes)]
						name := fmt.Sprintf("%s-c%d-%d", pattern, conc, i)
						s := time.Now()
						_, err := n.cl.SetRRset(ctx, zone, name, "A", nil, []string{hostAddr(i)}, nil)
						lat[i] = time.Since(s)
						if err != nil {
							failed.Add(1)
							mu.Lock()
							if firstErr == nil {
								firstErr = err
							}
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			wall := time.Since(t0).Seconds()
			nc, ec := c.nodeCPU()-nc0, c.etcdCPU()-ec0
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sortDur(lat)
			fmt.Printf("| %s | %s | %d | %d | %.0f | %s | %s | %s | %d | %.0f%% | %.0f%% | %s |\n",
				c.name, pattern, conc, o.writes, float64(o.writes)/wall, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]),
				failed.Load(), 100*nc/wall, 100*ec/wall, benchproc.LoadAvg())
			if firstErr != nil {
				fmt.Printf("\n(first failure: %v)\n\n", firstErr)
			}
		}
	}
	return nil
}
