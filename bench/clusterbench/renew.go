package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratusdns/stratus/bench/benchproc"
	"github.com/stratusdns/stratus/pkg/apiv1"
	"github.com/stratusdns/stratus/pkg/client"
)

const perService = 1000

// benchRenew registers o.endpoints leased endpoints (services of 1,000,
// multivalue, no checks) and offers renewals at endpoints/period a second
// for o.renewFor, spread over the nodes (renewal i through node i mod n),
// at most o.workers in flight; meanwhile dnsperf asks node 1 for the
// services' names at o.dnsRate q/s.
func benchRenew(ctx context.Context, o *options, dir string) error {
	rate := o.rate
	if rate == 0 {
		rate = int(float64(o.endpoints) / o.period.Seconds())
	}
	fmt.Printf("%d endpoints, %d renewals/s offered for %s, at most %d in flight; dnsperf -Q %d against node 1\n\n",
		o.endpoints, rate, o.renewFor, o.workers, o.dnsRate)
	fmt.Println("| setup | registrations/s (bbolt) | renewals/s offered | achieved | p50 ms | p99 ms | max ms | failed | shed | DNS q/s | node CPU | etcd CPU | bench CPU | dnsperf CPU | load avg |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	for _, s := range o.setups {
		// The endpoints are registered on a node on bbolt, which is
		// then stopped and its store copied to the setup's: on etcd,
		// registering 10,000 endpoints through the API takes many
		// minutes (each new endpoint counts its service's endpoints,
		// and such a transaction retries on every concurrent commit).
		seed, err := startNode(ctx, o.bin, filepath.Join(dir, s, "seed"), nodeOpts{})
		if err != nil {
			return err
		}
		regRate, qf, secret, err := populate(ctx, o, seed, filepath.Join(dir, s))
		seed.stop()
		if err != nil {
			return err
		}
		c, err := startSetupFrom(ctx, o, filepath.Join(dir, s), s, nodeOpts{}, seed)
		if err != nil {
			return err
		}
		err = renewOn(ctx, o, c, filepath.Join(dir, s), rate, regRate, qf, secret)
		c.stop()
		if err != nil {
			return err
		}
	}
	return nil
}

func serviceName(i int) string { return fmt.Sprintf("s%d.r.test", i/perService) }

// populate creates the zone, the services and the leased endpoints
// through n0, and writes the query file of the services' names.
// The renewals use a token of scope endpoints:write only, as functions
// do (o.adminRenew: the admin token); its secret is returned.
func populate(ctx context.Context, o *options, n0 *node, dir string) (regRate float64, qf, secret string, err error) {
	if err := createZone(ctx, n0, "r.test."); err != nil {
		return 0, "", "", err
	}
	services := (o.endpoints + perService - 1) / perService
	var qs strings.Builder
	for s := 0; s < services; s++ {
		name := fmt.Sprintf("s%d.r.test", s)
		if _, err := n0.cl.CreateService(ctx, apiv1.Service{Name: name, Policy: "multivalue", Pools: []apiv1.Pool{{Name: "main"}}}); err != nil {
			return 0, "", "", fmt.Errorf("create service %s: %v", name, err)
		}
		fmt.Fprintf(&qs, "%s. A\n", name)
	}
	qf = filepath.Join(dir, "renew-queries.txt")
	if err := os.WriteFile(qf, []byte(qs.String()), 0o644); err != nil {
		return 0, "", "", err
	}
	// Leases long enough to outlast the registration of all of them.
	ttl := max(time.Hour, 6*o.period)
	t0 := time.Now()
	err = fanOut(ctx, o.endpoints, o.regWorkers, func(i int) error {
		_, err := n0.cl.RegisterEndpoint(ctx, serviceName(i), apiv1.Endpoint{
			ID: fmt.Sprintf("e%d", i), Pool: "main", Address: hostAddr(i), TTL: ttl.String()})
		return err
	})
	if err != nil {
		return 0, "", "", fmt.Errorf("register: %v", err)
	}
	regRate = float64(o.endpoints) / time.Since(t0).Seconds()
	if !o.adminRenew {
		tok, err := n0.cl.CreateToken(ctx, "renewals", []string{"endpoints:write"})
		if err != nil {
			return 0, "", "", err
		}
		secret = tok.Secret
	}
	return regRate, qf, secret, nil
}

