package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// registerServices is how many services benchRegister spreads its
// endpoints over: registration i goes to service i mod registerServices.
const registerServices = 8

// benchRegister measures endpoint registrations through the API: o.reg
// new endpoints spread over registerServices services of one zone, at
// each -c concurrency, on each setup (registration i through node i mod
// n). A new endpoint counts its service's endpoints in its transaction.
func benchRegister(ctx context.Context, o *options, dir string) error {
	fmt.Println("| setup | concurrency | registrations | registrations/s | p50 ms | p99 ms | max ms | failed | node CPU | etcd CPU | load avg |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, s := range o.setups {
		c, err := startSetup(ctx, o, filepath.Join(dir, s), s, nodeOpts{})
		if err != nil {
			return err
		}
		err = registerOn(ctx, o, c)
		c.stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func registerOn(ctx context.Context, o *options, c *cluster) error {
	n0 := c.nodes[0]
	if err := createZone(ctx, n0, "g.test."); err != nil {
		return err
	}
	for s := 0; s < registerServices; s++ {
		name := fmt.Sprintf("s%d.g.test", s)
		if _, err := n0.cl.CreateService(ctx, apiv1.Service{Name: name, Policy: "multivalue", Pools: []apiv1.Pool{{Name: "main"}}}); err != nil {
			return fmt.Errorf("create service %s: %v", name, err)
		}
	}
	for _, conc := range o.conc {
		lat := make([]time.Duration, o.reg)
		nc0, ec0 := c.nodeCPU(), c.etcdCPU()
		t0 := time.Now()
		err := fanOut(ctx, o.reg, conc, func(i int) error {
			n := c.nodes[i%len(c.nodes)]
			s := time.Now()
			_, err := n.cl.RegisterEndpoint(ctx, fmt.Sprintf("s%d.g.test", i%registerServices), apiv1.Endpoint{
				ID: fmt.Sprintf("c%d-e%d", conc, i), Pool: "main", Address: hostAddr(i), TTL: "1h"})
			lat[i] = time.Since(s)
			return err
		})
		wall := time.Since(t0).Seconds()
		nc, ec := c.nodeCPU()-nc0, c.etcdCPU()-ec0
		if err != nil {
			return fmt.Errorf("register: %v", err)
		}
		sortDur(lat)
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %s | 0 | %.0f%% | %.0f%% | %s |\n",
			c.name, conc, o.reg, float64(o.reg)/wall, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]),
			100*nc/wall, 100*ec/wall, benchproc.LoadAvg())
	}
	return nil
}
