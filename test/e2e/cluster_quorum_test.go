package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/config"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestClusterQuorumLost: with two of three etcd members killed (SIGKILL)
// the cluster has no quorum. Both Stratus nodes keep answering DNS from
// their snapshot, a write through either node fails with 503 naming the
// unreachable store (bounded by the request timeout, not a hang), and
// GET /v1/status says degraded. Once the two members are started again
// on their data directories and ports, a write succeeds, both nodes
// answer it and neither is degraded.
func TestClusterQuorumLost(t *testing.T) {
	ec := startEtcdCluster(t)
	c := startStratusCluster(t, ec, 2, "stratus/quorum/")
	const zone = "lost.test."
	c.createZone(c.nodes[0], zone)
	if st, b, err := putA(c.token, c.nodes[0].apiAddr, zone, "www."+zone, "192.0.2.1"); err != nil || st != 200 {
		t.Fatalf("PUT www.%s A: %d %v %s", zone, st, err, b)
	}
	for _, s := range c.nodes {
		waitUntil(t, "www."+zone+" A at "+s.dnsAddr, time.Minute, func() (bool, string) {
			got := digA(t, s, "www."+zone)
			return got == "192.0.2.1", fmt.Sprintf("%q", got)
		})
	}

	victims := ec.members[1:]
	for _, m := range victims {
		m.kill9()
	}
	t.Logf("killed etcd %s and %s", victims[0].name, victims[1].name)

	// (1) DNS keeps answering from the snapshot.
	for i := range 10 {
		for _, s := range c.nodes {
			if got := digA(t, s, "www."+zone); got != "192.0.2.1" {
				t.Fatalf("query %d: www.%s A at %s = %q without quorum, want 192.0.2.1", i, zone, s.dnsAddr, got)
			}
		}
		time.Sleep(300 * time.Millisecond)
	}

	// (2) A write fails with 503 within the request timeout, not a hang.
	hc := &http.Client{Timeout: config.DefaultEtcdRequestTimeout + 10*time.Second}
	for _, s := range c.nodes {
		req, err := http.NewRequest("PUT", "http://"+s.apiAddr+"/v1/zones/"+zone+"/rrsets/www."+zone+"/A",
			strings.NewReader(`{"ttl":60,"records":["192.0.2.2"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		start := time.Now()
		res, err := hc.Do(req)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("write through %s without quorum: %v after %v", s.apiAddr, err, took)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("write through %s without quorum: %d after %v: %s", s.apiAddr, res.StatusCode, took.Round(time.Millisecond), strings.TrimSpace(string(body)))
		if res.StatusCode != 503 || !strings.Contains(string(body), "the store is unreachable") || !strings.Contains(string(body), "retry") {
			t.Fatalf("write through %s without quorum: %d %s, want 503 naming the unreachable store", s.apiAddr, res.StatusCode, body)
		}
	}

	// (3) Both nodes say degraded.
	for _, s := range c.nodes {
		waitStatusDegraded(t, c, s, true)
	}

	// (4) With the members back, a write succeeds and is answered at both.
	for _, m := range victims {
		m.restart(t)
	}
	waitUntil(t, "a write through node A after the restart", time.Minute, func() (bool, string) {
		st, b, err := putA(c.token, c.nodes[0].apiAddr, zone, "www."+zone, "192.0.2.3")
		if err == nil && st != 200 && st != 503 {
			t.Fatalf("write after the restart: %d %s", st, b)
		}
		return err == nil && st == 200, fmt.Sprintf("%d %v %.120s", st, err, b)
	})
	for _, s := range c.nodes {
		waitUntil(t, "www."+zone+" A = 192.0.2.3 at "+s.dnsAddr, time.Minute, func() (bool, string) {
			got := digA(t, s, "www."+zone)
			return got == "192.0.2.3", fmt.Sprintf("%q", got)
		})
		waitStatusDegraded(t, c, s, false)
	}
}

// waitStatusDegraded waits until node s's GET /v1/status says degraded
// (want) or not.
func waitStatusDegraded(t *testing.T, c *stratusCluster, s *server, want bool) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("status of %s degraded=%v", s.apiAddr, want), time.Minute, func() (bool, string) {
		st, b, err := apiDo(c.token, s.apiAddr, "GET", "/v1/status", "")
		var status apiv1.Status
		if err != nil || st != 200 || json.Unmarshal([]byte(b), &status) != nil {
			return false, fmt.Sprintf("%d %v %.200s", st, err, b)
		}
		return status.Degraded == want && status.Store.Reachable == !want, fmt.Sprintf("%.200s", b)
	})
}

// TestClusterEtcdStopped: with every etcd member killed (SIGKILL), each
// of three Stratus nodes keeps answering DNS from its snapshot, a write
// through any node answers 503 naming the unreachable store, and every
// node's status says degraded. Once the members are started again on
// their data directories, with nothing done to the Stratus nodes, a
// write through each node succeeds and is answered by every node, all
// at the same SOA serial, and no node is degraded.
func TestClusterEtcdStopped(t *testing.T) {
	ec := startEtcdCluster(t)
	c := startStratusCluster(t, ec, 3, "stratus/stopped/")
	const zone = "stopped.test."
	c.createZone(c.nodes[0], zone)
	if st, b, err := putA(c.token, c.nodes[0].apiAddr, zone, "www."+zone, "192.0.2.1"); err != nil || st != 200 {
		t.Fatalf("PUT www.%s A: %d %v %s", zone, st, err, b)
	}
	c.waitSameSerial(zone, c.zoneSerial(c.nodes[0], zone), c.nodes)

	for _, m := range ec.members {
		m.kill9()
	}
	t.Log("killed every etcd member")

	// DNS keeps answering from each node's snapshot.
	for i := range 5 {
		for _, s := range c.nodes {
			if got := digA(t, s, "www."+zone); got != "192.0.2.1" {
				t.Fatalf("query %d: www.%s A at %s = %q with etcd stopped, want 192.0.2.1", i, zone, s.dnsAddr, got)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Writes answer 503 (through the nodes at once: each waits out the
	// request timeout).
	hc := &http.Client{Timeout: 2*config.DefaultEtcdRequestTimeout + 20*time.Second}
	errs := make(chan string, len(c.nodes))
	for _, s := range c.nodes {
		go func() {
			st, b, err := apiDoWith(hc, c.token, s.apiAddr, "PUT", "/v1/zones/"+zone+"/rrsets/www."+zone+"/A", `{"ttl":60,"records":["192.0.2.2"]}`)
			if err != nil || st != 503 || !strings.Contains(b, "the store is unreachable") {
				errs <- fmt.Sprintf("write through %s with etcd stopped: %d %v %s, want 503 naming the unreachable store", s.apiAddr, st, err, b)
				return
			}
			errs <- ""
		}()
	}
	for range c.nodes {
		if e := <-errs; e != "" {
			t.Error(e)
		}
	}
	for _, s := range c.nodes {
		waitStatusDegraded(t, c, s, true)
		if got := digA(t, s, "www."+zone); got != "192.0.2.1" {
			t.Errorf("www.%s A at %s = %q after the refused writes, want 192.0.2.1", zone, s.dnsAddr, got)
		}
	}

	// The members come back on their data: every node converges by itself.
	for _, m := range ec.members {
		m.restart(t)
	}
	for i, s := range c.nodes {
		name := fmt.Sprintf("n%d.%s", i, zone)
		waitUntil(t, "a write through "+s.apiAddr+" after etcd restarted", time.Minute, func() (bool, string) {
			st, b, err := putA(c.token, s.apiAddr, zone, name, fmt.Sprintf("192.0.2.%d", 10+i))
			if err == nil && st != 200 && st != 503 {
				t.Fatalf("write through %s after etcd restarted: %d %s", s.apiAddr, st, b)
			}
			return err == nil && st == 200, fmt.Sprintf("%d %v %.120s", st, err, b)
		})
	}
	for _, s := range c.nodes {
		for i := range c.nodes {
			name, want := fmt.Sprintf("n%d.%s", i, zone), fmt.Sprintf("192.0.2.%d", 10+i)
			waitUntil(t, name+" A at "+s.dnsAddr, time.Minute, func() (bool, string) {
				got := digA(t, s, name)
				return got == want, fmt.Sprintf("%q", got)
			})
		}
		waitStatusDegraded(t, c, s, false)
	}
	c.waitSameSerial(zone, c.zoneSerial(c.nodes[0], zone), c.nodes)
}