func renewOn(ctx context.Context, o *options, c *cluster, dir string, rate int, regRate float64, qf, secret string) error {
	n0 := c.nodes[0]
	renewers := make([]*client.Client, len(c.nodes))
	for i, n := range c.nodes {
		renewers[i] = n.cl
		if secret != "" {
			renewers[i] = client.New(n.apiURL, secret)
		}
	}

	// dnsperf meanwhile, unpinned.
	dnsDone := make(chan struct{})
	var dres dnsperfResult
	var derr error
	go func() {
		defer close(dnsDone)
		var flags []string
		if o.dnsRate > 0 {
			flags = []string{"-Q", fmt.Sprint(o.dnsRate)}
		}
		dres, derr = runDnsperf(ctx, "", n0.dnsPort, qf, o.renewFor, append(flags, "-c", "4", "-q", "100"))
	}()

	jobs := make(chan int, o.workers)
	var lat []time.Duration
	var mu sync.Mutex
	var failed, shed atomic.Int64
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for i := range jobs {
				s := time.Now()
				_, err := renewers[i%len(c.nodes)].RenewEndpoint(ctx, serviceName(i), fmt.Sprintf("e%d", i))
				d := time.Since(s)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("e%d (HTTP %d): %v", i, client.StatusOf(err), err)
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	perfDone := profile(ctx, o, c, dir)
	nc0, ec0, bc0 := c.nodeCPU(), c.etcdCPU(), benchproc.CPU(os.Getpid())
	start := time.Now()
	sent := 0
	tick := time.NewTicker(5 * time.Millisecond)
	for now := range tick.C {
		el := now.Sub(start)
		if el >= o.renewFor || ctx.Err() != nil {
			break
		}
		due := int(el.Seconds() * float64(rate))
		for ; sent < due; sent++ {
			select {
			case jobs <- sent % o.endpoints:
			default:
				shed.Add(1) // every worker busy and the queue full
			}
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	wall := time.Since(start).Seconds()
	nc, ec, bc := c.nodeCPU()-nc0, c.etcdCPU()-ec0, benchproc.CPU(os.Getpid())-bc0
	<-dnsDone
	<-perfDone
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if derr != nil {
		return derr
	}
	sortDur(lat)
	var mx time.Duration
	if len(lat) > 0 {
		mx = lat[len(lat)-1]
	}
	fmt.Printf("| %s | %.0f | %d | %.0f | %s | %s | %s | %d | %d | %.0f | %.0f%% | %.0f%% | %.0f%% | %.0f%% | %s |\n",
		c.name, regRate, rate, float64(len(lat))/wall, ms(pct(lat, 50)), ms(pct(lat, 99)), ms(mx), failed.Load(), shed.Load(),
		dres.qps, 100*nc/wall, 100*ec/wall, 100*bc/wall, 100*dres.cpu/wall, benchproc.LoadAvg())
	if firstErr != nil {
		fmt.Printf("\n(first failure: %v)\n\n", firstErr)
	}
	if dres.lost > 0 || !strings.HasPrefix(dres.rcodes, "NOERROR") {
		fmt.Printf("\n(dnsperf: %d lost, response codes %s)\n\n", dres.lost, dres.rcodes)
	}
	return nil
}

// fanOut calls fn(0..n-1) on w goroutines and returns the first error.
func fanOut(ctx context.Context, n, w int, fn func(int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for k := 0; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = fmt.Errorf("%d: %v", i, err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// profile records the nodes' and etcd members' stacks with perf during
// the renewals when -perf is set (perf.data in -perf's directory, one
// file per setup; read with perf report -i FILE --no-children).
func profile(ctx context.Context, o *options, c *cluster, dir string) <-chan struct{} {
	done := make(chan struct{})
	if o.perf == "" {
		close(done)
		return done
	}
	var pids []string
	for _, n := range c.nodes {
		pids = append(pids, fmt.Sprint(n.pid()))
	}
	if c.etcd != nil {
		for _, m := range c.etcd.members {
			pids = append(pids, fmt.Sprint(m.pid()))
		}
	}
	out := filepath.Join(o.perf, c.name+".perf.data")
	go func() {
		defer close(done)
		if err := os.MkdirAll(o.perf, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "perf record: %v\n", err)
			return
		}
		cmd := exec.CommandContext(ctx, "perf", "record", "-F", "499", "-g", "-o", out, "-p", strings.Join(pids, ","),
			"--", "sleep", fmt.Sprint(int(o.renewFor/time.Second)))
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "perf record: %v\n%s", err, b)
		}
	}()
	return done
}
