package e2e

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratusdns/stratus/internal/testutil"
	"github.com/stratusdns/stratus/pkg/apiv1"
)

// A test that cuts a node off runs as a copy of this test binary in a
// network namespace of its own (unshare --net, as the README test does):
// the "hub", where etcd, the endpoints and the other nodes run. The node
// to cut off runs in a second namespace the copy creates (ip netns add),
// joined to the hub by a veth pair; every address the test gives out is
// inside these two namespaces, and nothing leaves them. nftables in the
// second namespace drops what the test says.
const (
	netnsEnv  = "STRATUS_E2E_NETNS" // set in the copy: the name of its second namespace
	binaryEnv = "STRATUS_E2E_BINARY"
)

// The addresses inside the namespaces: the veth pair's ends, and the
// endpoints (on the hub's loopback, routed to over the veth from the
// other side).
const (
	hubAddr  = "10.203.0.1"
	isoAddr  = "10.203.0.2"
	endpoint = "10.203.1."
)

// inHub runs the calling test as a copy of itself in a network namespace
// of its own and reports whether the caller is that copy (and should go
// on) or the original (whose work is done: it reports the copy's
// outcome). The copy gets the name of a second namespace it may create.
func inHub(t *testing.T) (iso string, copy bool) {
	t.Helper()
	if name := os.Getenv(netnsEnv); name != "" {
		return name, true
	}
	unshare := testutil.Tool(t, "unshare")
	testutil.Tool(t, "ip")
	testutil.Tool(t, "nft")
	if os.Geteuid() != 0 {
		if os.Getenv(testutil.RequireToolsEnv) == "1" {
			t.Fatal("this test makes network namespaces and nftables rules: it must run as root")
		}
		t.Skip("skipping: making network namespaces and nftables rules takes root")
	}
	name := fmt.Sprintf("stratus-e2e-%d", rand.IntN(1_000_000))
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() }) // when the copy could not
	args := []string{"--net", "--", os.Args[0], "-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(d).Round(time.Second).String())
	}
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+name, binaryEnv+"="+binary)
	out, err := cmd.CombinedOutput()
	t.Logf("in the namespace:\n%s", out)
	if err != nil {
		t.Fatalf("the test failed in its namespace: %v", err)
	}
	return "", false
}

// run runs a command and fails the test when it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// wireNamespaces sets up the hub (this process's namespace) and the
// namespace iso: loopback up in both, a veth pair hubAddr <-> isoAddr,
// the endpoints' addresses n on the hub's loopback, routed to from iso.
func wireNamespaces(t *testing.T, iso string, endpoints ...int) {
	t.Helper()
	run(t, "ip", "link", "set", "lo", "up")
	run(t, "ip", "netns", "add", iso)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", iso).Run() })
	run(t, "ip", "-n", iso, "link", "set", "lo", "up")
	run(t, "ip", "link", "add", "vhub", "type", "veth", "peer", "name", "viso", "netns", iso)
	run(t, "ip", "addr", "add", hubAddr+"/24", "dev", "vhub")
	run(t, "ip", "link", "set", "vhub", "up")
	run(t, "ip", "-n", iso, "addr", "add", isoAddr+"/24", "dev", "viso")
	run(t, "ip", "-n", iso, "link", "set", "viso", "up")
	for _, n := range endpoints {
		run(t, "ip", "addr", "add", fmt.Sprintf("%s%d/32", endpoint, n), "dev", "lo")
	}
	run(t, "ip", "-n", iso, "route", "add", endpoint+"0/24", "via", hubAddr)
}

// launchIn starts stratus serve in namespace ns, listening on host, with
// the admin token of token and the audit key auditKey (copied into its
// data directory), and waits until it answers.
func launchIn(t *testing.T, ns, host, token string, auditKey []byte, extra ...string) *server {
	t.Helper()
	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "admin.token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "audit.key"), auditKey, 0o600); err != nil {
		t.Fatal(err)
	}
	// The namespace's address is not loopback: plain HTTP must be asked
	// for.
	s := launchVia(t, []string{"ip", "netns", "exec", ns}, host, binary, dataDir, append([]string{"--api-insecure-http"}, extra...)...)
	if err := s.waitReady(); err != nil {
		t.Fatal(err)
	}
	return s
}

// events returns the health events node s shows.
func (c *stratusCluster) events(s *server) []apiv1.Event {
	c.t.Helper()
	var l apiv1.EventList
	if err := json.Unmarshal([]byte(c.mustAPI(s, 200, "GET", "/v1/events", "")), &l); err != nil {
		c.t.Fatal(err)
	}
	return l.Events
}

