package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// TestClusterLeaseAnyNode: an endpoint registered with a short lease
// through node A and renewed through B and C, in turn, stays answered by
// all three nodes while it is renewed, and leaves the answers of all
// three once its lease lapses without renewal; then every node's reaper
// has it gone from the endpoint list. The renewals come every second
// against a 6s lease, leaving a loaded machine seconds for each; the
// lapse is bounded generously (a minute after the lease ended).
func TestClusterLeaseAnyNode(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 3, "stratus/lease/")
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	const zone, svc = "lease.test.", "fn.lease.test"
	c.createZone(a, zone)
	c.mustAPI(a, 201, "POST", "/v1/services", `{"name":"`+svc+`","policy":"failover","pools":[{"name":"reg","priority":1},{"name":"static","priority":2}]}`)
	c.mustAPI(a, 201, "PUT", "/v1/services/"+svc+"/endpoints/s1", `{"pool":"static","address":"127.0.0.12"}`)
	answers := func(s *server) string {
		got, err := answerA(s.dnsAddr, svc)
		if err != nil {
			return err.Error()
		}
		return strings.Join(got, ",")
	}
	for _, s := range c.nodes {
		waitUntil(t, "the static endpoint answered at "+s.dnsAddr, time.Minute, func() (bool, string) {
			got := answers(s)
			return got == "127.0.0.12", got
		})
	}

	var ep apiv1.Endpoint
	if err := json.Unmarshal([]byte(c.mustAPI(a, 201, "PUT", "/v1/services/"+svc+"/endpoints/l1", `{"pool":"reg","address":"127.0.0.11","ttl":"6s"}`)), &ep); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.nodes {
		waitUntil(t, "l1 answered at "+s.dnsAddr, time.Minute, func() (bool, string) {
			got := answers(s)
			return got == "127.0.0.11", got
		})
	}

	// Renewed through B and C in turn for three leases' time: answered
	// by every node all along.
	end := time.Now().Add(18 * time.Second)
	next := time.Now()
	renewals := 0
	for time.Now().Before(end) {
		if time.Now().After(next) {
			s := []*server{b, cc}[renewals%2]
			if err := json.Unmarshal([]byte(c.mustAPI(s, 200, "POST", "/v1/services/"+svc+"/endpoints/l1/renew", "")), &ep); err != nil {
				t.Fatal(err)
			}
			renewals++
			next = time.Now().Add(time.Second)
		}
		for i, s := range c.nodes {
			if got := answers(s); got != "127.0.0.11" {
				t.Fatalf("after %d renewals through B and C, node %c answers %s, want the renewed l1 127.0.0.11", renewals, 'A'+i, got)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ep.Expires == nil {
		t.Fatalf("renewal returned no expiry: %+v", ep)
	}
	expires := *ep.Expires

	// Not renewed: it leaves the answers of every node once the lease
	// lapses, and is reaped.
	for i, s := range c.nodes {
		waitUntil(t, fmt.Sprintf("l1 gone from node %c's answers", 'A'+i), time.Until(expires)+time.Minute, func() (bool, string) {
			got := answers(s)
			return got == "127.0.0.12", got
		})
		if left := time.Now(); left.Before(expires) {
			t.Errorf("node %c stopped answering l1 at %v, before its lease ended at %v", 'A'+i, left, expires)
		}
		waitUntil(t, fmt.Sprintf("l1 reaped from node %c's endpoint list", 'A'+i), time.Minute, func() (bool, string) {
			b := c.mustAPI(s, 200, "GET", "/v1/services/"+svc+"/endpoints", "")
			return !strings.Contains(b, `"l1"`), b
		})
	}
}
