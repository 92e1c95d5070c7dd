package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stratusdns/stratus/pkg/apiv1"
)

// clusterService creates zone fn.cluster.test and, in it, service
// api.fn.cluster.test through node a, with pools in priority order
// (each pool's JSON) and the endpoints given as "id pool address".
func (c *stratusCluster) clusterService(a *server, pools string, endpoints ...string) {
	c.t.Helper()
	c.createZone(a, "fn.cluster.test.")
	c.mustAPI(a, 201, "POST", "/v1/services", `{"name":"api.fn.cluster.test","ttl":1,"pools":[`+pools+`]}`)
	for _, e := range endpoints {
		f := strings.Fields(e)
		c.mustAPI(a, 201, "PUT", "/v1/services/api.fn.cluster.test/endpoints/"+f[0], fmt.Sprintf(`{"pool":%q,"address":%q}`, f[1], f[2]))
	}
}

// waitAnswers waits until every node answers api.fn.cluster.test A with
// exactly want (addresses joined by ",").
func (c *stratusCluster) waitAnswers(want string, nodes ...*server) {
	c.t.Helper()
	for i, s := range nodes {
		waitUntil(c.t, fmt.Sprintf("node %d answers %s", i, want), time.Minute, func() (bool, string) {
			got, err := answerA(s.dnsAddr, "api.fn.cluster.test.")
			return err == nil && strings.Join(got, ",") == want, fmt.Sprintf("%v %v", got, err)
		})
	}
}

// endpointHealth returns endpoint id's health as node s's API shows it.
func (c *stratusCluster) endpointHealth(s *server, id string) apiv1.EndpointHealth {
	c.t.Helper()
	var e apiv1.Endpoint
	if err := json.Unmarshal([]byte(c.mustAPI(s, 200, "GET", "/v1/services/api.fn.cluster.test/endpoints/"+id, "")), &e); err != nil {
		c.t.Fatal(err)
	}
	if e.Health == nil {
		return apiv1.EndpointHealth{}
	}
	return *e.Health
}

// TestClusterEndpointKilledEveryNodeFailsOver: three nodes check one
// endpoint; when its process is killed every node sees it down, the
// majority holds, and every node answers the backup; each says whose view
// that is.
func TestClusterEndpointKilledEveryNodeFailsOver(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 3, "stratus/cluster/")
	a := c.nodes[0]
	primary := startHTTP(t, "127.0.0.2:0")
	_, port, _ := net.SplitHostPort(primary.Addr)
	backup := startHTTPOn(t, "127.0.0.3:"+port)
	defer backup.Close()
	check := fmt.Sprintf(`{"type":"http","port":%s,"interval":"1s","fall":2,"rise":2}`, port)
	c.clusterService(a, `{"name":"primary","priority":1,"check":`+check+`},{"name":"backup","priority":2,"check":`+check+`}`,
		"p1 primary 127.0.0.2", "b1 backup 127.0.0.3")
	c.waitAnswers("127.0.0.2", c.nodes...)
	for i, s := range c.nodes {
		waitUntil(t, fmt.Sprintf("node %d has every node's vote", i), time.Minute, func() (bool, string) {
			h := c.endpointHealth(s, "p1")
			return strings.HasPrefix(h.View, "3 of 3 nodes see it up"), h.View
		})
	}

	primary.Close()
	c.waitAnswers("127.0.0.3", c.nodes...)
	for i, s := range c.nodes {
		waitUntil(t, fmt.Sprintf("node %d shows p1 down by the cluster's view", i), time.Minute, func() (bool, string) {
			h := c.endpointHealth(s, "p1")
			return h.State == "down" && strings.HasSuffix(strings.SplitN(h.View, " (", 2)[0], "nodes see it down"), fmt.Sprintf("%+v", h)
		})
	}
}

// TestClusterPushCountsOnEveryNode: a push report sent to node A changes
// the answers of B and C, which were sent nothing; a later report through
// B replaces it everywhere.
func TestClusterPushCountsOnEveryNode(t *testing.T) {
	c := startStratusCluster(t, startEtcdCluster(t), 3, "stratus/cluster/")
	a, b := c.nodes[0], c.nodes[1]
	c.clusterService(a, `{"name":"pushed","priority":1,"check":{"type":"push","push_ttl":"1h"}},{"name":"backup","priority":2}`,
		"p1 pushed 127.0.0.13", "b1 backup 127.0.0.14")
	c.mustAPI(a, 200, "POST", "/v1/services/api.fn.cluster.test/endpoints/p1/health", `{"up":true}`)
	c.waitAnswers("127.0.0.13", c.nodes...)

	c.mustAPI(a, 200, "POST", "/v1/services/api.fn.cluster.test/endpoints/p1/health", `{"up":false,"reason":"draining"}`)
	c.waitAnswers("127.0.0.14", c.nodes...)
	if h := c.endpointHealth(c.nodes[2], "p1"); !strings.HasPrefix(h.View, "latest push report taken by node ") {
		t.Errorf("C's view of p1: %+v", h)
	}

	c.mustAPI(b, 200, "POST", "/v1/services/api.fn.cluster.test/endpoints/p1/health", `{"up":true}`)
	c.waitAnswers("127.0.0.13", c.nodes...)
}
