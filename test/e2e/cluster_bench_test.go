package e2e

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestClusterConvergenceBench measures, over a few hundred writes, how
// long a record written through node A's API takes to be answered by
// nodes B and C (from the moment the request is sent until both answer
// the new address), next to the time A takes to acknowledge the write
// and the time from the acknowledgement to both answers.
// Three etcd members and three nodes on loopback, binaries built without
// the race detector. A benchmark: it runs only with STRATUS_BENCH=1
// (STRATUS_BENCH_RUNS sets the number of writes, 300 by default).
func TestClusterConvergenceBench(t *testing.T) {
	runs := benchOnly(t, 300)
	bin := optimizedBinary(t)
	// The nodes are asked for the name every 200 µs from loopback:
	// far over the DNS rate limit, so loopback is exempt.
	c := startStratusClusterTTL(t, bin, startEtcdCluster(t), repeat("stratus/bench/", 3), 0, rrlExemptLoopback)
	a, others := c.nodes[0], c.nodes[1:]
	const zone, name = "conv.test.", "www.conv.test."
	c.createZone(a, zone)

	var ack, conv, after []time.Duration
	for i := range runs {
		addr := fmt.Sprintf("10.1.%d.%d", i/256, i%256)
		start := time.Now()
		var wg sync.WaitGroup
		seen := make([]time.Duration, len(others))
		for j, s := range others {
			wg.Add(1)
			go func() {
				defer wg.Done()
				deadline := start.Add(time.Minute)
				for time.Now().Before(deadline) {
					if got, err := answerA(s.dnsAddr, name); err == nil && len(got) == 1 && got[0] == addr {
						seen[j] = time.Since(start)
						return
					}
					time.Sleep(200 * time.Microsecond)
				}
			}()
		}
		st, b, err := putA(c.token, a.apiAddr, zone, name, addr)
		if err != nil || st != 200 {
			t.Fatalf("write %d: %d %v %s", i, st, err, b)
		}
		acked := time.Since(start)
		ack = append(ack, acked)
		wg.Wait()
		for j, d := range seen {
			if d == 0 {
				t.Fatalf("write %d: node %c did not answer %s within a minute", i, 'B'+j, addr)
			}
		}
		conv = append(conv, slices.Max(seen))
		after = append(after, max(0, slices.Max(seen)-acked))
	}
	slices.Sort(ack)
	slices.Sort(conv)
	slices.Sort(after)
	pct := func(d []time.Duration, p float64) time.Duration { return d[min(len(d)-1, int(float64(len(d))*p))] }
	t.Logf("%d writes through node A: acknowledged p50 %v p99 %v; answered at B and C p50 %v p99 %v max %v; after the acknowledgement p50 %v p99 %v",
		runs, pct(ack, 0.50).Round(10*time.Microsecond), pct(ack, 0.99).Round(10*time.Microsecond),
		pct(conv, 0.50).Round(10*time.Microsecond), pct(conv, 0.99).Round(10*time.Microsecond), conv[len(conv)-1].Round(10*time.Microsecond),
		pct(after, 0.50).Round(10*time.Microsecond), pct(after, 0.99).Round(10*time.Microsecond))
}