// waitNodeEvent waits until node s shows an event about a node (its own
// name when self) whose reason contains text.
func (c *stratusCluster) waitNodeEvent(s *server, text string) apiv1.Event {
	c.t.Helper()
	var found apiv1.Event
	waitUntil(c.t, s.apiAddr+" logs "+text, time.Minute, func() (bool, string) {
		var seen []string
		for _, ev := range c.events(s) {
			if ev.Node != "" && strings.Contains(ev.Reason, text) {
				found = ev
				return true, ""
			}
			seen = append(seen, ev.Node+ev.Endpoint+": "+ev.Reason)
		}
		return false, strings.Join(seen, "; ")
	})
	return found
}

// TestClusterIsolatedNodeIgnored: of three nodes, one is cut off from the
// endpoints (nftables in its namespace drops its probes) while it still
// reaches etcd. It sees every endpoint down; no node's answers change, and
// the node says it is ignored, then that it counts again when its probes
// pass again.
func TestClusterIsolatedNodeIgnored(t *testing.T) {
	iso, ok := inHub(t)
	if !ok {
		return
	}
	wireNamespaces(t, iso, 2, 3)
	ec := startEtcdClusterAt(t, hubAddr)
	c := startStratusCluster(t, ec, 2, "stratus/cluster/")
	cfg := etcdConfig(t, strings.Join(ec.endpoints(), ", "), "stratus/cluster/")
	cnode := launchIn(t, iso, isoAddr, c.token, c.auditKey, "--config", cfg)
	c.nodes = append(c.nodes, cnode)

	primary := startHTTP(t, endpoint+"2:0")
	port := primary.Addr[strings.LastIndex(primary.Addr, ":")+1:]
	backup := startHTTPOn(t, endpoint+"3:"+port)
	defer backup.Close()
	defer primary.Close()
	check := fmt.Sprintf(`{"type":"http","port":%s,"interval":"1s","fall":2,"rise":2,"timeout":"500ms"}`, port)
	c.clusterService(c.nodes[0], `{"name":"primary","priority":1,"check":`+check+`},{"name":"backup","priority":2,"check":`+check+`}`,
		"p1 primary "+endpoint+"2", "b1 backup "+endpoint+"3")
	want := endpoint + "2"
	c.waitAnswers(want, c.nodes...)
	for _, id := range []string{"p1", "b1"} {
		waitUntil(t, "C has every node's vote on "+id, time.Minute, func() (bool, string) {
			h := c.endpointHealth(cnode, id)
			return strings.HasPrefix(h.View, "3 of 3 nodes see it up"), fmt.Sprintf("%+v", h)
		})
	}

	// Every node's answers, every 50 ms, from before the cut until C has
	// said it is ignored (or the test stops short of that).
	stop := make(chan struct{})
	var mu sync.Mutex
	var flips []string
	var wg sync.WaitGroup
	var once sync.Once
	checkFlips := func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			if len(flips) > 0 {
				t.Errorf("answers changed while one node was cut off from the endpoints: %s", strings.Join(flips, "; "))
			}
		})
	}
	defer checkFlips()
	for i, s := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				got, err := answerA(s.dnsAddr, "api.fn.cluster.test.")
				if err == nil && strings.Join(got, ",") != want {
					mu.Lock()
					flips = append(flips, fmt.Sprintf("node %d answered %v at %s", i, got, time.Now().Format("15:04:05.000")))
					mu.Unlock()
				}
			}
		}()
	}

	cut := exec.Command("ip", "netns", "exec", iso, "nft", "-f", "-")
	cut.Stdin = strings.NewReader("table inet stratus_e2e {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip daddr " + endpoint + "0/24 drop\n }\n}\n")
	if out, err := cut.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v: %s", iso, err, out)
	}
	self := c.waitNodeEvent(cnode, "this node sees every endpoint down (2 of 2) while the other nodes see them up; its votes are ignored")
	for _, s := range c.nodes[:2] {
		if ev := c.waitNodeEvent(s, "sees every endpoint down"); ev.Node != self.Node || ev.Actor != "quorum" {
			t.Errorf("%s logged %+v; want node %s, actor quorum", s.apiAddr, ev, self.Node)
		}
	}
	// C's own checks did find the endpoints down, and C answers as the
	// others see them.
	for _, id := range []string{"p1", "b1"} {
		if h := c.endpointHealth(cnode, id); h.State != "up" || !strings.HasPrefix(h.View, "2 of 2 nodes see it up") || h.LastError == "" {
			t.Errorf("C's health of %s: %+v; want up by the others' view, with its own failed probe", id, h)
		}
	}
	checkFlips()

	run(t, "ip", "netns", "exec", iso, "nft", "delete", "table", "inet", "stratus_e2e")
	c.waitNodeEvent(cnode, "this node sees the endpoints as the other nodes do again")
	c.waitAnswers(want, c.nodes...)
}
