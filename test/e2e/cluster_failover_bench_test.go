package e2e

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// TestClusterFailoverTimes measures, as TestFailoverTimes does for one
// node, how long a killed endpoint keeps being answered, with 3 nodes
// voting on etcd and with 1 node alone on the same etcd: a real HTTP
// endpoint on 127.0.0.2 is killed while a client queries each node every
// 50 ms (STRATUS_BENCH_QUERY_MS), and the time from the kill to each
// node's first answer without it is recorded. With 3 nodes an endpoint is
// down once 2 of them see it down, so a node's time is that of the second
// node to notice, plus the vote's way through etcd. It is a benchmark,
// not a test: it runs only with STRATUS_BENCH=1 and reports
// min/median/max over STRATUS_BENCH_RUNS runs (default 10), per node and
// for the last node of each run.
func TestClusterFailoverTimes(t *testing.T) {
	runs := benchOnly(t, 10)
	ec := startEtcdCluster(t)
	for _, n := range []int{1, 3} {
		c := startStratusCluster(t, ec, n, fmt.Sprintf("stratus/bench%d/", n))
		a := c.nodes[0]
		a.mustCLI("zone", "create", "fn.example.com", "--ns", "ns1.example.net.")
		backup := startHTTP(t, "127.0.0.3:0")
		_, port, _ := net.SplitHostPort(backup.Addr)
		svc := fmt.Sprintf(`{"name":"api.fn.example.com","ttl":1,"pools":[
			{"name":"primary","priority":1,"check":{"type":"http","port":%s,"interval":"1s","fall":2,"rise":2}},
			{"name":"backup","priority":2,"check":{"type":"http","port":%s,"interval":"1s"}}]}`, port, port)
		if st, body := a.api("POST", "/v1/services", svc); st != 201 {
			t.Fatalf("create service: %d %s", st, body)
		}
		a.api("PUT", "/v1/services/api.fn.example.com/endpoints/b1", `{"pool":"backup","address":"127.0.0.3"}`)
		for _, keepAlive := range []bool{true, false} {
			perNode := make([][]time.Duration, n)
			var last []time.Duration
			for run := range runs {
				primary := startHTTPOn(t, "127.0.0.2:"+port)
				primary.srv.SetKeepAlivesEnabled(keepAlive)
				a.api("PUT", "/v1/services/api.fn.example.com/endpoints/p1", `{"pool":"primary","address":"127.0.0.2"}`)
				for _, s := range c.nodes {
					waitChecked(t, s, "p1", time.Minute)
					waitAnswer(t, s.dnsAddr, "127.0.0.2", time.Minute)
				}
				time.Sleep(time.Duration(run%10) * 100 * time.Millisecond) // vary the phase against the check interval
				start := time.Now()
				primary.Close()
				got := make([]time.Duration, n)
				var wg sync.WaitGroup
				for i, s := range c.nodes {
					wg.Add(1)
					go func() { defer wg.Done(); got[i] = waitAnswerFrom(t, s.dnsAddr, "127.0.0.3", start, 20*time.Second) }()
				}
				wg.Wait()
				worst := time.Duration(0)
				for i, d := range got {
					perNode[i] = append(perNode[i], d)
					worst = max(worst, d)
				}
				last = append(last, worst)
				a.api("DELETE", "/v1/services/api.fn.example.com/endpoints/p1", "")
				for _, s := range c.nodes {
					waitAnswer(t, s.dnsAddr, "127.0.0.3", time.Minute)
				}
			}
			for i, d := range perNode {
				report(t, fmt.Sprintf("%d node(s), node %d: killed, keep-alive=%v", n, i, keepAlive), d)
			}
			report(t, fmt.Sprintf("%d node(s), every node: killed, keep-alive=%v", n, keepAlive), last)
		}
		backup.Close()
		for _, s := range c.nodes {
			s.stop()
		}
	}
}
