package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// committedRe matches the etcd engine's debug line for one committed
// Update and takes the times its transaction ran again.
var committedRe = regexp.MustCompile(`msg="store/etcd: update committed" revision=\d+ reruns=(\d+)`)

// reruns sums the re-runs over the committed Updates in a node's log from
// offset from on, and returns the Updates counted.
func reruns(log string, from int) (updates, reruns int) {
	for _, m := range committedRe.FindAllStringSubmatch(log[from:], -1) {
		n, _ := strconv.Atoi(m[1])
		updates++
		reruns += n
	}
	return updates, reruns
}

// TestClusterWriteContentionBench measures acknowledged-write latency
// when many writers write to one zone through three nodes at once: 50,
// then 200 writers, spread evenly over the nodes, each writing its own
// names one after the other. It reports p50, p99 and max of the time a
// node took to acknowledge a write, and the store transactions' re-runs
// per committed Update (from the nodes' debug logs: an optimistic
// transaction runs again when another commit changed what it read).
// Three etcd members and three nodes on loopback, binaries built without
// the race detector. A benchmark: it runs only with STRATUS_BENCH=1
// (STRATUS_BENCH_RUNS sets the writes per writer, 4 by default).
func TestClusterWriteContentionBench(t *testing.T) {
	perWriter := benchOnly(t, 4)
	bin := optimizedBinary(t)
	c := startStratusClusterWith(t, bin, startEtcdCluster(t), repeat("stratus/bench/", 3), "--log-level", "debug")
	hc := &http.Client{Timeout: 10 * time.Minute}
	for _, writers := range []int{50, 200} {
		zone := fmt.Sprintf("w%d.test.", writers)
		c.createZone(c.nodes[0], zone)
		c.waitSameSerial(zone, c.zoneSerial(c.nodes[0], zone), c.nodes)
		from := make([]int, len(c.nodes))
		for i, s := range c.nodes {
			from[i] = len(s.logs.String())
		}
		var (
			mu     sync.Mutex
			lat    []time.Duration
			failed []string
			wg     sync.WaitGroup
		)
		start := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := c.nodes[w%len(c.nodes)]
				for i := range perWriter {
					name := fmt.Sprintf("w%d-%d.%s", w, i, zone)
					body := fmt.Sprintf(`{"ttl":60,"records":["10.%d.%d.%d"]}`, w/256, w%256, i)
					t0 := time.Now()
					st, b, err := apiDoWith(hc, c.token, s.apiAddr, "PUT", "/v1/zones/"+zone+"/rrsets/"+name+"/A", body)
					d := time.Since(t0)
					mu.Lock()
					if err != nil || st != 200 {
						failed = append(failed, fmt.Sprintf("%d %v %.80s", st, err, b))
					} else {
						lat = append(lat, d)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		total := time.Since(start)
		if len(failed) > 0 {
			t.Errorf("%d writers: %d writes failed, first: %s", writers, len(failed), failed[0])
		}
		if len(lat) == 0 {
			t.Fatalf("%d writers: no write acknowledged", writers)
		}
		updates, rr := 0, 0
		for i, s := range c.nodes {
			u, r := reruns(s.logs.String(), from[i])
			updates += u
			rr += r
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration {
			return lat[min(len(lat)-1, int(float64(len(lat))*p))].Round(100 * time.Microsecond)
		}
		t.Logf("%d writers over 3 nodes, %d writes to one zone in %v (%.0f/s): acknowledged p50 %v p99 %v max %v; %d Updates committed, re-runs per Update %.2f",
			writers, len(lat), total.Round(time.Millisecond), float64(len(lat))/total.Seconds(), pct(0.50), pct(0.99), lat[len(lat)-1].Round(100*time.Microsecond),
			updates, float64(rr)/float64(max(updates, 1)))
	}
}
