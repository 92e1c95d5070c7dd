package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestClusterWriteAnsweredByEveryNode: a zone created and a record
// written through node A's API are answered by dig at nodes B and C,
// which share A's etcd prefix and learn of the change by watching it.
func TestClusterWriteAnsweredByEveryNode(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 3, "stratus/cluster/")
	a := c.nodes[0]
	c.createZone(a, "multi.test.")
	if st, b, err := putA(c.token, a.apiAddr, "multi.test.", "www.multi.test.", "192.0.2.44"); err != nil || st != 200 {
		t.Fatalf("PUT www.multi.test. A at A: %d %v %s", st, err, b)
	}
	for i, s := range c.nodes[1:] {
		waitUntil(t, fmt.Sprintf("dig www.multi.test. A at node %c", 'B'+i), time.Minute, func() (bool, string) {
			got := digA(t, s, "www.multi.test.")
			return got == "192.0.2.44", fmt.Sprintf("%q", got)
		})
	}
}

// zoneSerial returns the serial of zone as node s's API reports it.
func (c *stratusCluster) zoneSerial(s *server, zone string) uint32 {
	c.t.Helper()
	var z apiv1.Zone
	if err := json.Unmarshal([]byte(c.mustAPI(s, 200, "GET", "/v1/zones/"+zone, "")), &z); err != nil {
		c.t.Fatal(err)
	}
	if z.Serial == nil {
		c.t.Fatalf("zone %s at %s has no serial", zone, s.apiAddr)
	}
	return *z.Serial
}

// waitSameSerial waits until every node answers zone's SOA over DNS with
// serial want.
func (c *stratusCluster) waitSameSerial(zone string, want uint32, nodes []*server) {
	c.t.Helper()
	waitUntil(c.t, fmt.Sprintf("every node's SOA serial of %s at %d", zone, want), time.Minute, func() (bool, string) {
		var got []string
		ok := true
		for _, s := range nodes {
			serial := uint32(0)
			if r, err := exchangeSOA(s.dnsAddr, zone); err == nil {
				serial = r
			}
			ok = ok && serial == want
			got = append(got, fmt.Sprintf("%s=%d", s.dnsAddr, serial))
		}
		return ok, strings.Join(got, " ")
	})
}

// TestClusterEtcdMemberKilled: with one etcd member killed (SIGKILL), a
// follower or the leader, writes through every Stratus node keep
// succeeding and every node converges to the same SOA serial, the one of
// the last write.
func TestClusterEtcdMemberKilled(t *testing.T) {
	for _, killLeader := range []bool{false, true} {
		t.Run(map[bool]string{false: "follower", true: "leader"}[killLeader], func(t *testing.T) {
			ec := startEtcdCluster(t)
			c := startStratusCluster(t, ec, 3, "stratus/cluster/")
			zone := "quorum.test."
			c.createZone(c.nodes[0], zone)
			leader, err := ec.leader()
			if err != nil {
				t.Fatal(err)
			}
			victim := leader
			if !killLeader {
				victim = ec.members[0]
				if victim == leader {
					victim = ec.members[1]
				}
			}
			victim.kill9()
			t.Logf("killed etcd %s (leader was %s)", victim.name, leader.name)
			for i := range 30 {
				s := c.nodes[i%len(c.nodes)]
				name := fmt.Sprintf("w%d.%s", i, zone)
				if st, b, err := putA(c.token, s.apiAddr, zone, name, fmt.Sprintf("192.0.2.%d", i+1)); err != nil || st != 200 {
					t.Fatalf("write %d through %s after the kill: %d %v %s", i, s.apiAddr, st, err, b)
				}
			}
			c.waitSameSerial(zone, c.zoneSerial(c.nodes[0], zone), c.nodes)
			for _, s := range c.nodes {
				if got, err := answerA(s.dnsAddr, "w29."+zone); err != nil || len(got) != 1 || got[0] != "192.0.2.30" {
					t.Errorf("w29.%s A at %s = %v %v, want 192.0.2.30", zone, s.dnsAddr, got, err)
				}
			}
		})
	}
}

// TestClusterWriterKilledLosesNoAckedWrite: 200 writers write to one
// zone through the three nodes; in the middle, the etcd leader is killed
// (SIGKILL), then node A, which takes a third of the writers. Every write
// a node acknowledged (200) is answered afterwards by both surviving
// nodes, both come to the same SOA serial, and that serial counts every
// acknowledged write.
func TestClusterWriterKilledLosesNoAckedWrite(t *testing.T) {
	ec := startEtcdCluster(t)
	c := startStratusCluster(t, ec, 3, "stratus/cluster/")
	a := c.nodes[0]
	const zone = "acked.test."
	c.createZone(a, zone)
	first := c.zoneSerial(a, zone)
	leader, err := ec.leader()
	if err != nil {
		t.Fatal(err)
	}

	const writers, perWriter, killEtcdAfter, killAfter = 200, 3, 100, 250
	var (
		mu       sync.Mutex
		acked    = map[string]string{} // name -> address
		nAcked   atomic.Int64
		refused  = map[string]int{} // why a write was not acknowledged -> count
		killed   = make(chan struct{})
		once     sync.Once
		etcdOnce sync.Once
		wg       sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := c.nodes[w%len(c.nodes)]
			for i := range perWriter {
				name := fmt.Sprintf("w%d-%d.%s", w, i, zone)
				addr := fmt.Sprintf("10.%d.%d.1", w, i)
				st, b, err := putA(c.token, s.apiAddr, zone, name, addr)
				if err != nil || st != 200 {
					why := fmt.Sprintf("%d %.80s", st, b)
					if err != nil {
						why = "error: " + err.Error()
						if ue := (*url.Error)(nil); errors.As(err, &ue) {
							why = "error: " + ue.Err.Error()
						}
					}
					if s == a {
						why = "node A: " + why
					}
					mu.Lock()
					refused[why]++
					mu.Unlock()
					if s == a {
						select {
						case <-killed:
							return // A is gone: its writers stop
						default:
						}
					}
					continue
				}
				mu.Lock()
				acked[name] = addr
				mu.Unlock()
				switch n := nAcked.Add(1); {
				case n >= killAfter:
					once.Do(func() { kill9(a); close(killed) })
				case n >= killEtcdAfter:
					etcdOnce.Do(func() { leader.kill9(); t.Logf("killed etcd leader %s after %d acknowledged writes", leader.name, n) })
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("only %d writes acknowledged, node A never killed", nAcked.Load())
	}
	t.Logf("%d writes acknowledged; not acknowledged: %v", len(acked), refused)
	names := make([]string, 0, len(acked))
	for n := range acked {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, s := range c.nodes[1:] {
		waitUntil(t, "every acknowledged write answered at "+s.dnsAddr, time.Minute, func() (bool, string) {
			var missing []string
			for _, n := range names {
				got, err := answerA(s.dnsAddr, n)
				if err != nil || len(got) != 1 || got[0] != acked[n] {
					missing = append(missing, fmt.Sprintf("%s=%v(want %s)", n, got, acked[n]))
				}
			}
			if len(missing) > 5 {
				missing = append(missing[:5], fmt.Sprintf("and %d more", len(missing)-5))
			}
			return len(missing) == 0, strings.Join(missing, " ")
		})
	}
	last := c.zoneSerial(c.nodes[1], zone)
	c.waitSameSerial(zone, last, c.nodes[1:])
	if int(last-first) < len(acked) {
		t.Errorf("serial went from %d to %d, fewer steps than the %d acknowledged writes", first, last, len(acked))
	}
}
